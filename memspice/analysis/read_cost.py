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

import inspect
import warnings
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
    solution,
    *args,
    t_read: float | None = None,
    k: int = 0,
    dac_energy_J: float = DAC_ENERGY_J,
    column_power_W: float = COLUMN_POWER_W,
) -> ReadCost:
    """Energy of read ``k`` of ``solution`` lasting ``t_read`` s: ``read_energy(sol, t_read)`` or
    ``read_energy(sol, t_read, k)``.

    The old form ``read_energy(xbar, solution, voltages, t_read, k=0, ...)`` still works, with a
    ``FutureWarning``: the solution keeps its crossbar and inputs now.

    Parameters
    ----------
    solution : CrossbarSolution
        A DC solution (any backend); it keeps its crossbar and inputs.  Only vector ``k``'s per-cell
        arrays are used (and computed, where the solution is lazy).
    *args
        ``t_read``, ``k``, ``dac_energy_J``, ``column_power_W`` given by position, in that order.
    t_read : float
        Duration of the read (s): the array draws its DC power for this long.
    k : int
        Which input vector.
    dac_energy_J, column_power_W : float
        Per-conversion DAC energy (one per row) and static power per column sense chain (assumed defaults,
        see :data:`DAC_ENERGY_J`, :data:`COLUMN_POWER_W`).
    """
    from ..circuits.crossbar import Crossbar

    given = {"t_read": t_read, "k": k, "dac_energy_J": dac_energy_J, "column_power_W": column_power_W}
    defaults = {"t_read": None, "k": 0, "dac_energy_J": DAC_ENERGY_J, "column_power_W": COLUMN_POWER_W}
    keywords = {name: value for name, value in given.items() if value is not defaults[name]}
    if isinstance(solution, Crossbar):  # read_energy(xbar, solution, voltages, t_read, k, dac, column)
        warnings.warn(
            "read_energy(xbar, solution, voltages, t_read) is deprecated: the solution keeps its crossbar and "
            "inputs, call read_energy(solution, t_read)",
            FutureWarning,
            stacklevel=2,
        )
        bound = inspect.signature(_legacy).bind(solution, *args, **keywords)
        bound.apply_defaults()
        a = bound.arguments
        v = a["xbar"].check_inputs(a["voltages"]).T
        return _energy(
            a["xbar"], v[a["k"]], a["solution"].vector(a["k"]), a["t_read"], a["dac_energy_J"], a["column_power_W"]
        )
    bound = inspect.signature(_positional).bind(*args, **keywords)
    bound.apply_defaults()
    a = bound.arguments
    xbar = getattr(solution, "xbar", None)
    if xbar is None:
        raise ValueError("this solution does not keep its crossbar: call read_energy(xbar, solution, voltages, ...)")
    one, v = solution.vector(a["k"]), solution.inputs_of(a["k"])
    return _energy(xbar, v, one, a["t_read"], a["dac_energy_J"], a["column_power_W"])


def _positional(t_read=None, k=0, dac_energy_J=DAC_ENERGY_J, column_power_W=COLUMN_POWER_W):
    """The arguments :func:`read_energy` takes after the solution."""


def _legacy(xbar, solution, voltages, t_read, k=0, dac_energy_J=DAC_ENERGY_J, column_power_W=COLUMN_POWER_W):
    """The signature :func:`read_energy` had before solutions kept their crossbar and inputs."""


