"""Measurements on waveforms and crossbar results (SI units throughout)."""

from __future__ import annotations

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


def ir_drop_map(solution, voltages, k: int = 0) -> np.ndarray:
    """Per-cell loss of read voltage (V), (m, n): applied row voltage minus the cell's actual voltage.

    ``voltages``: the inputs solved, (m,) or (p, m) V (vectors first); ``k``: which vector.
    """
    v = np.atleast_2d(np.asarray(voltages, float))
    cell = solution.word_line_voltages[k] - solution.bit_line_voltages[k]
    return v[k][:, None] - cell


def energy(time, voltage, current) -> float:
    """Energy (J) delivered: integral of v(t) i(t) dt."""
    return float(np.trapezoid(np.asarray(voltage) * np.asarray(current), np.asarray(time)))
