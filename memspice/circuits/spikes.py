"""Spike trains from waveforms: threshold crossings and rates (used by neuron circuits and analysis)."""

from __future__ import annotations

import numpy as np


def spike_times(time, signal, level: float) -> np.ndarray:
    """Times (s) where ``signal`` rises through ``level`` (linear interpolation)."""
    v = np.asarray(signal, float) - level
    t = np.asarray(time, float)
    k = np.flatnonzero((v[:-1] < 0) & (v[1:] >= 0))
    return t[k] - v[k] * (t[k + 1] - t[k]) / (v[k + 1] - v[k])


def firing_rate(spikes, duration: float) -> float:
    """Mean rate (Hz): inter-spike rate with >= 2 spikes, else count / duration."""
    s = np.asarray(spikes)
    if s.size >= 2:
        return float((s.size - 1) / (s[-1] - s[0]))
    return float(s.size / duration)
