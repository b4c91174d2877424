"""Half-select biasing for programming one cell of a passive crossbar.

* V/2: selected word line at V, selected bit line at 0, every other line at
  V/2: half-selected cells see V/2, unselected cells 0.
* V/3: selected word line at V, selected bit line at 0, other word lines at
  V/3, other bit lines at 2V/3: half-selected cells see V/3, unselected
  cells -V/3 (spiking-network review, Chip 3, 100093 (2024): write schemes V/2 and V/3).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .crossbar import Crossbar

SCHEMES = ("V/2", "V/3")


def write_bias(m: int, n: int, target: tuple[int, int], v_write: float, scheme: str = "V/2"):
    """Word-line (m,) and bit-line (n,) voltages (V) that program cell ``target``."""
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    i, j = target
    if not (0 <= i < m and 0 <= j < n):
        raise ValueError(f"target {target} is outside the {m}x{n} array")
    if not np.isfinite(v_write):
        raise ValueError(f"v_write must be finite, got {v_write!r}")
    if scheme == "V/2":
        rows, cols = np.full(m, v_write / 2), np.full(n, v_write / 2)
    else:
        rows, cols = np.full(m, v_write / 3), np.full(n, 2 * v_write / 3)
    rows[i], cols[j] = v_write, 0.0
    return rows, cols


def write_crossbar(xbar: Crossbar, target, v_write: float, scheme: str = "V/2"):
    """(crossbar with the bit-line biases applied, word-line voltages) for a write of ``target``."""
    rows, cols = write_bias(xbar.m, xbar.n, target, v_write, scheme)
    return dataclasses.replace(xbar, bit_bias=cols), rows


def disturb_report(device_currents: np.ndarray, target) -> dict:
    """Selected-cell current and the largest |current| of half-selected and unselected cells (A).

    ``device_currents``: (m, n), or a solution's (p, m, n) (the first vector is used).
    """
    cur = np.asarray(device_currents)
    if cur.ndim == 3:
        cur = cur[0]
    i, j = target
    half = np.zeros(cur.shape, bool)
    half[i, :] = half[:, j] = True
    half[i, j] = False
    other = ~half
    other[i, j] = False
    return {
        "selected": float(cur[i, j]),
        "half_selected_max": float(np.max(np.abs(cur[half]))) if half.any() else 0.0,
        "unselected_max": float(np.max(np.abs(cur[other]))) if other.any() else 0.0,
    }
