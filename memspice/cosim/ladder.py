"""Port self-admittances of a crossbar's lines as resistive ladders (compiled by numba).

Each line is a ladder: segments of resistance ``r_seg`` between neighbouring cell positions, and at every
position a shunt to the crossing line (held fixed) of the cell's small-signal conductance plus the line
capacitance over the time step; the port sees the ladder through ``r_end`` (driver or sense resistance).
The recursion from the far end, ``Y <- y_k + Y / (1 + r_seg Y)``, is exact for that network.
"""

from __future__ import annotations

import numpy as np

from ..solver import structured  # noqa: F401  (configures numba's cache folder before anything compiles)

try:
    from numba import njit
except ImportError:  # pragma: no cover - numba is a dependency
    njit = None


def _word(g, r_seg, r_end, s, out):
    m, n = g.shape
    for i in range(m):
        if r_seg == 0.0:
            y = n * s
            for j in range(n):
                y += g[i, j]
        else:
            y = g[i, n - 1] + s
            for j in range(n - 2, -1, -1):
                y = g[i, j] + s + y / (1.0 + r_seg * y)
        out[i] = y / (1.0 + r_end * y)


def _bit(g, r_seg, r_end, s, out):
    m, n = g.shape
    for j in range(n):
        if r_seg == 0.0:
            y = m * s
            for i in range(m):
                y += g[i, j]
        else:
            y = g[0, j] + s
            for i in range(1, m):
                y = g[i, j] + s + y / (1.0 + r_seg * y)
        out[j] = y / (1.0 + r_end * y)


if njit is not None:
    _word = njit(cache=True)(_word)
    _bit = njit(cache=True)(_bit)


def ladders(g: np.ndarray, r_word: float, r_first: float, r_bit: float, r_last: float, s_word: float, s_bit: float):
    """Admittances (S) at the m word-line ports (driver end, column 0) and the n bit-line ports (foot, row m-1).

    ``g``: cell conductances (S, m x n); ``r_word``, ``r_bit``: segment resistances (Ohm); ``r_first``,
    ``r_last``: port-to-first-node resistances (Ohm); ``s_word``, ``s_bit``: shunt per position (S).
    """
    g = np.ascontiguousarray(g, dtype=float)
    m, n = g.shape
    w, b = np.empty(m), np.empty(n)
    _word(g, float(r_word), float(r_first), float(s_word), w)
    _bit(g, float(r_bit), float(r_last), float(s_bit), b)
    return np.concatenate([w, b])
