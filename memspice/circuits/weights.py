"""Map weight matrices to device conductances: signed weights, variation, faults.

* :func:`conductance_map` scales weights in [w_min, w_max] linearly onto
  [g_min, g_max] (S).
* :func:`differential_pair` stores a signed weight W as G+ - G- in two
  adjacent columns (Bao et al. 2022: differential pairs for negative weights); the
  column order is [w0+, w0-, w1+, w1-, ...].
* :func:`apply_variation` multiplies every conductance by a log-normal
  device-to-device factor; :func:`apply_stuck_faults` pins random cells to
  g_min (stuck-at-OFF) or g_max (stuck-at-ON).  Both take a ``seed`` and are
  reproducible.
"""

from __future__ import annotations

import numpy as np

#: Shi et al. (2025) hardware: pulsed conductance 6.1 uS .. 202.1 uS (TaOx/HfOx 1T1R)
G_MIN, G_MAX = 6.1e-6, 202.1e-6


def _check_range(g_min, g_max):
    if not (np.isfinite(g_min) and np.isfinite(g_max) and 0 <= g_min < g_max):
        raise ValueError(f"need 0 <= g_min < g_max (S), got g_min={g_min!r}, g_max={g_max!r}")


def conductance_map(weights, g_min: float = G_MIN, g_max: float = G_MAX, w_max: float | None = None) -> np.ndarray:
    """Non-negative weights -> conductances (S); ``w_max`` defaults to max(weights)."""
    w = np.asarray(weights, float)
    _check_range(g_min, g_max)
    if w.size == 0:
        raise ValueError(f"weights must not be empty, got shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights contain NaN or inf")
    if np.any(w < 0):
        raise ValueError("weights must be >= 0 here; use differential_pair for signed weights")
    w_max = float(np.max(w)) if w_max is None else float(w_max)
    if w_max <= 0:
        return np.full(w.shape, g_min)
    return g_min + np.clip(w / w_max, 0, 1) * (g_max - g_min)


def differential_pair(weights, g_min: float = G_MIN, g_max: float = G_MAX) -> tuple[np.ndarray, float]:
    """Signed weights (m, k) -> conductances (m, 2k) in column pairs, and the scale (S per unit weight).

    Weight w maps to G+ = g_min + s max(w, 0), G- = g_min + s max(-w, 0), so
    I+ - I- = s (W^T v) exactly for ideal arrays.
    """
    w = np.asarray(weights, float)
    _check_range(g_min, g_max)
    if w.ndim != 2 or w.size == 0 or not np.all(np.isfinite(w)):
        raise ValueError(f"weights must be a finite, non-empty 2-D matrix, got shape {w.shape}")
    peak = float(np.max(np.abs(w))) or 1.0
    scale = (g_max - g_min) / peak
    g = np.empty((w.shape[0], 2 * w.shape[1]))
    g[:, 0::2] = g_min + scale * np.maximum(w, 0)
    g[:, 1::2] = g_min + scale * np.maximum(-w, 0)
    return g, scale


def differential_outputs(column_currents) -> np.ndarray:
    """Column currents (..., 2k) from :func:`differential_pair` columns -> I+ - I- (..., k), A."""
    c = np.asarray(column_currents)
    return c[..., 0::2] - c[..., 1::2]


def apply_variation(g, sigma: float, seed: int | None = 0) -> np.ndarray:
    """Log-normal device-to-device variation: g * exp(N(0, sigma)), sigma dimensionless."""
    if not (np.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma must be >= 0, got {sigma!r}")
    rng = np.random.default_rng(seed)
    g = np.asarray(g, float)
    return g * np.exp(rng.normal(0.0, sigma, g.shape))


def apply_stuck_faults(
    g, p_off: float = 0.0, p_on: float = 0.0, g_min: float = G_MIN, g_max: float = G_MAX, seed: int | None = 0
) -> np.ndarray:
    """Pin a fraction ``p_off`` of cells to g_min and ``p_on`` to g_max (S), reproducibly."""
    if not (0 <= p_off <= 1 and 0 <= p_on <= 1 and p_off + p_on <= 1):
        raise ValueError(f"need 0 <= p_off, p_on and p_off + p_on <= 1, got {p_off!r}, {p_on!r}")
    rng = np.random.default_rng(seed)
    g = np.array(g, float)
    r = rng.random(g.shape)
    g[r < p_off] = g_min
    g[(r >= p_off) & (r < p_off + p_on)] = g_max
    return g
