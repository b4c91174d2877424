"""Printing sympy equations into the bodies of numba kernels, so that each cell does only the work it needs.

The per-cell kernels (:mod:`memspice.solver.state_kernels`) evaluate a compact model's current, state
equation and their derivatives millions of times per transient.  sympy's common-subexpression elimination
(``sympy.cse``) alone wastes much of that time:

* it hoists the subexpressions of **every** branch of a piecewise expression ``(A if c else B)`` into
  temporaries computed before the choice, so both branches run: a softplus evaluates exp(z), exp(-z) and
  two logarithms where one exp and one log suffice;
* subexpressions of the parameters alone (``log(rectification_ratio)/v_read``, ``1/r_on``,
  ``exp(v_lin ...)``) are recomputed per cell and per call.

This module prints the same expressions without that waste, for any model:

* :func:`hoist_constants` replaces every largest subexpression free of the cell variables (for a sum or
  product: the part of its terms or factors that is) by a constant symbol ``_k<n>``; a kernel computes them
  once per call (:func:`constants_body`) and passes them to the per-cell functions;
* :func:`schedule` runs ``sympy.cse`` once over all outputs, lifts each top-level ``Piecewise`` into an
  ``if``/``elif``/``else`` statement (piecewise expressions with the same conditions share one statement:
  the current and its derivative branch together), and moves every temporary that only one branch of one
  statement uses into that branch, so only the chosen branch's work runs;
* :meth:`Schedule.split` divides the statements into those free of a variable (the per-cell Newton on the
  state computes them once per cell) and the rest.

The values are those of the plain printing up to rounding: the same expression tree, evaluated in the same
floating-point operations except for the order of some products and sums of parameters.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import sympy as sp

INDENT = "    "


def hoist_constants(exprs, variables, prefix: str = "_k"):
    """(constants [(symbol, expr)], exprs with them substituted): the subexpressions free of ``variables``.

    A constant is a largest non-atomic subexpression (``sympy.Expr``, not a relation) whose free symbols
    exclude every one of ``variables``; in a sum or a product, the terms or factors free of them are
    gathered into one constant (``2 p x`` gives ``_k0 x`` with ``_k0 = 2 p``).  Parameters alone and numbers
    stay as they are.
    """
    variables = set(variables)
    table: dict = {}
    names = sp.numbered_symbols(prefix)

    def constant(e):
        if e not in table:
            table[e] = next(names)
        return table[e]

    def fixed(e) -> bool:
        return not (e.free_symbols & variables)

    def walk(e):
        if e.is_Atom:
            return e
        if isinstance(e, sp.Expr) and fixed(e):
            return constant(e)
        if isinstance(e, (sp.Add, sp.Mul)):
            still = [a for a in e.args if fixed(a)]
            moving = [walk(a) for a in e.args if not fixed(a)]
            if len(still) > 1 or (still and not still[0].is_Atom):
                still = [constant(e.func(*still))]
            return e.func(*still, *moving)
        return e.func(*[walk(a) for a in e.args])

    out = [walk(sp.sympify(e)) for e in exprs]
    return [(sym, e) for e, sym in table.items()], out


@dataclass
class _Let:
    """``target = expr``."""

    target: sp.Symbol
    expr: object
    index: int = 0
    home: tuple | None = None  # (group index, branch index) when only that branch uses it


@dataclass
class _Choice:
    """``target = Piecewise(...)`` printed as a statement."""

    target: sp.Symbol
    piecewise: sp.Piecewise
    index: int = 0
    group: int = -1

    @property
    def conditions(self) -> tuple:
        return tuple(c for _, c in self.piecewise.args)


@dataclass
class _Unit:
    """A schedulable piece: one outer :class:`_Let` or one group of :class:`_Choice` sharing conditions."""

    first: int
    lets: list = field(default_factory=list)
    choices: list = field(default_factory=list)
    inner: list = field(default_factory=list)  # lets homed in the group's branches
    defines: set = field(default_factory=set)
    uses: set = field(default_factory=set)


def _free(e) -> set:
    return set(getattr(e, "free_symbols", ()))


@dataclass
class Schedule:
    """Statements computing named outputs (see :func:`schedule`)."""

    units: list
    outputs: list  # [(name, expr)]

    def split(self, variable) -> tuple[Schedule, Schedule, list]:
        """(statements free of ``variable``, the rest with the outputs, symbols the rest needs from the first)."""
        moving = {variable}
        first, rest = [], []
        for unit in self.units:
            if unit.uses & moving:
                moving |= unit.defines
                rest.append(unit)
            else:
                first.append(unit)
        defined_first = set().union(*(u.defines for u in first)) if first else set()
        needed = set().union(*(u.uses for u in rest)) if rest else set()
        for _, e in self.outputs:
            needed |= _free(e)
        shared = sorted(defined_first & needed, key=lambda s: s.name)
        return Schedule(first, []), Schedule(rest, self.outputs), shared

    def uses(self) -> set:
        """Every symbol the statements and outputs read that they do not define."""
        used, defined = set(), set()
        for unit in self.units:
            used |= unit.uses
            defined |= unit.defines
        for _, e in self.outputs:
            used |= _free(e)
        return used - defined

    def lines(self, printer, depth: int = 1) -> list[str]:
        """The statements and output assignments as indented source lines."""
        pad = INDENT * depth
        out: list[str] = []
        for unit in self.units:
            if unit.lets:
                out += [f"{pad}{printer.doprint(let.target)} = {printer.doprint(let.expr)}" for let in unit.lets]
                continue
            conditions = unit.choices[0].conditions
            for j, cond in enumerate(conditions):
                if cond == sp.true:
                    head = "else:" if j else "if True:"
                else:
                    head = f"{'elif' if j else 'if'} {printer.doprint(cond)}:"
                out.append(pad + head)
                body = [(let.index, let.target, let.expr) for let in unit.inner if let.home[1] == j]
                body += [(c.index, c.target, c.piecewise.args[j].expr) for c in unit.choices]
                for _, target, value in sorted(body, key=lambda item: item[0]):  # statement order
                    out.append(f"{pad}{INDENT}{printer.doprint(target)} = {printer.doprint(value)}")
            if conditions[-1] != sp.true:  # no final otherwise: nan, as numpy's select gives
                out.append(pad + "else:")
                out += [f"{pad}{INDENT}{printer.doprint(c.target)} = math.nan" for c in unit.choices]
        out += [f"{pad}{name} = {printer.doprint(e)}" for name, e in self.outputs]
        return out


def schedule(exprs, names, given=()) -> Schedule:
    """Statements computing ``exprs`` as the variables ``names``, branch by branch (module docstring).

    ``given``: [(symbol, expr)] that ``exprs`` use, computed as statements too (with the outputs' common
    subexpressions); :func:`hoist_constants` with the state as variable makes them from a state equation,
    so that :meth:`Schedule.split` moves all the state-free work out of the per-cell Newton loop.
    """
    given = list(given)
    temps, reduced = sp.cse([e for _, e in given] + list(exprs), symbols=sp.numbered_symbols("_t"))
    lifted: dict = {}
    fresh = sp.numbered_symbols("_w")
    statements: list = []

    def lift(e):
        if isinstance(e, sp.Piecewise):
            if e not in lifted:
                lifted[e] = next(fresh)
                statements.append(_Choice(lifted[e], e))
            return lifted[e]
        if e.is_Atom or not e.has(sp.Piecewise):
            return e
        return e.func(*[lift(a) for a in e.args])

    for sym, e in temps:
        if isinstance(e, sp.Piecewise) and e not in lifted:
            lifted[e] = sym
            statements.append(_Choice(sym, e))
        else:
            statements.append(_Let(sym, lift(e)))
    for (sym, _), e in zip(given, reduced):
        statements.append(_Let(sym, lift(e)))
    outputs = [(name, lift(e)) for name, e in zip(names, reduced[len(given) :])]
    statements = _topological(statements)
    units = _units(statements, outputs, merge=True)
    if units is None:  # merging choices by condition made a cycle: one statement per piecewise
        units = _units(statements, outputs, merge=False)
    assert units is not None  # a topological order of single statements always exists
    return Schedule(units, outputs)


def _topological(statements) -> list:
    """``statements`` reordered (stably) so that each follows the statements whose targets it reads."""
    pending = list(statements)
    undefined = {st.target for st in pending}
    done: list = []
    while pending:
        for k, st in enumerate(pending):
            if not (_free(st.expr if isinstance(st, _Let) else st.piecewise) & (undefined - {st.target})):
                done.append(pending.pop(k))
                undefined.discard(st.target)
                break
        else:  # pragma: no cover - cse and hoisting never make a cycle
            raise ValueError("cyclic statements")
    return done


def _units(statements, outputs, merge: bool):
    """Group, home and order the statements into :class:`_Unit`; None if the grouping cannot be ordered."""
    keys: dict = {}
    for k, st in enumerate(statements):
        st.index = k
        if isinstance(st, _Choice):
            st.group = keys.setdefault(st.conditions if merge else k, len(keys))
        else:
            st.home = None
    # homes, users before definitions: a let used only in branch j of group g (directly or through lets
    # homed there) is computed inside that branch
    seen: dict = {}  # symbol -> set of places ("outer" or (group, branch))
    for _, e in outputs:
        for s in _free(e):
            seen.setdefault(s, set()).add("outer")
    for st in reversed(statements):
        if isinstance(st, _Choice):
            for j, (value, cond) in enumerate(st.piecewise.args):
                for s in _free(value):
                    seen.setdefault(s, set()).add((st.group, j))
                for s in _free(cond):
                    seen.setdefault(s, set()).add("outer")
        else:
            places = seen.get(st.target, {"outer"})
            st.home = next(iter(places)) if len(places) == 1 and places != {"outer"} else None
            place = st.home if st.home is not None else "outer"
            for s in _free(st.expr):
                seen.setdefault(s, set()).add(place)
    units: list[_Unit] = []
    by_group: dict[int, _Unit] = {}
    for k, st in enumerate(statements):
        if isinstance(st, _Choice):
            unit = by_group.get(st.group)
            if unit is None:
                unit = by_group[st.group] = _Unit(first=k)
                units.append(unit)
            unit.choices.append(st)
            unit.defines.add(st.target)
            unit.uses |= _free(st.piecewise)
        elif st.home is None:
            units.append(_Unit(first=k, lets=[st], defines={st.target}, uses=_free(st.expr)))
    for st in statements:
        if isinstance(st, _Let) and st.home is not None:
            unit = by_group[st.home[0]]
            unit.inner.append(st)
            unit.uses |= _free(st.expr)
    for unit in by_group.values():  # what the branches compute themselves is not a use from outside
        unit.uses -= {let.target for let in unit.inner}
    return _order(units)


def _order(units):
    """The units in an order where each follows the units it uses (stable: by first statement); None on a
    cycle."""
    owner = {s: k for k, u in enumerate(units) for s in u.defines}
    needs = [{owner[s] for s in u.uses if s in owner} - {k} for k, u in enumerate(units)]
    users: list[list[int]] = [[] for _ in units]
    for k, deps in enumerate(needs):
        for d in deps:
            users[d].append(k)
    waiting = [len(d) for d in needs]
    ready = [(u.first, k) for k, u in enumerate(units) if not waiting[k]]
    heapq.heapify(ready)
    order = []
    while ready:
        _, k = heapq.heappop(ready)
        order.append(units[k])
        for user in users[k]:
            waiting[user] -= 1
            if not waiting[user]:
                heapq.heappush(ready, (units[user].first, user))
    return order if len(order) == len(units) else None


def constants_body(constants, printer, target: str = "_c") -> list[str]:
    """Source lines filling the float array ``target`` with the ``constants`` ([(symbol, expr)]) of
    :func:`hoist_constants`; they share their own subexpressions."""
    if not constants:
        return []
    temps, reduced = sp.cse([e for _, e in constants], symbols=sp.numbered_symbols("_t"))
    lines = [f"{INDENT}{printer.doprint(s)} = {printer.doprint(e)}" for s, e in temps]
    lines += [f"{INDENT}{target}[{k}] = {printer.doprint(e)}" for k, e in enumerate(reduced)]
    return lines
