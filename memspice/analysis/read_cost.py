"""Energy and latency of one crossbar read, as IMAC-Sim and NeuroSim users expect them.

Energy comes from a DC solution (any backend): the word-line drivers deliver
``sum_i v_i I_i``; the cells dissipate ``sum I_cell u_cell``; the wires take
the rest (minus what the bit-line bias sources absorb).  Periphery energy uses
per-component figures that the source papers do not give; their defaults are
**assumptions**, stated where they are defined.  Latency comes from a
transient of the same array (line capacitance, drivers, sense) driven by a
step: the time until every column current stays within a band of its final
value.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..spice.job import DEFAULT_TIMEOUT

#: energy of one DAC conversion (J). Assumed: ~50 fJ/conversion is typical of the 4-8 bit current-steering
#: DACs in published IMC macros; no source paper of memspice gives a number.
DAC_ENERGY_J = 50e-15
#: static power of one TIA + ADC column (W). Assumed: ~100 uW per column for a 6-8 bit sense chain at
#: tens of MHz, the order of magnitude NeuroSim-style estimates use; not from the source papers.
COLUMN_POWER_W = 100e-6


@dataclass(frozen=True)
class ReadCost:
    """Energy (J) of one read by component, its duration (s) and the power (W) the array drew."""

    cells_J: float
    wires_J: float
    drivers_J: float
    sense_J: float
    t_read_s: float
    array_power_W: float

    @property
    def total_J(self) -> float:
        return self.cells_J + self.wires_J + self.drivers_J + self.sense_J

    def as_dict(self) -> dict:
        return {**asdict(self), "total_J": self.total_J}


def read_energy(
    xbar,
    solution,
    voltages,
    t_read: float,
    k: int = 0,
    dac_energy_J: float = DAC_ENERGY_J,
    column_power_W: float = COLUMN_POWER_W,
) -> ReadCost:
    """Energy of read ``k`` of ``solution`` (a DC solution of ``xbar`` for ``voltages``) lasting ``t_read`` s.

    Parameters
    ----------
    xbar : Crossbar
        The array that was solved.
    solution : CrossbarSolution
        Its DC solution (``device_currents``, word/bit-line voltages: (p, m, n)).
    voltages : array_like
        The word-line inputs used, (m,) or (p, m) V (vectors first).
    t_read : float
        Duration of the read (s): the array draws its DC power for this long.
    dac_energy_J, column_power_W : float
        Per-conversion DAC energy (one per row) and static power per column sense chain (assumed defaults,
        see :data:`DAC_ENERGY_J`, :data:`COLUMN_POWER_W`).
    """
    if not (np.isfinite(t_read) and t_read > 0):
        raise ValueError(f"t_read must be a finite duration > 0 s, got {t_read!r}")
    v = xbar.check_inputs(voltages)[:, k]
    i_cell = solution.device_currents[k]
    u_cell = solution.word_line_voltages[k] - solution.bit_line_voltages[k]
    p_source = float(v @ i_cell.sum(axis=1))  # each driver feeds only its own row's cells
    p_sink = float(xbar.bit_voltages @ i_cell.sum(axis=0))  # absorbed by bit-line bias sources
    p_cells = float(np.sum(i_cell * u_cell))
    p_array = p_source - p_sink
    return ReadCost(
        cells_J=p_cells * t_read,
        wires_J=(p_array - p_cells) * t_read,
        drivers_J=dac_energy_J * xbar.m,
        sense_J=column_power_W * xbar.n * t_read,
        t_read_s=float(t_read),
        array_power_W=p_array,
    )


def read_latency(
    xbar, voltages, tolerance: float = 0.01, t_stop: float | None = None, timeout: float = DEFAULT_TIMEOUT
) -> dict:
    """Settling time (s) of a read: ngspice transient of a 0 -> ``voltages`` step (10 ps edge) on every row.

    Returns ``{"latency_s": max over columns, "per_column_s": array, "t_stop_s": float}``. The window
    ``t_stop`` defaults to 50 times the slowest RC of the lines (at least 1 ns). Cells are read at their
    frozen state; the line capacitances ``xbar.c_word``/``c_bit`` set the dynamics.
    """
    from ..core.units import spice_number
    from ..netlists.crossbar import crossbar_netlist
    from ..spice import run
    from .metrics import settling_time

    v = xbar.check_inputs(voltages)[:, 0]
    if t_stop is None:
        r_line = (xbar.r_source + xbar.r_word * xbar.n) + (xbar.r_sense + xbar.r_bit * xbar.m)
        c_line = xbar.c_word * xbar.n + xbar.c_bit * xbar.m
        t_stop = max(50 * r_line * c_line, 1e-9)
    edge = min(10e-12, t_stop / 1000)
    drive = [f"PWL(0 0 {spice_number(edge)} {spice_number(vi)})" for vi in v]
    step = t_stop / 2000
    text = crossbar_netlist(
        xbar, drive, analysis=f".tran {spice_number(step)} {spice_number(t_stop)} 0 {spice_number(step)}"
    )
    w = run(text, mode="batch", timeout=timeout).waveforms
    per_col = np.array([settling_time(w.time, w[f"i(vsense{j})"], tolerance) for j in range(xbar.n)])
    return {"latency_s": float(per_col.max()), "per_column_s": per_col, "t_stop_s": float(t_stop)}
