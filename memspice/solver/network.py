"""Sparse nodal description of a crossbar (own MNA; only node voltages are unknown).

Unknowns are the word-line node voltages (row-major) followed by the
bit-line node voltages (column-major), so every line is a run of
consecutive indices and the wire-only matrix is tridiagonal.  Lines with
zero resistance collapse to one node; a line with zero resistance to an
ideal driver or sense node is fixed and drops out of the unknowns.

With ``u = B V + C v_in`` the cell voltages (wl minus bl, V) and ``i(u)``
the cell currents (A), Kirchhoff's current law reads

    A_w V - W v_in + B^T i(B V + C v_in) = 0,

where ``A_w`` holds the wire conductances (S) and ``W`` the driver
couplings.  For linear cells of conductance g this is the SPD system
(A_w + B^T g B) V = W v_in - B^T g C v_in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass
class CrossbarNetwork:
    """Sparse matrices of one crossbar geometry (see module docstring)."""

    m: int
    n: int
    n_unknown: int
    A_wire: sp.csr_matrix  # (N, N) S
    W_drive: sp.csr_matrix  # (N, m+n) S: links to word-line drivers and bit-line foot voltages
    B: sp.csr_matrix  # (m*n, N) incidence: +1 word-line end, -1 bit-line end
    C: sp.csr_matrix  # (m*n, m+n) cell voltage from fixed nodes: C_word - C_bit
    C_word: sp.csr_matrix  # (m*n, m+n) word-line end value when that node is fixed
    C_bit: sp.csr_matrix  # (m*n, m+n) bit-line end value when that node is fixed
    wl_index: np.ndarray  # (m, n) unknown index of each cell's word-line node, -1 if fixed
    bl_index: np.ndarray  # (m, n) unknown index of each cell's bit-line node, -1 if fixed (0 V)


def _line(count: int, length: int, g_seg: float, g_end: float, start: int):
    """Index map and wire stamps for ``count`` lines of ``length`` nodes.

    Node 0 of each line meets the fixed end (driver or sense) through g_end.
    Returns (index (count, length), rows, cols, vals of A entries, end rows,
    end vals, next free index).  g = inf means a zero-resistance link.
    """
    if np.isinf(g_seg) and np.isinf(g_end):
        return np.full((count, length), -1), [], [], [], np.array([], int), np.array([]), start
    if np.isinf(g_seg):
        idx = np.repeat(np.arange(start, start + count)[:, None], length, axis=1)
        ends = np.arange(start, start + count)
        return idx, [ends], [ends], [np.full(count, g_end)], ends, np.full(count, g_end), start + count
    idx = start + np.arange(count * length).reshape(count, length)
    a, b = idx[:, :-1].ravel(), idx[:, 1:].ravel()
    gs = np.full(a.size, g_seg)
    ends = idx[:, 0]
    rows = [a, b, a, b, ends]
    cols = [a, b, b, a, ends]
    vals = [gs, gs, -gs, -gs, np.full(count, g_end)]
    if np.isinf(g_end):
        raise ValueError("a line with resistance cannot end in a zero-resistance fixed node")
    return idx, rows, cols, vals, ends, np.full(count, g_end), start + count * length


def _conductance(r: float) -> float:
    return np.inf if r == 0 else 1.0 / r


def build_network(xbar) -> CrossbarNetwork:
    """Assemble the sparse matrices of ``xbar`` (a :class:`~memspice.circuits.crossbar.Crossbar`)."""
    m, n = xbar.shape
    # word lines: m lines of n nodes, fixed end = driver; bit lines: n lines of m nodes, end = sense (0 V)
    g_word, g_bit = _conductance(xbar.r_word), _conductance(xbar.r_bit)
    g_drv = _conductance(xbar.r_first)
    g_sns = _conductance(xbar.r_last)
    if np.isinf(g_word) and not np.isinf(g_drv):
        g_drv = _conductance(xbar.r_source)
    if np.isinf(g_bit) and not np.isinf(g_sns):
        g_sns = _conductance(xbar.r_sense)
    wl, r1, c1, v1, wl_ends, wl_end_g, nxt = _line(m, n, g_word, g_drv, 0)
    blT, r2, c2, v2, bl_ends, bl_end_g, nxt = _line(n, m, g_bit, g_sns, nxt)
    if not np.isinf(g_bit):
        # the bit line's fixed end is its bottom node (row m-1): reverse the order along the line
        blT = blT[:, ::-1]
    bl = blT.T  # (m, n)
    N = int(nxt)
    cat = lambda parts: np.concatenate(parts) if parts else np.array([])  # noqa: E731
    A = sp.csr_matrix(
        (cat(v1 + v2), (cat(r1 + r2).astype(np.int64, copy=False), cat(c1 + c2).astype(np.int64, copy=False))),
        shape=(N, N),
    )
    W = sp.csr_matrix(
        (
            np.concatenate([wl_end_g, bl_end_g]),
            (
                np.concatenate([wl_ends, bl_ends]),
                np.concatenate([np.arange(m)[: wl_ends.size], m + np.arange(n)[: bl_ends.size]]),
            ),
        ),
        shape=(N, m + n),
    )
    cells = np.arange(m * n)
    wl_f, bl_f = wl.ravel(), bl.ravel()
    rows_b = np.concatenate([cells[wl_f >= 0], cells[bl_f >= 0]])
    cols_b = np.concatenate([wl_f[wl_f >= 0], bl_f[bl_f >= 0]])
    vals_b = np.concatenate([np.ones((wl_f >= 0).sum()), -np.ones((bl_f >= 0).sum())])
    Bm = sp.csr_matrix((vals_b, (rows_b, cols_b)), shape=(m * n, N))
    fixed_wl, fixed_bl = cells[wl_f < 0], cells[bl_f < 0]
    Cw = sp.csr_matrix((np.ones(fixed_wl.size), (fixed_wl, fixed_wl // n)), shape=(m * n, m + n))
    Cb = sp.csr_matrix((np.ones(fixed_bl.size), (fixed_bl, m + fixed_bl % n)), shape=(m * n, m + n))
    return CrossbarNetwork(m, n, N, A, W, Bm, (Cw - Cb).tocsr(), Cw, Cb, wl, bl)


def end_incidences(net: CrossbarNetwork) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """(B_word, B_bit): +1 incidence of each cell's word-line and bit-line node; B = B_word - B_bit."""
    Bp = net.B.copy()
    Bp.data = np.where(Bp.data > 0, 1.0, 0.0)
    Bn = net.B.copy()
    Bn.data = np.where(Bn.data < 0, 1.0, 0.0)
    Bp.eliminate_zeros()
    Bn.eliminate_zeros()
    return Bp, Bn
