"""How a designer marks a crossbar for memspice in an ngspice netlist, and how memspice reads the marks.

A marked crossbar is a subcircuit call of the reserved name ``memspice_crossbar``::

    X1 wl0 wl1 ... wl<m-1> bl0 bl1 ... bl<n-1> memspice_crossbar weights=W.npy cell=tiox
    + r_word=10 r_bit=10 c_word=1f c_bit=1f

* **nodes**: first the ``m`` word-line ports (the driver end of each word line, rows in order), then the
  ``n`` bit-line ports (the sense end, the foot, of each bit line, columns in order); ``m`` and ``n`` come
  from the weights file, so the node count must be ``m + n``;
* ``weights=FILE`` (required): the per-cell data the cell kind needs, an ``m x n`` table (``.npy``,
  ``.npz``, ``.csv``, ``.txt``; rows = word lines): conductances in S for ``1R`` and ``1S1R``, states in
  [0, 1] for stateful kinds (``tiox``, ``memristor``).  A relative path is relative to the netlist's folder;
* ``cell=KIND``: a registered cell kind (:func:`memspice.circuits.cells.cell_kinds`); default ``1R``, the
  default of :class:`~memspice.circuits.crossbar.Crossbar`;
* ``r_word``, ``r_bit`` (Ohm per segment between neighbouring cells), ``r_source``, ``r_sense`` (Ohm, extra
  resistance at the driver / sense end), ``c_word``, ``c_bit`` (F to ground per cell position): the
  :class:`~memspice.circuits.crossbar.Crossbar` fields of the same names, default 0;
* ``save=ports|states|none``: which array signals co-simulation returns besides the periphery: the current
  into every port (default), also every cell's state, or nothing.

Values are SPICE numbers (``10``, ``2.5k``, ``1f``), ``{expressions}`` or ``'expressions'`` of numbers
and the netlist's global ``.param`` values (``+ - * / **``, parentheses, ``sqrt exp log abs min max pow``),
or the bare name of a ``.param``.  Everything else in the netlist is ngspice's: the mark is the only change
a designer makes.  Marks may sit inside ``.subckt`` definitions (each instance of the subcircuit is then
its own array), not in included files.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..circuits.cells import make_cell
from ..circuits.crossbar import Crossbar
from ..circuits.datafiles import load_matrix
from ..core.units import parse_spice_number

#: the reserved subcircuit name that marks a crossbar for memspice
MARKER = "memspice_crossbar"
#: parameters a mark accepts
PARAMETERS = ("weights", "cell", "r_word", "r_bit", "r_source", "r_sense", "c_word", "c_bit", "save")
SAVE_CHOICES = ("ports", "states", "none")
_NUMERIC = ("r_word", "r_bit", "r_source", "r_sense", "c_word", "c_bit")


class CosimNetlistError(ValueError):
    """A netlist co-simulation cannot read: names the line (and the marked instance) where it went wrong."""


@dataclass(frozen=True)
class LogicalLine:
    """One SPICE statement: its text with ``+`` continuations joined, and its physical lines (0-based)."""

    text: str
    first: int
    last: int


@dataclass
class Marked:
    """One marked crossbar: instance name as written, 1-based line, nodes, crossbar, what to save."""

    name: str
    line: int
    first: int
    last: int
    nodes: tuple[str, ...]
    xbar: Crossbar
    save: str = "ports"
    in_subckt: str | None = None

    @property
    def label(self) -> str:
        """``X1 (line 12)``: how messages name it."""
        return f"{self.name} (line {self.line})"


@dataclass
class Design:
    """A netlist with its marked crossbars (``marked``, in order: ``cosim_id`` is the index)."""

    text: str
    base_dir: Path
    origin: str
    marked: list[Marked] = field(default_factory=list)
    params: dict[str, float] = field(default_factory=dict)

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


_COMMENT = re.compile(r"(\s\$\s.*$)|(;.*$)|(//.*$)")


def _strip_comment(line: str) -> str:
    return _COMMENT.sub("", line)


def logical_lines(text: str) -> list[LogicalLine]:
    """Statements of a netlist after its title line, ``.control`` blocks left out (see :class:`LogicalLine`)."""
    out: list[LogicalLine] = []
    lines = text.splitlines()
    in_control = False
    for k, raw in enumerate(lines):
        if k == 0:
            continue  # the title
        line = _strip_comment(raw).rstrip()
        low = line.strip().lower()
        if in_control:
            in_control = not low.startswith(".endc")
            continue
        if low.startswith(".control"):
            in_control = True
            continue
        if not low or low.startswith("*"):
            continue
        if low.startswith("+") and out:
            prev = out[-1]
            out[-1] = LogicalLine(prev.text + " " + line.strip()[1:].strip(), prev.first, k)
            continue
        out.append(LogicalLine(line.strip(), k, k))
    return out


# -- expressions -----------------------------------------------------------------------------------------
_NUM_IN_EXPR = re.compile(
    r"(?<![A-Za-z_0-9.])((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(meg|mil|[tgkmunpfa])?(?![A-Za-z_0-9(])", re.I
)
_FUNCS = {"sqrt": math.sqrt, "exp": math.exp, "log": math.log, "ln": math.log, "abs": abs, "min": min,
          "max": max, "pow": math.pow}  # fmt: skip
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
        ast.Pow: operator.pow, ast.USub: operator.neg, ast.UAdd: operator.pos}  # fmt: skip


def evaluate(text: str, params: dict[str, float]) -> float:
    """Value of a SPICE number, ``{expression}``, ``'expression'`` or ``.param`` name (see module docstring).

    Only arithmetic on numbers and parameter names is evaluated (no attribute access, no calls other than
    the listed functions): the text comes from an untrusted netlist.  Raises ``ValueError`` otherwise.
    """
    s = text.strip()
    if len(s) >= 2 and (s[0], s[-1]) in (("{", "}"), ("'", "'"), ('"', '"')):
        s = s[1:-1].strip()
    try:
        return parse_spice_number(s)
    except ValueError:
        pass
    if s.lower() in params:
        return params[s.lower()]
    if len(s) > 500:
        raise ValueError(f"expression too long ({len(s)} characters)")

    def number(m: re.Match) -> str:
        return repr(parse_spice_number(m.group(0)))

    expr = _NUM_IN_EXPR.sub(number, s).replace("^", "**")
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        raise ValueError(f"not a number or expression: {text!r}") from None

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name):
            key = node.id.lower()
            if key in params:
                return params[key]
            raise ValueError(f"unknown parameter {node.id!r} in {text!r} (define it with .param)")
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            left, right = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > 1e3:
                raise ValueError(f"exponent too large in {text!r}")
            return _OPS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.operand))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id.lower() in _FUNCS
            and not node.keywords
        ):
            return float(_FUNCS[node.func.id.lower()](*[ev(a) for a in node.args]))
        raise ValueError(f"unsupported expression {text!r} (numbers, .param names, + - * / **, {', '.join(_FUNCS)})")

    try:
        value = float(ev(tree))
    except (ArithmeticError, TypeError) as exc:
        raise ValueError(f"cannot evaluate {text!r}: {exc}") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not finite")
    return value


_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\{[^}]*\}|'[^']*'|\"[^\"]*\"|[^\s=]+)")


def _assignments(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in _ASSIGN.finditer(text)]


def global_params(statements: list[LogicalLine]) -> dict[str, float]:
    """Top-level ``.param`` values (in order; a value that cannot be evaluated here is left out)."""
    params: dict[str, float] = {}
    depth = 0
    for st in statements:
        low = st.text.lower()
        if low.startswith(".subckt"):
            depth += 1
        elif low.startswith(".ends"):
            depth = max(0, depth - 1)
        elif depth == 0 and (low.startswith(".param ") or low.startswith(".param\t")):
            for name, value in _assignments(st.text[6:]):
                try:
                    params[name.lower()] = evaluate(value, params)
                except ValueError:
                    continue  # a parameter ngspice may read (e.g. a function of time) but a mark cannot use
    return params


# -- marks -----------------------------------------------------------------------------------------------
def _tokens(text: str) -> list[str]:
    """Whitespace-separated tokens, ``key = value`` joined to ``key=value``, braces and quotes kept whole."""
    text = re.sub(r"\s*=\s*", "=", text)
    return re.findall(r"(?:[^\s{'\"]|\{[^}]*\}|'[^']*'|\"[^\"]*\")+", text)


def _is_marked(text: str) -> bool:
    return text[:1].lower() == "x" and MARKER in text.lower()


def parse(text: str, base_dir, origin: str = "netlist") -> Design:
    """Find and check every marked crossbar of ``text`` (raises :class:`CosimNetlistError`)."""
    base_dir = Path(base_dir)
    statements = logical_lines(text)
    params = global_params(statements)
    design = Design(text, base_dir, origin, params=params)
    subckt: list[str] = []
    names: set[str] = set()
    for st in statements:
        low = st.text.lower()
        where = f"{origin}, line {st.first + 1}"
        if low.startswith(".subckt"):
            parts = st.text.split()
            if len(parts) > 1 and parts[1].lower() == MARKER:
                raise CosimNetlistError(
                    f"{where}: '.subckt {MARKER}' defines the reserved name; memspice supplies the array "
                    "(remove the definition)"
                )
            subckt.append(parts[1] if len(parts) > 1 else "?")
            continue
        if low.startswith(".ends"):
            if subckt:
                subckt.pop()
            continue
        if not _is_marked(st.text):
            continue
        tokens = _tokens(st.text)
        lowered = [t.lower() for t in tokens]
        if MARKER not in lowered:
            continue  # the word appears, but not as the subcircuit name (e.g. in a parameter value)
        at = lowered.index(MARKER)
        name, nodes = tokens[0], tuple(t.lower() for t in tokens[1:at])
        label = f"{where}, instance {name}"
        key = (tuple(subckt), name.lower())
        if key in names:
            raise CosimNetlistError(f"{label}: a second marked instance named {name}")
        names.add(key)  # type: ignore[arg-type]
        rest = [t for t in tokens[at + 1 :] if t.lower() != "params:"]
        design.marked.append(_marked(name, st, nodes, rest, params, base_dir, label, subckt[-1] if subckt else None))
    return design


def _marked(name, st, nodes, rest, params, base_dir, label, in_subckt) -> Marked:
    values: dict[str, str] = {}
    for token in rest:
        if "=" not in token:
            raise CosimNetlistError(f"{label}: {token!r} is not a key=value parameter of {MARKER}")
        key, _, value = token.partition("=")
        key = key.lower()
        if key not in PARAMETERS:
            raise CosimNetlistError(
                f"{label}: unknown parameter {key!r} of {MARKER}; it accepts {', '.join(PARAMETERS)}"
            )
        values[key] = value
    if "weights" not in values:
        raise CosimNetlistError(f"{label}: {MARKER} needs weights=FILE (an m x n table of the per-cell data)")
    raw = values["weights"].strip("\"'{}")
    path = Path(raw).expanduser()
    path = path if path.is_absolute() else base_dir / path
    if not path.is_file():
        raise CosimNetlistError(f"{label}: weights file not found: {raw!r} (looked for {path})")
    try:
        data = load_matrix(path, what="weights")
    except ValueError as exc:
        raise CosimNetlistError(f"{label}: {exc}") from None
    try:
        cell = make_cell(values.get("cell", "1R").strip("\"'"))
    except ValueError as exc:
        raise CosimNetlistError(f"{label}: {exc}") from None
    numbers: dict[str, float] = {}
    for key in _NUMERIC:
        if key in values:
            try:
                numbers[key] = evaluate(values[key], params)
            except ValueError as exc:
                raise CosimNetlistError(f"{label}: {key}: {exc}") from None
    save = values.get("save", "ports").strip("\"'").lower()
    if save not in SAVE_CHOICES:
        raise CosimNetlistError(f"{label}: save={save!r}; choose one of {', '.join(SAVE_CHOICES)}")
    m, n = data.shape
    if len(nodes) != m + n:
        raise CosimNetlistError(
            f"{label}: {MARKER} has {len(nodes)} nodes, but its weights {raw} are {m} x {n}, so it needs "
            f"{m + n}: the {m} word-line ports, then the {n} bit-line ports"
        )
    if cell.three_terminal:
        raise CosimNetlistError(
            f"{label}: cell {cell.name!r} is three-terminal (gate lines); co-simulation couples two-terminal cells"
        )
    try:
        xbar = Crossbar.of(cell, data, **numbers)
    except ValueError as exc:
        raise CosimNetlistError(f"{label}: {exc}") from None
    return Marked(name, st.first + 1, st.first, st.last, nodes, xbar, save, in_subckt)
