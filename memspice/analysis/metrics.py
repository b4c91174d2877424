"""Measurements on waveforms and crossbar results (SI units throughout)."""

from __future__ import annotations

import warnings

import numpy as np

from ..circuits.spikes import firing_rate, spike_times

__all__ = ["firing_rate", "spike_times"]  # spike metrics live beside the neuron circuits


def settling_time(time, signal, tolerance: float = 0.01, final: float | None = None) -> float:
    """First time (s) after which ``signal`` stays within ``tolerance`` (relative) of its final value."""
    t, y = np.asarray(time, float), np.asarray(signal, float)
    final = y[-1] if final is None else final
    band = tolerance * max(abs(final), np.max(np.abs(y - final)) * 1e-12, 1e-300)
    outside = np.flatnonzero(np.abs(y - final) > band)
    if outside.size == 0:
        return float(t[0])
    k = outside[-1]
    return float(t[min(k + 1, t.size - 1)])


def mvm_error(outputs, ideal) -> dict:
    """Errors of column outputs against the ideal G^T v: max and RMS, relative to max |ideal|."""
    out, ref = np.asarray(outputs, float), np.asarray(ideal, float)
    scale = float(np.max(np.abs(ref))) or 1.0
    diff = out - ref
    return {"max_rel": float(np.max(np.abs(diff)) / scale), "rms_rel": float(np.sqrt(np.mean(diff**2)) / scale)}


def ir_drop_map(solution, k: int = 0, voltages=None) -> np.ndarray:
    """Per-cell loss of read voltage (V), (m, n), of input vector ``k``: the row's applied input minus the
    bias at the cell's bit-line foot, minus the cell's actual voltage (0 everywhere without wire resistance).

    ``solution``: a :class:`~memspice.solver.solution.CrossbarSolution` (it keeps its inputs and crossbar;
    only vector ``k``'s per-cell arrays are computed where the solution is lazy).

    The old form ``ir_drop_map(solution, voltages, k=0)`` still works (``FutureWarning``): ``voltages`` are
    then the inputs, (m,) or (p, m) V, and the bit-line biases are taken as 0 V, as it always did.
    """
    if voltages is not None or not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        if voltages is None:  # ir_drop_map(solution, voltages[, k])
            voltages, k = k, 0
        elif not isinstance(k, (int, np.integer)):  # ir_drop_map(solution, voltages, k) positionally
            voltages, k = k, voltages
        warnings.warn(
            "ir_drop_map(solution, voltages, k) is deprecated: the solution keeps its inputs, call "
            "ir_drop_map(solution, k)",
            FutureWarning,
            stacklevel=2,
        )
        v = np.atleast_2d(np.asarray(voltages, float))
        return v[k][:, None] - solution.cell_voltages_of(k)
    applied = solution.inputs_of(k)[:, None]
    xbar = getattr(solution, "xbar", None)
    if xbar is not None:
        applied = applied - xbar.bit_voltages[None, :]
    return applied - solution.cell_voltages_of(k)


def energy(time, voltage, current) -> float:
    """Energy (J) delivered: integral of v(t) i(t) dt."""
    return float(np.trapezoid(np.asarray(voltage) * np.asarray(current), np.asarray(time)))