def _energy(xbar, v, one, t_read, dac_energy_J, column_power_W) -> ReadCost:
    """ReadCost of one input vector ``v`` (m,), V, whose one-vector solution is ``one``."""
    if t_read is None or not (np.isfinite(t_read) and t_read > 0):
        raise ValueError(f"t_read must be a finite duration > 0 s, got {t_read!r}")
    i_cell = one.device_currents[0]
    u_cell = one.cell_voltages[0]
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
    xbar,
    voltages,
    tolerance: float = 0.01,
    t_stop: float | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    backend="auto",
) -> dict:
    """Settling time (s) of a read: a transient of a 0 -> ``voltages`` step (10 ps edge) on every row.

    Cells are read at their frozen state; the line capacitances ``xbar.c_word``/``c_bit`` set the dynamics.
    The window ``t_stop`` defaults to 50 times the slowest RC of the lines (at least 1 ns), sampled at
    least every ``t_stop / 2000``.

    Parameters
    ----------
    backend : {"auto", "sparse", "ngspice"} or memspice.simulate.Backend
        "sparse": :func:`memspice.solver.simulate_transient` with ``frozen=True`` (any cell kind);
        "ngspice": a ``.tran`` of the crossbar netlist (the reference); "auto" (default): the faster of
        the two (:func:`latency_backend`).
    timeout : float
        Seconds for the ngspice run.

    Returns
    -------
    dict
        ``latency_s`` (the slowest column), ``per_column_s`` (n,), ``t_stop_s``, ``backend`` (which ran) and
        ``backend_reason``.
    """
    from ..simulate import Backend
    from .metrics import settling_time

    chosen, reason = latency_backend(xbar, backend)
    v = xbar.check_inputs(voltages)[:, 0]
    if t_stop is None:
        r_line = (xbar.r_source + xbar.r_word * xbar.n) + (xbar.r_sense + xbar.r_bit * xbar.m)
        c_line = xbar.c_word * xbar.n + xbar.c_bit * xbar.m
        t_stop = max(50 * r_line * c_line, 1e-9)
    edge = min(10e-12, t_stop / 1000)
    step = t_stop / 2000
    if chosen is Backend.NGSPICE:
        time, outputs = _latency_ngspice(xbar, v, edge, step, t_stop, timeout)
    else:
        time, outputs = _latency_sparse(xbar, v, edge, step, t_stop)
    per_col = np.array([settling_time(time, outputs[:, j], tolerance) for j in range(xbar.n)])
    return {
        "latency_s": float(per_col.max()),
        "per_column_s": per_col,
        "t_stop_s": float(t_stop),
        "backend": chosen.value,
        "backend_reason": reason,
    }


#: the sparse transient is the faster read-latency backend for two-terminal cells from this many cells on.
#: Measured (2026, wall clock on a shared, loaded 2-core machine, 1 fF lines, 2 Ohm wires): 16x16 1R 7.6 s
#: (ngspice 2.8 s), 1S1R 4.3 s (8.4 s); 32x32 1R 6.0 s (16.5 s), 1S1R 10.4 s (71.5 s); 64x64 1R 17.5 s
#: (158 s).  Three-terminal cells (1T1R) stay on ngspice: the sparse transient evaluates the transistor law
#: in numpy, 16x16 40 s (4.4 s), 32x32 106 s (25 s).
SPARSE_LATENCY_CELLS = 32 * 32


def latency_backend(xbar, backend="auto"):
    """(Backend, reason) that :func:`read_latency` uses for ``xbar``: the requested one, or under "auto" the
    faster by the measurements of :data:`SPARSE_LATENCY_CELLS`."""
    from ..simulate import Backend
    from ..spice.capabilities import ngspice_info

    chosen = Backend.parse(backend)
    if chosen is not Backend.AUTO:
        return chosen, "requested"
    cells = xbar.m * xbar.n
    if ngspice_info().executable is None:
        return Backend.SPARSE, "ngspice not installed"
    if xbar.cell.three_terminal:
        return (
            Backend.NGSPICE,
            f"{xbar.cell.name} cells: the sparse transient runs their law in numpy, ngspice is faster",
        )
    if cells >= SPARSE_LATENCY_CELLS:
        return Backend.SPARSE, f"{cells} cells >= {SPARSE_LATENCY_CELLS}: the sparse transient is faster"
    return Backend.NGSPICE, f"{cells} cells < {SPARSE_LATENCY_CELLS}: ngspice is faster on small arrays"


def _latency_ngspice(xbar, v, edge, step, t_stop, timeout):
    """(time (s), output currents (t, n) A) of the step read from an ngspice ``.tran``."""
    from ..core.units import spice_number
    from ..netlists.crossbar import crossbar_netlist
    from ..spice import run

    drive = [f"PWL(0 0 {spice_number(edge)} {spice_number(vi)})" for vi in v]
    text = crossbar_netlist(
        xbar, drive, analysis=f".tran {spice_number(step)} {spice_number(t_stop)} 0 {spice_number(step)}"
    )
    w = run(text, mode="batch", timeout=timeout).waveforms
    return w.time, np.stack([w[f"i(vsense{j})"] for j in range(xbar.n)], axis=1)


def _latency_sparse(xbar, v, edge, step, t_stop):
    """(time (s), output currents (t, n) A) of the step read from the sparse transient, cells frozen."""
    from ..circuits.sources import PWL
    from ..solver.transient import simulate_transient

    sources = [PWL((0.0, edge), (0.0, float(vi))) for vi in v]
    run = simulate_transient(xbar, sources, t_stop, max_step=step, frozen=True, progress=False)
    return run.time, run.output_currents
