"""Crossbar description shared by the ngspice netlist writer and the sparse solver.

Geometry (as in badcrossbar): ``m`` word lines (rows) driven from the left,
``n`` bit lines (columns) read at the bottom.  Word-line node (i, j) links
to (i, j+1) through ``r_word`` (Ohm); the first segment hangs off the driver
through ``r_source + r_word``.  Bit-line node (i, j) links to (i+1, j)
through ``r_bit``; the last segment reaches the sense node through
``r_bit + r_sense``, the sense node being a virtual ground (ideal TIA).
The cell (i, j) sits between word-line node (i, j) and bit-line node (i, j).

The cell is one :class:`~memspice.circuits.cells.Cell` object (see
:mod:`memspice.circuits.cells`): ``"1R"``, ``"1S1R"``, ``"tiox"``,
``"memristor"``, ``"1T1R"`` (strings are case-insensitive shorthands for the
default cell of each kind) or any user-defined cell.  Kinds whose ``data`` is
``"conductances"`` need ``conductances`` (S); stateful kinds need ``state``
(each in [0, 1]).  1T1R gates sit at ``v_gate`` (one per row).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, fields
from typing import Any, overload

import numpy as np

from .cells import Cell, CellArrays, make_cell

#: the registered cell names (kept for older code; see :func:`memspice.circuits.cells.cell_kinds`)
CELL_KINDS = ("1R", "1S1R", "tiox", "memristor", "1T1R")
#: the largest array the SPICE writer accepts by default (a guard against runaway netlists)
MAX_SPICE_DEVICES = 2048 * 2048

# Bounds on the numbers a Crossbar and its inputs accept: the one place for them.  They are assumptions
# (no paper gives them), chosen far outside any memristive circuit and inside the range where every solver
# path stays accurate; beyond them the paths return wrong numbers without any error (measured on 40 x 40,
# 1-2 Ohm lines, scratch study for issue 20: cell conductances of 1e100 S gave 0 A on the structured path,
# 1e150 A on the direct one and ngspice's clamped answer; 1e9 S already disagreed by 4e-6 between paths,
# 1e3 S by at most 1e-10).
#: largest cell conductance, S (1 mOhm: below any wire segment of a crossbar, so anything above is a short)
MAX_CONDUCTANCE = 1e3
#: smallest non-zero line resistance, Ohm (0 is an ideal wire: its nodes are merged; measured accurate to 1e-9)
MIN_RESISTANCE = 1e-9
#: largest |voltage| of an input, bit-line bias or gate, V (far above the few volts that break memristive films)
MAX_VOLTAGE = 1e6
#: largest line capacitance per node, F (crossbar lines hold fF to pF)
MAX_CAPACITANCE = 1.0


def _real_array(value, name: str) -> np.ndarray:
    """``value`` as a float array; complex numbers are refused (not silently made real)."""
    arr = np.asarray(value)
    if np.iscomplexobj(arr):
        raise ValueError(f"{name} must be real, got complex values (a DC solve has no phase)")
    try:
        return np.asarray(arr, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers, got {value!r}") from None


def _real(value, name: str) -> float:
    arr = _real_array(value, name)
    if arr.ndim:
        raise ValueError(f"{name} must be a single number, got shape {arr.shape}")
    return float(arr)


def _check_resistance(name: str, value: float) -> float:
    value = _real(value, name)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite resistance >= 0 Ohm, got {value!r}")
    if 0 < value < MIN_RESISTANCE:
        raise ValueError(
            f"{name} = {value!r} Ohm is below {MIN_RESISTANCE:g} Ohm (memspice.circuits.crossbar.MIN_RESISTANCE); "
            "use 0 for an ideal wire"
        )
    return value


def _check_conductances(g: np.ndarray) -> None:
    if not np.all(np.isfinite(g)):
        i, j = np.argwhere(~np.isfinite(g))[0]
        raise ValueError(f"conductances contain NaN or inf ({float(g[i, j])!r} at cell ({i}, {j}))")
    if np.any(g < 0):
        i, j = np.argwhere(g < 0)[0]
        raise ValueError(f"conductances must be >= 0 S (negative resistance at cell ({i}, {j}): {g[i, j]!r})")
    if np.any(g > MAX_CONDUCTANCE):
        i, j = np.argwhere(g > MAX_CONDUCTANCE)[0]
        raise ValueError(
            f"conductances must be <= {MAX_CONDUCTANCE:g} S (memspice.circuits.crossbar.MAX_CONDUCTANCE: "
            f"1 mOhm, a short), got {float(g[i, j])!r} S at cell ({i}, {j})"
        )


def check_voltages(v: np.ndarray, name: str) -> None:
    """Raise ValueError unless every voltage in ``v`` is finite and within +-:data:`MAX_VOLTAGE` V."""
    bad = ~np.isfinite(v)
    if np.any(bad):
        raise ValueError(f"{name} contain NaN or inf (first at index {tuple(int(k) for k in np.argwhere(bad)[0])})")
    if v.size and np.max(np.abs(v)) > MAX_VOLTAGE:
        k = tuple(int(q) for q in np.unravel_index(np.argmax(np.abs(v)), v.shape))
        raise ValueError(
            f"{name} must be within +-{MAX_VOLTAGE:g} V (memspice.circuits.crossbar.MAX_VOLTAGE), "
            f"got {float(v[k])!r} V at index {k}"
        )


class _CellField:
    """Dataclass field that accepts a cell name or :class:`Cell` and always holds a :class:`Cell`."""

    def __init__(self, default: str) -> None:
        self.default = default

    def __set_name__(self, owner, name: str) -> None:
        self.private = "_" + name

    @overload
    def __get__(self, obj: None, objtype=None) -> str: ...
    @overload
    def __get__(self, obj: object, objtype=None) -> Cell: ...
    def __get__(self, obj, objtype=None):
        return self.default if obj is None else getattr(obj, self.private)

    def __set__(self, obj, value: Cell | str) -> None:
        setattr(obj, self.private, make_cell(value))


@dataclass(eq=False)  # the generated __eq__ compares arrays with ==, which raises: see __eq__ below
class Crossbar:
    """An m x n crossbar with line resistance and one kind of cell."""

    conductances: np.ndarray | None = None
    r_word: float = 0.0
    r_bit: float = 0.0
    r_source: float = 0.0
    r_sense: float = 0.0
    cell: _CellField = _CellField("1R")  # a Cell, or a name ("1R", "1S1R", "1T1R", "tiox", "memristor")
    state: np.ndarray | None = None
    bit_bias: object = 0.0  # V at the foot of every bit line (sense node); scalar or one per column
    c_word: float = 0.0  # F from every word-line node to ground (transients only)
    c_bit: float = 0.0  # F from every bit-line node to ground (transients only)
    v_gate: Any = 1.5  # V, scalar or one per row; the 1T1R hardware gate of Shi et al. (2025), DDK paper

    def __eq__(self, other) -> bool:
        """Same geometry, cell, wires, biases and per-cell arrays (compared element by element)."""
        if not isinstance(other, Crossbar):
            return NotImplemented
        for f in fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
                if a is None or b is None or not np.array_equal(a, b):
                    return False
            elif a != b:
                return False
        return True

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value: not hashable

    def __post_init__(self):
        for name in ("r_word", "r_bit", "r_source", "r_sense"):
            setattr(self, name, _check_resistance(name, getattr(self, name)))
        for name in ("c_word", "c_bit"):
            c = _real(getattr(self, name), name)
            if not np.isfinite(c) or c < 0 or c > MAX_CAPACITANCE:
                raise ValueError(
                    f"{name} must be a capacitance in [0, {MAX_CAPACITANCE:g}] F "
                    f"(memspice.circuits.crossbar.MAX_CAPACITANCE), got {c!r}"
                )
            setattr(self, name, c)
        if self.cell.data == "conductances":
            if self.conductances is None:
                raise ValueError(f"cell {self.cell.name!r} needs conductances (m x n, S)")
            g = _real_array(self.conductances, "conductances")
            if g.ndim != 2 or 0 in g.shape:
                raise ValueError(f"conductances must be a non-empty m x n matrix, got shape {g.shape}")
            _check_conductances(g)
            self.conductances = g
        else:
            if self.state is None:
                raise ValueError(f"cell {self.cell.name!r} needs state (m x n, each in [0, 1])")
            s = _real_array(self.state, "state")
            if s.ndim != 2 or 0 in s.shape or not np.all(np.isfinite(s)) or np.any((s < 0) | (s > 1)):
                raise ValueError("state must be a non-empty m x n matrix of values in [0, 1]")
            self.state = s
        vg = _real_array(self.v_gate, "v_gate")
        if not (vg.ndim == 0 or (vg.ndim == 1 and vg.size == self.m)) or not np.all(np.isfinite(vg)):
            raise ValueError(f"v_gate must be a finite voltage or one per row ({self.m}), got {self.v_gate!r}")
        check_voltages(vg, "v_gate")
        self.v_gate = np.broadcast_to(vg, (self.m,)).copy()
        bias = _real_array(self.bit_bias, "bit_bias")
        if bias.ndim not in (0, 1) or (bias.ndim == 1 and bias.size != self.n) or not np.all(np.isfinite(bias)):
            raise ValueError(f"bit_bias must be a finite voltage or one per column ({self.n}), got {self.bit_bias!r}")
        check_voltages(bias, "bit_bias")
        self.cell.check(self)

    @classmethod
    def of(cls, cell: Cell | str, values, **kwargs) -> Crossbar:
        """A crossbar of ``cell`` whose per-cell ``values`` (m x n) go where the kind takes them
        (``Cell.data``): ``conductances`` (S) or ``state`` ([0, 1]); ``kwargs`` are the other fields."""
        kind = make_cell(cell)
        return cls(cell=kind, **{kind.data: values}, **kwargs)

    def cell_arrays(self) -> CellArrays:
        """Per-cell numbers for the cell's laws, flattened row-major."""
        m, n = self.shape
        g = None if self.conductances is None else self.conductances.ravel()
        x = None if self.state is None else self.state.ravel()
        v_gate = np.repeat(self.v_gate, n) if self.cell.three_terminal else None  # (only gated cells read it)
        return CellArrays(g=g, x=x, v_gate=v_gate)

    @property
    def selector(self):
        """Deprecated read-only alias of ``xbar.cell.selector``: the 1S1R cell's selector."""
        warnings.warn("Crossbar.selector is deprecated: use xbar.cell.selector", DeprecationWarning, stacklevel=2)
        return getattr(self.cell, "selector", None)

    @property
    def device(self):
        """Deprecated read-only alias of ``xbar.cell.model``: the stateful cell's model."""
        warnings.warn("Crossbar.device is deprecated: use xbar.cell.model", DeprecationWarning, stacklevel=2)
        return getattr(self.cell, "model", None)

    @property
    def transistor(self):
        """Deprecated read-only alias of ``xbar.cell.transistor``: the 1T1R cell's transistor."""
        warnings.warn("Crossbar.transistor is deprecated: use xbar.cell.transistor", DeprecationWarning, stacklevel=2)
        return getattr(self.cell, "transistor", None)

    @property
    def r_first(self) -> float:
        """Resistance (Ohm) from a word-line driver to the line's first cell node: ``r_source + r_word``.

        The one place for this rule; the netlist writer and every solver path use it.
        """
        return self.r_source + self.r_word

    @property
    def r_last(self) -> float:
        """Resistance (Ohm) from a bit line's last cell node to its sense node: ``r_bit + r_sense``."""
        return self.r_bit + self.r_sense

    def __repr__(self) -> str:
        """A summary (shape, cell, wires, value range), not the whole array."""
        m, n = self.shape
        data = self._data
        what = "G" if self.conductances is not None else "x"
        unit = " S" if self.conductances is not None else ""
        wires = (
            f"r_word={self.r_word:g}, r_bit={self.r_bit:g}, r_source={self.r_source:g}, r_sense={self.r_sense:g} Ohm"
        )
        return f"Crossbar({m}x{n} {self.cell}, {wires}, {what} in [{np.min(data):.3g}, {np.max(data):.3g}]{unit})"

    @property
    def bit_voltages(self) -> np.ndarray:
        """Voltage (V) held at the foot of each bit line: 0 for ideal TIAs, a bias in write schemes."""
        return np.broadcast_to(np.asarray(self.bit_bias, dtype=float), (self.n,)).copy()

    def full_inputs(self, voltages) -> np.ndarray:
        """Word-line inputs ((m,) or (p, m), V) and bit-line biases stacked as columns (m + n, p), V."""
        v = self.check_inputs(voltages)
        return np.vstack([v, np.repeat(self.bit_voltages[:, None], v.shape[1], axis=1)])

    @property
    def _data(self) -> np.ndarray:
        """The per-cell array the cell kind uses: conductances (S) or state."""
        arr = self.conductances if self.conductances is not None else self.state
        if arr is None:  # pragma: no cover - __post_init__ requires one of them
            raise ValueError("a crossbar needs conductances or state")
        return arr

    @property
    def shape(self) -> tuple[int, int]:
        m, n = self._data.shape
        return m, n

    @property
    def m(self) -> int:
        return self.shape[0]

    @property
    def n(self) -> int:
        return self.shape[1]

    def check_inputs(self, voltages) -> np.ndarray:
        """Validate input voltages (V) and return them as columns, shape (m, p).

        memspice's one orientation: input vectors first, ``voltages`` (m,) for one vector or (p, m) for p
        vectors (each row one vector of word-line voltages); outputs come back (p, n) and per-cell arrays
        (p, m, n).  The (m, p) columns returned here are the solver's internal form.
        """
        v = _real_array(voltages, "voltages")
        if v.ndim == 1:
            v = v[None, :]
        if v.ndim != 2 or v.shape[1] != self.m:
            raise ValueError(
                f"voltages must be (m,) or (p, m) = (vectors, word lines) with m = {self.m}, got shape {v.shape}"
                + ("; transpose it: inputs are vectors first" if v.ndim == 2 and v.shape[0] == self.m else "")
            )
        check_voltages(v, "voltages")
        # the arrays may have been changed since construction (they are plain numpy arrays): every solve
        # passes here, so their values are checked again (O(m n), far below any solve)
        if self.conductances is not None and self.cell.data == "conductances":
            _check_conductances(np.asarray(self.conductances))
        if self.state is not None and not np.all(np.isfinite(self.state)):
            raise ValueError("state contains NaN or inf")
        return v.T

    def ideal_outputs(self, voltages) -> np.ndarray:
        """Column currents (p, n), A, with no wire resistance and linear cells, for inputs (m,) or (p, m), V."""
        if self.conductances is None:
            raise ValueError(f"ideal_outputs needs conductance cells, not {self.cell.name!r} states")
        return self.check_inputs(voltages).T @ self.conductances


def require_crossbar(xbar) -> None:
    """Raise TypeError naming what was passed where a :class:`~memspice.circuits.crossbar.Crossbar` is needed
    (a bare conductance array is the usual slip: it carries no wires, cell kind or biases)."""
    if not isinstance(xbar, Crossbar):
        raise TypeError(
            f"expected a memspice.Crossbar, got {type(xbar).__module__}.{type(xbar).__qualname__}; wrap the "
            "conductances (S, rows x columns) with their wires: memspice.Crossbar(g, r_word=..., r_bit=...)"
        )
