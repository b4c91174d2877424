"""The result of a crossbar DC read: output currents at once, per-cell arrays when first asked for.

Most reads need only the column output currents, which memspice computes the fastest exact way (a transfer
matrix for linear arrays, blocked solves that keep only the outputs otherwise, one multi-vector ngspice run).
The per-cell arrays (device currents, word- and bit-line voltages: three (p, m, n) arrays, 24 bytes per cell
and vector) are computed on first access, after checking that they fit in memory, or per vector with
:meth:`CrossbarSolution.vector`.  A solution keeps the crossbar and the input voltages it was computed
from, so analyses (:func:`memspice.analysis.metrics.ir_drop_map`,
:func:`memspice.analysis.read_cost.read_energy`) need nothing else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .memory import BYTES_PER_CELL_VECTOR, gigabytes, memory_limit

__all__ = ["CrossbarSolution", "PerCellMemoryError", "SolveInfo"]


class PerCellMemoryError(MemoryError):
    """The per-cell arrays of every input vector would not fit in memory: read them per vector instead."""


@dataclass
class SolveInfo:
    """What a read did, typed; ``info["key"]`` and ``info.get("key")`` work as on the dict it replaces.

    Empty strings, None and [] mean "does not apply" (or "not computed yet": the per-cell fields of a lazy
    solution are filled in when its per-cell arrays are computed).
    """

    #: why this backend was used (:func:`memspice.simulate.simulate_crossbar`)
    backend_reason: str = ""
    #: how the output currents were computed (transfer matrix, per-vector solves, one ngspice run, ...)
    outputs: str = ""
    #: the solver of the per-vector solves ("structured cg", "newton + structured cg", "cg", "direct", ...)
    method: str = ""
    #: most linear-solver iterations of any vector (CG iterations; 1 for a direct solve)
    iterations: int | None = None
    #: unknown node voltages of the nodal system
    unknowns: int | None = None
    #: Newton iterations of each vector (nonlinear cells)
    newton_iterations: list[int] = field(default_factory=list)
    #: CG iterations summed over every Newton step and vector
    cg_iterations_total: int | None = None
    #: ngspice driver ("batch" or "shared") and model face of an ngspice read
    mode: str = ""
    face: str = ""
    #: where the device currents come from (ngspice's own device currents, or the cell law at its nodes)
    device_currents: str = ""
    #: anything else a solver reported
    extra: dict = field(default_factory=dict)

    @classmethod
    def _fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls) if f.name != "extra")

    @classmethod
    def from_dict(cls, values: dict | None) -> SolveInfo:
        """A SolveInfo from a dict: known keys into their fields, the rest into ``extra``."""
        info = cls()
        info.update(values or {})
        return info

    def as_dict(self) -> dict[str, Any]:
        """The fields that are set (and ``extra``), as a plain dict."""
        out = {k: getattr(self, k) for k in self._fields() if _is_set(getattr(self, k))}
        return out | self.extra

    def update(self, other: dict | SolveInfo) -> None:
        """Set every key of ``other`` (a dict or SolveInfo; unset fields of a SolveInfo are skipped)."""
        for key, value in (other.as_dict() if isinstance(other, SolveInfo) else dict(other)).items():
            self[key] = value

    def __getitem__(self, key: str):
        if key in self._fields():
            return getattr(self, key)
        return self.extra[key]

    def __setitem__(self, key: str, value) -> None:
        if key in self._fields():
            setattr(self, key, list(value) if key == "newton_iterations" else value)
        else:
            self.extra[key] = value

    def __contains__(self, key: object) -> bool:
        return key in self.as_dict()

    def get(self, key: str, default=None):
        return self[key] if key in self else default

    def keys(self):
        return self.as_dict().keys()


def _is_set(value) -> bool:
    return not (value is None or (isinstance(value, (str, list)) and not value))


#: computes the complete (eager) solution of the given input vectors (q, m), V
PerCellSolve = Callable[[np.ndarray], "CrossbarSolution"]


class CrossbarSolution:
    """DC solution for p input vectors of an m x n crossbar, vectors first like the inputs.

    Attributes
    ----------
    output_currents : ndarray (p, n)
        Current (A) into each bit line's sense node.
    device_currents : ndarray (p, m, n)
        Current (A) through every cell, word line to bit line.
    word_line_voltages, bit_line_voltages : ndarray (p, m, n)
        Node voltages (V) at every cell.
    cell_voltages : ndarray (p, m, n)
        Word-line minus bit-line voltage (V) of every cell.
    xbar : Crossbar
        The crossbar that was solved; ``voltages`` (p, m), V: its inputs.
    backend : str
        "sparse" or "ngspice".
    info : SolveInfo
        How it was computed.

    The per-cell arrays are computed on first access where the read did not need them (a lazy solution:
    ``per_cell_computed`` is False), after a memory check that raises :class:`PerCellMemoryError` naming
    the size.  :meth:`vector` (and :meth:`device_currents_of`, :meth:`cell_voltages_of`) give one vector's
    arrays without computing the others.
    """

    def __init__(
        self,
        output_currents,
        device_currents=None,
        word_line_voltages=None,
        bit_line_voltages=None,
        backend: str = "sparse",
        info: SolveInfo | dict | None = None,
        *,
        xbar=None,
        voltages=None,
        per_cell: PerCellSolve | None = None,
        work_bytes: int = 0,
        max_memory: float | None = None,
    ):
        self.output_currents = np.asarray(output_currents)
        arrays = (device_currents, word_line_voltages, bit_line_voltages)
        if any(a is None for a in arrays) and not all(a is None for a in arrays):
            raise ValueError("give all three per-cell arrays (device currents, word- and bit-line voltages) or none")
        self._cells: tuple[np.ndarray, np.ndarray, np.ndarray] | None = (
            None if device_currents is None else tuple(np.asarray(a) for a in arrays)  # type: ignore[assignment]
        )
        self.backend = backend
        self.info = info if isinstance(info, SolveInfo) else SolveInfo.from_dict(info)
        self.xbar = xbar
        self.voltages = None if voltages is None else np.atleast_2d(np.asarray(voltages, float))
        self._per_cell = per_cell
        self._work_bytes = int(work_bytes)
        self._max_memory = max_memory
        self._last: tuple[int, CrossbarSolution] | None = None  # the last vector(k), kept for a second look

    # -- shape -----------------------------------------------------------------------------------------
    @property
    def vectors(self) -> int:
        """Number of input vectors p."""
        return int(self.output_currents.shape[0])

    @property
    def shape(self) -> tuple[int, int, int]:
        """(p, m, n): input vectors, word lines, bit lines."""
        if self._cells is not None:
            p, m, n = self._cells[0].shape
            return int(p), int(m), int(n)
        if self.xbar is None:
            raise ValueError("this solution knows neither its crossbar nor its per-cell arrays")
        return self.vectors, self.xbar.m, self.xbar.n

    @property
    def per_cell_computed(self) -> bool:
        """Whether the per-cell arrays of every vector are held (False: computed on first access)."""
        return self._cells is not None

    @property
    def per_cell_bytes(self) -> int:
        """Memory (bytes) of the three per-cell arrays of all vectors."""
        p, m, n = self.shape
        return BYTES_PER_CELL_VECTOR * p * m * n

    # -- per-cell arrays -------------------------------------------------------------------------------
    @property
    def device_currents(self) -> np.ndarray:
        return self._all_cells()[0]

    @property
    def word_line_voltages(self) -> np.ndarray:
        return self._all_cells()[1]

    @property
    def bit_line_voltages(self) -> np.ndarray:
        return self._all_cells()[2]

    @property
    def cell_voltages(self) -> np.ndarray:
        """Word-line minus bit-line voltage (V) of every cell, (p, m, n)."""
        _, wl, bl = self._all_cells()
        return wl - bl

    def _all_cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._cells is None:
            solve, voltages = self._solver()
            p, m, n = self.shape
            need = self.per_cell_bytes + self._work_bytes
            limit, what = memory_limit(self._max_memory)
            if limit is not None and need > limit:
                raise PerCellMemoryError(
                    f"the per-cell arrays of {p} input vectors on this {m}x{n} crossbar need about "
                    f"{gigabytes(need)} (device currents, word- and bit-line voltages: {BYTES_PER_CELL_VECTOR} "
                    f"bytes per cell and vector, plus solver work), above the {gigabytes(limit)} {what}; "
                    f"read them one vector at a time with solution.vector(k), solution.device_currents_of(k) or "
                    f"solution.cell_voltages_of(k) ({gigabytes(BYTES_PER_CELL_VECTOR * m * n)} each), or solve "
                    "fewer vectors per call; the output currents are already here"
                )
            full = solve(voltages)
            self._cells = (full.device_currents, full.word_line_voltages, full.bit_line_voltages)
            self._merge_info(full.info)
        return self._cells

    def _solver(self) -> tuple[PerCellSolve, np.ndarray]:
        if self._per_cell is None or self.voltages is None:
            raise ValueError("this solution holds output currents only and cannot compute per-cell arrays")
        return self._per_cell, self.voltages

    def _merge_info(self, other: SolveInfo) -> None:
        keep = {"backend_reason": self.info.backend_reason, "outputs": self.info.outputs}
        self.info.update(other)
        self.info.update({k: v for k, v in keep.items() if v})

    def vector(self, k: int) -> CrossbarSolution:
        """The solution of input vector ``k`` alone (p = 1), its per-cell arrays computed if not held."""
        k = self._index(k)
        if self._cells is not None:
            dev, wl, bl = (a[k : k + 1] for a in self._cells)
            info = self.info
        elif self._last is not None and self._last[0] == k:
            return self._last[1]
        else:
            solve, voltages = self._solver()
            one = solve(voltages[k : k + 1])
            dev, wl, bl, info = one.device_currents, one.word_line_voltages, one.bit_line_voltages, one.info
        sol = CrossbarSolution(
            self.output_currents[k : k + 1],
            dev,
            wl,
            bl,
            self.backend,
            dataclasses.replace(info, extra=dict(info.extra)),
            xbar=self.xbar,
            voltages=None if self.voltages is None else self.voltages[k : k + 1],
        )
        if self._cells is None:
            self._last = (k, sol)
        return sol

    def device_currents_of(self, k: int) -> np.ndarray:
        """Device currents (A), (m, n), of input vector ``k`` (computes only that vector where needed)."""
        return self.vector(k).device_currents[0]

    def cell_voltages_of(self, k: int) -> np.ndarray:
        """Cell voltages (V), (m, n), of input vector ``k`` (computes only that vector where needed)."""
        return self.vector(k).cell_voltages[0]

    def inputs_of(self, k: int) -> np.ndarray:
        """Word-line input voltages (V), (m,), of vector ``k``."""
        if self.voltages is None:
            raise ValueError("this solution does not know its input voltages")
        return self.voltages[self._index(k)]

    def _index(self, k) -> int:
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
            raise TypeError(f"vector index must be an integer, got {k!r}")
        p = self.vectors
        if not -p <= k < p:
            raise IndexError(f"vector {k} is outside this solution's {p} input vector(s) (0..{p - 1})")
        return int(k) % p

    # -- display ---------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        """A table: what was solved, the outputs, the per-cell arrays' state, how it was computed."""
        out = self.output_currents
        p = self.vectors
        try:
            _, m, n = self.shape
            where = f"{m}x{n}" + (f" {self.xbar.cell.name}" if self.xbar is not None else "") + " crossbar"
        except ValueError:
            m = n = 0
            where = "crossbar"
        head = f"CrossbarSolution: {p} input vector{'s' if p != 1 else ''} on a {where} ({self.backend})"
        span = f"{np.min(out):.3g} .. {np.max(out):.3g} A" if out.size else "empty"
        rows = [("output currents", f"{out.shape} A, {span}" + (f"; {self.info.outputs}" if self.info.outputs else ""))]
        if m:
            if self.per_cell_computed:
                cells = f"computed: 3 x {(p, m, n)}, {gigabytes(self.per_cell_bytes)}"
            else:
                cells = (
                    f"on first access: 3 x {(p, m, n)}, {gigabytes(self.per_cell_bytes)}; "
                    f"one vector with .vector(k): {gigabytes(BYTES_PER_CELL_VECTOR * m * n)}"
                )
            rows.append(("per-cell arrays", cells))
        info = self.info
        if info.backend_reason:
            rows.append(("backend", info.backend_reason))
        if info.method:
            solver = info.method + (f", at most {info.iterations} iterations per solve" if info.iterations else "")
            rows.append(("solver", solver))
        if info.newton_iterations:
            its = info.newton_iterations
            rows.append(("newton", f"{min(its)}..{max(its)} iterations per vector" if len(its) > 1 else f"{its[0]}"))
        if info.mode or info.face:
            rows.append(("ngspice", ", ".join(x for x in (info.mode and f"{info.mode} mode", info.face) if x)))
        width = max(len(k) for k, _ in rows)
        return "\n".join([head] + [f"  {k:<{width}}  {v}" for k, v in rows])
