"""A crossbar from a matrix and the physical options of the array: one place for their defaults and rules.

``memspice read``, ``memspice netlist crossbar``, ``memspice sweep`` and their Python equivalents all
turn a weight (or conductance) matrix into a :class:`~memspice.circuits.crossbar.Crossbar` the same
way: cell kind, conductance range, wire, driver and sense resistances, seeded log-normal variation
and stuck-at faults.  :class:`ArrayOptions` holds those options and :meth:`ArrayOptions.crossbar`
applies them, so the mapping, the seeds and the refusals are the same wherever an array is built.

Seeds: variation is drawn from ``seed + 1`` and stuck-at faults from ``seed + 2`` (one seed per
draw, so adding faults does not change the variation drawn).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from .cells import Cell, make_cell
from .crossbar import Crossbar
from .datafiles import WeightMapping, map_weights
from .weights import G_MAX, G_MIN, apply_stuck_faults, apply_variation

#: what a matrix holds: weights (mapped to the cell's range) or the cell values as they are
VALUE_KINDS = ("weights", "conductances", "state")


@dataclass(frozen=True)
class ArrayOptions:
    """Physical options of a crossbar built from a matrix (SI units).

    Attributes
    ----------
    cell : str or Cell
        Cell kind (``1R``, ``1S1R``, ``1T1R``, ``tiox``, ``memristor``; any case), or a cell object
        (e.g. ``TransistorResistor.sized_for(g_max, v_gate)``).
    g_min, g_max : float
        Conductance range weights map onto, S (default 6.1 µS / 202.1 µS: Shi et al. 2025's pulsed
        TaOx/HfOx 1T1R range, :data:`memspice.circuits.weights.G_MIN`).
    r_word, r_bit : float
        Word- and bit-line resistance per segment, Ohm (default 1 Ohm, assumed: a few µm of
        nanoscale copper line per cell pitch).
    r_source, r_sense : float
        Driver (DAC) output and sense resistance, Ohm (default 0: ideal).
    variation : float
        Log-normal device-to-device sigma of the conductances (default 0).
    stuck_off, stuck_on : float
        Fractions of cells stuck at ``g_min`` / ``g_max`` (default 0).
    seed : int
        Seed of the variation (``seed + 1``) and fault (``seed + 2``) draws.
    """

    cell: str | Cell = "1R"
    g_min: float = G_MIN
    g_max: float = G_MAX
    r_word: float = 1.0
    r_bit: float = 1.0
    r_source: float = 0.0
    r_sense: float = 0.0
    variation: float = 0.0
    stuck_off: float = 0.0
    stuck_on: float = 0.0
    seed: int = 0

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The option names (also the keyword arguments of :meth:`replace`)."""
        return tuple(f.name for f in dataclasses.fields(cls))

    def replace(self, **changes) -> "ArrayOptions":
        """A copy with ``changes``; ``None`` values keep the current value (as unset command-line options)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def wires(self) -> dict[str, Any]:
        """``r_word``, ``r_bit``, ``r_source``, ``r_sense`` as :class:`Crossbar` keyword arguments."""
        return {"r_word": self.r_word, "r_bit": self.r_bit, "r_source": self.r_source, "r_sense": self.r_sense}

    def crossbar(self, values, kind: str = "weights", what: str = "") -> tuple[Crossbar, WeightMapping | None]:
        """The crossbar of matrix ``values`` (word lines x columns) and the weight mapping used (or None).

        Parameters
        ----------
        values : array_like (m, k)
            Weights (any sign; mapped by :func:`memspice.circuits.datafiles.map_weights`), or
            conductances in S (``kind="conductances"``, used as given).
        kind : {"weights", "conductances"}
            What ``values`` hold.
        what : str
            How to name ``values`` in errors (e.g. ``"--conductances"``).

        Raises
        ------
        ValueError
            Negative conductances; conductances for a stateful cell; variation or faults on a
            stateful cell (their values are states, not conductances).
        """
        cell = make_cell(self.cell)
        name = what or kind
        values = np.asarray(values, float)
        if kind == "conductances":
            if cell.data != "conductances":
                raise ValueError(f"{name}: cell {cell.name} takes states, not conductances; use weights")
            if np.any(values < 0):
                raise ValueError(
                    f"{name}: negative values; conductances are >= 0 S (give signed numbers as weights for G+/G- "
                    "column pairs)"
                )
            g, mapping = values, None
        elif kind == "weights":
            g, mapping = map_weights(values, cell.data, self.g_min, self.g_max)
        else:
            raise ValueError(f"kind must be 'weights' or 'conductances', got {kind!r}")
        if cell.data == "state":
            if self.variation or self.stuck_off or self.stuck_on:
                raise ValueError(f"variation and stuck-at faults apply to conductance cells, not {cell.name}")
            return Crossbar(state=g, cell=cell, **self.wires), mapping
        if self.variation:
            g = apply_variation(g, self.variation, seed=self.seed + 1)
        if self.stuck_off or self.stuck_on:
            g = apply_stuck_faults(g, self.stuck_off, self.stuck_on, self.g_min, self.g_max, seed=self.seed + 2)
        return Crossbar(g, cell=cell, **self.wires), mapping
