"""Coarse space of the structured crossbar solver: smooth equal voltages on both line families.

The line preconditioner of :mod:`memspice.solver.structured` solves every word line and every bit line
exactly, but it is slow on one kind of error: word- and bit-line voltages equal and smooth over many lines
(phi(i, j) on both).  The cells do not see such an error (they carry G (V_w - V_b) = 0); only the wire
segments do, along both directions at once, like a 2-D resistor grid, which no single-line solve captures.
Measured with scipy on 32 x 32 arrays scaled to 1024 x 1024's ratio of cell to wire conductance, the
smallest eigenvectors of the line-preconditioned operator are exactly of that kind (correlation of the
word- and bit-line parts 0.99-1.00).  Their count grows with the array (about (n / l)^2 for the length
l = sqrt(g_wire / (2 G_mean)) segments over which a cell leaks as much as the wire conducts), and with it
the CG iterations.

This module holds that coarse space: phi on a coarse grid every ``h`` nodes (plus the last node), bilinear
interpolation P to both families, and the Galerkin operator P^T A P.  The cell conductances cancel in it
(P phi has V_w = V_b), so it is a 9-point resistor-grid operator of the wires and the driver and sense links
(plus any shift to ground, C/h in transients): it does not change when the cells do (Newton steps), and it
is small (at most ``MAX_COARSE`` nodes per direction), so it is factored once as a banded Cholesky.
The two-level method built on it (deflation, "A-DEF2": Tang, Nabben, Vuik and Erlangga, J. Sci. Comput.
39, 340 (2009)) is in :mod:`memspice.solver.structured`.
"""

from __future__ import annotations

import threading

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from numba import njit, prange

#: most coarse nodes per direction (assumed: keeps the banded factor below ~4 MB and its solve below a
#: few hundred microseconds; arrays with more, shorter slow modes get a coarser grid than ``l``)
MAX_COARSE = 64
#: below this length (segments) the line preconditioner alone has no slow modes to speak of (measured:
#: 128 x 128, l ~ 1-3: 4-5 CG iterations either way), so no coarse space is built
MIN_LENGTH = 2.0
#: nor on arrays shorter than this many leak lengths: the sweep alone has few slow modes there, and the
#: coarse space's extra passes (~25% per iteration) cost what the saved iterations gain (measured, one
#: thread, CPU time with/without: n / l = 2.6: 9.1/8.2 ms; 5.1: 47/44, 11/11 and 2.3/3.3 ms; 7.7: 135/166 ms)
MIN_LENGTHS = 5.0


