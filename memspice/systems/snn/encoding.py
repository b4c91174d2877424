"""Spike encodings of images for the word lines: rate (Poisson/Bernoulli) and latency (time to first spike).

A spike is a read pulse on the input's word line lasting one simulation step.
"""

from __future__ import annotations

import numpy as np


def _check(images) -> np.ndarray:
    x = np.asarray(images, dtype=float)
    if x.ndim != 2 or not np.all(np.isfinite(x)) or np.any((x < 0) | (x > 1)):
        raise ValueError("images must be a (samples, inputs) array of intensities in [0, 1]")
    return x


def rate_code(images, steps: int, p_max: float, rng) -> np.ndarray:
    """Bernoulli spike trains: input i spikes in each step with probability ``p_max * images[:, i]``.

    Returns a bool array (samples, steps, inputs).  ``p_max`` in (0, 1]; ``rng`` a
    :func:`numpy.random.default_rng` generator (seeded by the caller).
    """
    x = _check(images)
    if not (isinstance(steps, (int, np.integer)) and steps > 0):
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if not (0 < p_max <= 1):
        raise ValueError(f"p_max must be in (0, 1], got {p_max!r}")
    return rng.random((x.shape[0], steps, x.shape[1])) < (p_max * x)[:, None, :]


def latency_code(images, steps: int, repeat: int = 0) -> np.ndarray:
    """Time-to-first-spike code: intensity q > 0 spikes at step round((1 - q) (steps - 1)).

    Brighter inputs spike earlier; q = 0 never spikes.  ``repeat`` > 0 repeats the spike every
    ``repeat`` steps after the first (a latency-phase burst).  Returns bool (samples, steps, inputs).
    """
    x = _check(images)
    if not (isinstance(steps, (int, np.integer)) and steps > 0):
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    first = np.rint((1 - x) * (steps - 1)).astype(int)
    k = np.arange(steps)[None, :, None]
    on = (x > 0)[:, None, :] & (k >= first[:, None, :])
    if repeat > 0:
        return on & ((k - first[:, None, :]) % repeat == 0)
    return on & (k == first[:, None, :])
