"""Crossbar description shared by the ngspice netlist writer and the sparse solver.

Geometry (as in badcrossbar): ``m`` word lines (rows) driven from the left,
``n`` bit lines (columns) read at the bottom.  Word-line node (i, j) links
to (i, j+1) through ``r_word`` (Ohm); the first segment hangs off the driver
through ``r_source + r_word``.  Bit-line node (i, j) links to (i+1, j)
through ``r_bit``; the last segment reaches the sense node through
``r_bit + r_sense``, the sense node being a virtual ground (ideal TIA).
The cell (i, j) sits between word-line node (i, j) and bit-line node (i, j).

Cell kinds:

* ``"1R"``: linear resistor of conductance ``G[i, j]`` (S);
* ``"1S1R"``: :class:`~memspice.models.Selector` in series with ``G[i, j]``;
* ``"tiox"``: self-rectifying :class:`~memspice.models.TiOx` cell whose state
  is ``state[i, j]``;
* ``"memristor"``: :class:`~memspice.models.DriftDiffusion` cell with state
  ``state[i, j]`` (for transients);
* ``"1T1R"``: level-1 NMOS access transistor (drain on the word line, gate on
  row i's gate line at ``v_gate[i]``, bulk at 0 V) in series with ``G[i, j]``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..models import DriftDiffusion, Selector, TiOx
from ..models.access_transistor import AccessTransistor

CELL_KINDS = ("1R", "1S1R", "tiox", "memristor", "1T1R")
#: the largest array the SPICE writer accepts by default (a guard against runaway netlists)
MAX_SPICE_DEVICES = 2048 * 2048


def _check_resistance(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite resistance >= 0 Ohm, got {value!r}")
    return value


@dataclass
class Crossbar:
    """An m x n crossbar with line resistance and one kind of cell."""

    conductances: np.ndarray | None = None
    r_word: float = 0.0
    r_bit: float = 0.0
    r_source: float = 0.0
    r_sense: float = 0.0
    cell: str = "1R"
    state: np.ndarray | None = None
    selector: Selector = field(default_factory=Selector)
    device: object = None
    transistor: AccessTransistor = field(default_factory=AccessTransistor)
    bit_bias: object = 0.0  # V at the foot of every bit line (sense node); scalar or one per column
    c_word: float = 0.0  # F from every word-line node to ground (transients only)
    c_bit: float = 0.0   # F from every bit-line node to ground (transients only)
    v_gate: object = 1.5  # V, scalar or one per row; SEEDS 1T1R gate 1.5 V

    def __post_init__(self):
        if self.cell not in CELL_KINDS:
            raise ValueError(f"cell must be one of {CELL_KINDS}, got {self.cell!r}")
        for name in ("r_word", "r_bit", "r_source", "r_sense"):
            setattr(self, name, _check_resistance(name, getattr(self, name)))
        for name in ("c_word", "c_bit"):
            c = float(getattr(self, name))
            if not np.isfinite(c) or c < 0:
                raise ValueError(f"{name} must be a finite capacitance >= 0 F, got {c!r}")
            setattr(self, name, c)
        if self.cell in ("1R", "1S1R", "1T1R"):
            if self.conductances is None:
                raise ValueError(f"cell {self.cell!r} needs conductances (m x n, S)")
            g = np.asarray(self.conductances, dtype=float)
            if g.ndim != 2 or 0 in g.shape:
                raise ValueError(f"conductances must be a non-empty m x n matrix, got shape {g.shape}")
            if not np.all(np.isfinite(g)):
                raise ValueError("conductances contain NaN or inf")
            if np.any(g < 0):
                i, j = np.argwhere(g < 0)[0]
                raise ValueError(f"conductances must be >= 0 S (negative resistance at cell ({i}, {j}): {g[i, j]!r})")
            self.conductances = g
            vg = np.broadcast_to(np.asarray(self.v_gate, dtype=float), (g.shape[0],)).copy() \
                if np.ndim(self.v_gate) == 0 or np.size(self.v_gate) == g.shape[0] else None
            if vg is None or not np.all(np.isfinite(vg)):
                raise ValueError(f"v_gate must be a finite voltage or one per row ({g.shape[0]}), got {self.v_gate!r}")
            self.v_gate = vg
        else:
            if self.state is None:
                raise ValueError(f"cell {self.cell!r} needs state (m x n, each in [0, 1])")
            s = np.asarray(self.state, dtype=float)
            if s.ndim != 2 or 0 in s.shape or not np.all(np.isfinite(s)) or np.any((s < 0) | (s > 1)):
                raise ValueError("state must be a non-empty m x n matrix of values in [0, 1]")
            self.state = s
            if self.device is None:
                self.device = TiOx() if self.cell == "tiox" else DriftDiffusion()
        bias = np.asarray(self.bit_bias, dtype=float)
        if bias.ndim not in (0, 1) or (bias.ndim == 1 and bias.size != self.n) or not np.all(np.isfinite(bias)):
            raise ValueError(f"bit_bias must be a finite voltage or one per column ({self.n}), got {self.bit_bias!r}")

    @property
    def bit_voltages(self) -> np.ndarray:
        """Voltage (V) held at the foot of each bit line: 0 for ideal TIAs, a bias in write schemes."""
        return np.broadcast_to(np.asarray(self.bit_bias, dtype=float), (self.n,)).copy()

    def full_inputs(self, voltages) -> np.ndarray:
        """Stack word-line inputs (m, p) and bit-line biases into (m + n, p), V."""
        v = self.check_inputs(voltages)
        return np.vstack([v, np.repeat(self.bit_voltages[:, None], v.shape[1], axis=1)])

    @property
    def shape(self) -> tuple[int, int]:
        arr = self.conductances if self.conductances is not None else self.state
        return arr.shape

    @property
    def m(self) -> int:
        return self.shape[0]

    @property
    def n(self) -> int:
        return self.shape[1]

    def check_inputs(self, voltages) -> np.ndarray:
        """Validate input voltages: (m,) or (m, p) in V; returns an (m, p) array."""
        v = np.asarray(voltages, dtype=float)
        if v.ndim == 1:
            v = v[:, None]
        if v.ndim != 2 or v.shape[0] != self.m:
            raise ValueError(f"voltages must have {self.m} rows (one per word line), got shape {v.shape}")
        if not np.all(np.isfinite(v)):
            raise ValueError("voltages contain NaN or inf")
        return v

    def ideal_outputs(self, voltages) -> np.ndarray:
        """Column currents with no wire resistance and linear cells: (G^T v)^T (A), shape (p, n)."""
        v = self.check_inputs(voltages)
        return (self.conductances.T @ v).T