def spacing(shape: tuple[int, int], g_wire: float, g_mean: float, shift_mean: float = 0.0) -> int:
    """Coarse-grid spacing (nodes) for a ``shape`` array; 0 when no coarse space is worth building.

    ``g_wire``: the smaller wire-segment conductance (S); ``g_mean``: mean cell conductance (S);
    ``shift_mean``: mean conductance to ground per node (S; damps the slow modes itself).
    The spacing is the leak length l = sqrt(g_wire / (2 g_mean)) (measured best at l..2 l on
    128-512 arrays scaled to 1024-4096's ratio), widened to keep at most ``MAX_COARSE`` nodes per direction.
    """
    m, n = shape
    if g_mean <= 0.0 or shift_mean >= 2.0 * g_mean or max(m, n) < 4:
        return 0
    length = np.sqrt(g_wire / (2.0 * g_mean))
    if length < MIN_LENGTH or max(m, n) < MIN_LENGTHS * length:
        return 0
    h = max(2, int(round(length)))
    return max(h, -(-(max(m, n) - 1) // (MAX_COARSE - 1)))


def interpolation(n: int, h: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Linear interpolation from coarse nodes 0, h, 2h, ..., n - 1 to the n fine nodes of one direction.

    Returns (left coarse index (n,), weight of that left node (n,), number of coarse nodes); the right
    node (index + 1) gets 1 - weight (0 at the last fine node).
    """
    nodes = np.arange(0, n, h)
    if nodes[-1] != n - 1:
        nodes = np.append(nodes, n - 1)
    k = len(nodes)
    j = np.arange(n)
    if k < 2:
        return np.zeros(n, np.int64), np.ones(n), 1
    idx = np.minimum(np.searchsorted(nodes, j, side="right") - 1, k - 2)
    w = 1.0 - (j - nodes[idx]) / (nodes[idx + 1] - nodes[idx])
    return idx.astype(np.int64), w, k


def _interp_matrix(idx, w, k):
    n = len(idx)
    rows = np.concatenate([np.arange(n), np.arange(n)])
    cols = np.concatenate([idx, idx + 1])
    vals = np.concatenate([w, 1.0 - w])
    keep = (cols < k) & (vals != 0.0)
    return sp.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=(n, k))


def _line_matrix(n: int, g: float, g_in: float, g_out: float):
    """Wire-only tridiagonal matrix of one line of n nodes: segments g, link g_in before node 0 and g_out
    after node n - 1 (to fixed voltages)."""
    d = np.full(n, 2.0 * g)
    d[0] += g_in - g
    d[-1] += g_out - g
    return sp.diags([d, np.full(n - 1, -g), np.full(n - 1, -g)], [0, -1, 1], shape=(n, n), format="csr")


@njit(cache=True)
def _shift_stencil(s, ic, wi, jc, wj, mc, nc):
    """sum over fine nodes of s P^T P as 3 x 3 stencils C[a_i, a_j, di + 1, dj + 1] on the coarse grid."""
    m, n = s.shape
    C = np.zeros((mc + 1, nc + 1, 3, 3))
    for i in range(m):
        for j in range(n):
            v = s[i, j]
            if v == 0.0:
                continue
            for da in range(2):
                wa = wi[i] if da == 0 else 1.0 - wi[i]
                for ea in range(2):
                    wae = wa * (wj[j] if ea == 0 else 1.0 - wj[j])
                    for db in range(2):
                        wb = wi[i] if db == 0 else 1.0 - wi[i]
                        for eb in range(2):
                            wbe = wb * (wj[j] if eb == 0 else 1.0 - wj[j])
                            C[ic[i] + da, jc[j] + ea, db - da + 1, eb - ea + 1] += v * wae * wbe
    return C


@njit(cache=True)
def band_solve(cb, b):
    """Solve L L^T x = b for a banded Cholesky factor in scipy's lower form (cb[k, i] = L[i + k, i])."""
    u = cb.shape[0] - 1
    N = b.size
    y = b.copy()
    for i in range(N):
        s = y[i]
        for k in range(1, min(u, i) + 1):
            s -= cb[k, i - k] * y[i - k]
        y[i] = s / cb[0, i]
    for i in range(N - 1, -1, -1):
        s = y[i]
        for k in range(1, min(u, N - 1 - i) + 1):
            s -= cb[k, i] * y[i + k]
        y[i] = s / cb[0, i]
    return y


@njit(parallel=True, cache=True)
def prolong_update(yw, yb, c, ic, wi, jc, wj, beta, pw, pb):
    """p = y + P c + beta p on both families (P c is the same on word and bit lines)."""
    m, n = yw.shape
    for i in prange(m):
        a, w0 = ic[i], wi[i]
        for j in range(n):
            b, v0 = jc[j], wj[j]
            pc = w0 * (v0 * c[a, b] + (1.0 - v0) * c[a, b + 1]) + (1.0 - w0) * (
                v0 * c[a + 1, b] + (1.0 - v0) * c[a + 1, b + 1]
            )
            pw[i, j] = yw[i, j] + pc + beta * pw[i, j]
            pb[i, j] = yb[i, j] + pc + beta * pb[i, j]


#: coarse spaces kept by :func:`cached_space` (each a few MB at most); assumed: enough for the geometries a
#: session alternates between
CACHE_SIZE = 8
_CACHE: dict[tuple, CoarseSpace] = {}
_CACHE_LOCK = threading.Lock()


def cached_space(shape, h, gw, gb, g_first, g_last) -> CoarseSpace:
    """The :class:`CoarseSpace` of an unshifted system, built once per geometry (saves ~5 ms per read at
    1024 x 1024, 3% of it); the oldest of :data:`CACHE_SIZE` goes first."""
    key = (tuple(shape), int(h), float(gw), float(gb), float(g_first), float(g_last))
    space = _CACHE.get(key)
    if space is None:
        space = CoarseSpace(shape, h, gw, gb, g_first, g_last)
        with _CACHE_LOCK:  # Dask's threaded scheduler may build spaces side by side
            while len(_CACHE) >= CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = space
    return space


class CoarseSpace:
    """Coarse grid every ``h`` nodes on an m x n array, its interpolation and factored Galerkin operator.

    Read-only once built (shared between systems through :func:`cached_space`).

    Parameters
    ----------
    shape : (m, n)
    h : int
        Spacing (nodes), from :func:`spacing`.
    gw, gb, g_first, g_last : float
        Word- and bit-line segment, driver-link and sense-link conductances (S).
    shift : ndarray (m, n) or None
        Extra conductance to ground per node, word plus bit line (S).
    """

    def __init__(self, shape, h, gw, gb, g_first, g_last, shift=None):
        m, n = shape
        self.h = h
        self.ic, self.wi, self.mc = interpolation(m, h)
        self.jc, self.wj, self.nc = interpolation(n, h)
        Px = _interp_matrix(self.jc, self.wj, self.nc)
        Py = _interp_matrix(self.ic, self.wi, self.mc)
        Tx = _line_matrix(n, gw, g_first, 0.0)  # word lines: driver at j = 0, open at j = n - 1
        Ty = _line_matrix(m, gb, 0.0, g_last)  # bit lines: open at i = 0, sense link at i = m - 1
        A = sp.kron(Py.T @ Py, Px.T @ Tx @ Px) + sp.kron(Py.T @ Ty @ Py, Px.T @ Px)
        if shift is not None:
            A = A + self._shift_matrix(np.ascontiguousarray(shift, float))
        A = A.tocoo()
        u = self.nc + 1  # row-major coarse numbering
        # 9-point stencil; P^T T P also holds structurally present, exactly cancelling entries two coarse
        # nodes apart (rounding noise), which the band leaves out
        lower = (A.row >= A.col) & (A.row - A.col <= u)
        ab = np.zeros((u + 1, self.mc * self.nc))
        ab[A.row[lower] - A.col[lower], A.col[lower]] += A.data[lower]
        # C order: the same compiled kernels serve every size (LAPACK hands back Fortran order)
        self.factor = np.ascontiguousarray(scipy.linalg.cholesky_banded(ab, lower=True))

    def _shift_matrix(self, s):
        C = _shift_stencil(s, self.ic, self.wi, self.jc, self.wj, self.mc, self.nc)
        rows, cols, vals = [], [], []
        a_i, a_j = np.meshgrid(np.arange(self.mc), np.arange(self.nc), indexing="ij")
        for di in range(3):
            for dj in range(3):
                b_i, b_j = a_i + di - 1, a_j + dj - 1
                ok = (b_i >= 0) & (b_i < self.mc) & (b_j >= 0) & (b_j < self.nc)
                rows.append((a_i * self.nc + a_j)[ok])
                cols.append((b_i * self.nc + b_j)[ok])
                vals.append(C[: self.mc, : self.nc, di, dj][ok])
        N = self.mc * self.nc
        return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(N, N))

    def solve(self, d: np.ndarray) -> np.ndarray:
        """Coarse values (padded (mc + 1, nc + 1)) for a restricted residual d (padded, same shape)."""
        x = band_solve(self.factor, np.ascontiguousarray(d[: self.mc, : self.nc]).ravel())
        c = np.zeros((self.mc + 1, self.nc + 1))  # padded by one (zero-weight corners)
        c[: self.mc, : self.nc] = x.reshape(self.mc, self.nc)
        return c
