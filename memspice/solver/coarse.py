"""Coarse space of the structured crossbar solver: smooth voltages on each line family.

The line preconditioner of :mod:`memspice.solver.structured` solves every word line and every bit line
exactly, but it is slow on errors that are smooth over many lines:

* word- and bit-line voltages equal and smooth (phi(i, j) on both).  The cells do not see such an error
  (they carry G (V_w - V_b) = 0); only the wire segments do, along both directions at once, like a 2-D
  resistor grid, which no single-line solve captures;
* bit-line voltages smooth across the columns with the word lines following only in part (or the other way
  round).  A word-line solve hands a bit-line error varying over k columns back to the bit lines damped by
  only G / (G + g_w / k^2), about 1/4 at k ~ 0.8 l; after 3-5 iterations at 1024 x 1024 the bit lines
  carried 3-4x more of the error than the word lines (measured), and a coarse space with V_w = V_b misses
  such errors.

Their count grows with the array (about (n / l)^2 for the length l = sqrt(g_wire / (2 G_mean)) segments
over which a cell leaks as much as the wire conducts), and with it the CG iterations.

This module holds the coarse space: two fields on a coarse grid every ``h`` nodes (plus the last node),
phi_w on the word lines and phi_b on the bit lines, each interpolated bilinearly (Pi), P = diag(Pi, Pi),
and the Galerkin operator P^T A P:

    [ Pi^T (T_w + G + S_w) Pi      -Pi^T G Pi            ]
    [ -Pi^T G Pi                    Pi^T (T_b + G + S_b) Pi ]

T_w, T_b: the wires with the driver and sense links (geometry alone: :class:`CoarseGrid`, built once per
geometry and shared); G: the cells, S_w, S_b: any shifts to ground (C/h in transients), each a 9-point
coarse stencil summed in one pass over the cells.  With one shared field (V_w = V_b, the earlier space) the
cells cancelled; with two they do not, so the operator is rebuilt when the cells change (about 2 ms at
1024 x 1024).  Measured on arrays scaled to 1024 x 1024's leak length (256 and 512 with
cells x16 and x4, residual 1e-10): 7 CG iterations with the shared field, 4 with two.  The operator is small
(at most ``MAX_COARSE`` nodes per direction) and factored as a banded Cholesky, the two fields interleaved
node by node.  The two-level method built on it (deflation, "A-DEF2": Tang, Nabben, Vuik and Erlangga,
J. Sci. Comput. 39, 340 (2009)) is in :mod:`memspice.solver.structured`.
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
#: nor on arrays shorter than this many leak lengths: the sweep alone has few slow modes there (measured,
#: reads to 1e-10, 2 threads, with and without the coarse space: n / l = 1.3: 0.9 / 0.8 ms; 2.6: 4.3 / 6.2;
#: 3.0: 4.7 / 7.3; 5.1: 8.9 / 19.4 ms)
MIN_LENGTHS = 2.0
#: coarse spacing in leak lengths (measured, see :func:`spacing`)
SPACING = 0.5


def spacing(shape: tuple[int, int], g_wire: float, g_mean: float, shift_mean: float = 0.0, force: bool = False) -> int:
    """Coarse-grid spacing (nodes) for a ``shape`` array; 0 when no coarse space is worth building (with
    ``force``: only when none can be built).

    ``g_wire``: the smaller wire-segment conductance (S); ``g_mean``: mean cell conductance (S);
    ``shift_mean``: mean conductance to ground per node (S; damps the slow modes itself).
    The spacing is half the leak length l = sqrt(g_wire / (2 g_mean)), widened to keep at most
    ``MAX_COARSE`` nodes per direction.  Measured at 1024 x 1024 (l = 100, reads to 1e-10): spacing 100,
    5 CG iterations, 62 ms; 50, 4 and 55 ms; 35, 4 and 53 ms; 25, 4 and 57 ms (the factor grows); 200, 8.
    """
    m, n = shape
    longest = max(m, n)
    if force:
        if longest < 3:
            return 0
        length = np.sqrt(g_wire / (2.0 * g_mean)) if g_mean > 0.0 else float(longest)
    else:
        if g_mean <= 0.0 or shift_mean >= 2.0 * g_mean or longest < 4:
            return 0
        length = np.sqrt(g_wire / (2.0 * g_mean))
        if length < MIN_LENGTH or longest < MIN_LENGTHS * length:
            return 0
    h = min(max(2, int(round(SPACING * length))), longest - 1)
    return max(h, -(-(longest - 1) // (MAX_COARSE - 1)))


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


@njit(parallel=True, cache=True, fastmath={"reassoc", "contract"})
def mass_stencil(s, ic, wi, js, wj, mc, nc, chunks):
    """Pi^T diag(s) Pi as 3 x 3 stencils C[a, e, da + 1, de + 1]: the coupling of coarse node (a, e) to
    (a + da, e + de), for conductances s (m x n, S) from each fine node to its other family or to ground.

    One pass over s: along each row, three weighted sums per coarse interval (``js``: left-left,
    left-right, right-right), added with the row's weights into its two coarse rows; the stencil is formed
    from those sums at the end."""
    m, n = s.shape
    segments = js.shape[0] - 1
    rows = -(-m // chunks)
    # R[c, a, d, b, q]: coarse row a coupled to row a + d - 1, coarse interval b, column pair q
    R = np.zeros((chunks, mc + 1, 3, segments, 3))
    for c in prange(chunks):
        t = np.empty((segments, 3))
        for i in range(c * rows, min(m, (c + 1) * rows)):
            for b in range(segments):
                t0 = t1 = t2 = 0.0
                for j in range(js[b], js[b + 1]):
                    w = wj[j]
                    v = s[i, j]
                    t0 += v * w * w
                    t1 += v * w * (1.0 - w)
                    t2 += v * (1.0 - w) * (1.0 - w)
                t[b, 0], t[b, 1], t[b, 2] = t0, t1, t2
            a, u = ic[i], wi[i]
            uu, uv, vv = u * u, u * (1.0 - u), (1.0 - u) * (1.0 - u)
            for b in range(segments):
                for q in range(3):
                    x = t[b, q]
                    R[c, a, 1, b, q] += uu * x
                    R[c, a, 2, b, q] += uv * x
                    R[c, a + 1, 0, b, q] += uv * x
                    R[c, a + 1, 1, b, q] += vv * x
    S = R.sum(axis=0)
    C = np.zeros((mc + 1, nc + 1, 3, 3))
    for a in range(mc):
        for d in range(3):
            for b in range(segments):
                C[a, b, d, 1] += S[a, d, b, 0]
                C[a, b, d, 2] += S[a, d, b, 1]
                C[a, b + 1, d, 0] += S[a, d, b, 1]
                C[a, b + 1, d, 1] += S[a, d, b, 2]
    return C


def _matrix_stencil(M, mc: int, nc: int) -> np.ndarray:
    """3 x 3 stencils C[a, e, da + 1, de + 1] of a 9-point (mc nc) square matrix (row-major coarse
    numbering); entries farther apart (exactly cancelling rounding noise of the Galerkin products) drop."""
    M = M.tocoo()
    a, e = np.divmod(M.row, nc)
    b, f = np.divmod(M.col, nc)
    keep = (np.abs(b - a) <= 1) & (np.abs(f - e) <= 1)
    C = np.zeros((mc + 1, nc + 1, 3, 3))
    np.add.at(C, (a[keep], e[keep], (b - a)[keep] + 1, (f - e)[keep] + 1), M.data[keep])
    return C


@njit(cache=True)
def _band(ww, bb, cells, mc, nc):
    """Lower band (scipy's form) of the two-field Galerkin operator, fields interleaved node by node
    (unknown 2 k + f), from 3 x 3 stencils: word-word ``ww``, bit-bit ``bb``, and the cells, which enter
    both diagonals blocks (already in ``ww``, ``bb``) and, negated, the coupling between the fields."""
    u = 2 * nc + 3  # farthest coupling: (a, e, word) to (a + 1, e + 1, bit)
    ab = np.zeros((u + 1, 2 * mc * nc))
    for a in range(mc):
        for e in range(nc):
            k = a * nc + e
            for di in range(3):
                for dj in range(3):
                    a2, e2 = a + di - 1, e + dj - 1
                    if a2 < 0 or a2 >= mc or e2 < 0 or e2 >= nc:
                        continue
                    k2 = a2 * nc + e2
                    for f in range(2):
                        for f2 in range(2):
                            row, col = 2 * k + f, 2 * k2 + f2
                            if row < col:
                                continue
                            if f == f2:
                                v = ww[a, e, di, dj] if f == 0 else bb[a, e, di, dj]
                            else:
                                v = -cells[a, e, di, dj]
                            ab[row - col, col] += v
    return ab


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


@njit(cache=True)
def coarse_solve(factor, d, mc, nc):
    """Coarse fields c (2, mc + 1, nc + 1), padded by one (zero-weight corners), for restricted residuals d
    (same shape): the two fields interleaved node by node (unknown 2 k + f), as ``factor`` has them."""
    rhs = np.empty(2 * mc * nc)
    for a in range(mc):
        for e in range(nc):
            rhs[2 * (a * nc + e)] = d[0, a, e]
            rhs[2 * (a * nc + e) + 1] = d[1, a, e]
    x = band_solve(factor, rhs)
    c = np.zeros((2, mc + 1, nc + 1))
    for a in range(mc):
        for e in range(nc):
            c[0, a, e] = x[2 * (a * nc + e)]
            c[1, a, e] = x[2 * (a * nc + e) + 1]
    return c


@njit(cache=True)
def segment_starts(jc: np.ndarray, k: int) -> np.ndarray:
    """First fine node of each coarse interval (the nodes with ``jc == b``, b = 0, 1, ...), then n.

    ``jc``: left coarse index of every fine node, from :func:`interpolation` (non-decreasing); ``k``: coarse
    nodes.  Loops over an interval see one pair of coarse values: no per-node branch or gather."""
    n = jc.shape[0]
    segments = max(k - 1, 1)
    js = np.full(segments + 1, n, np.int64)
    js[0] = 0
    b = 0
    for j in range(n):
        while b < jc[j]:
            b += 1
            js[b] = j
    return js


@njit(cache=True, fastmath={"contract"})
def prolong_row(yw, yb, c, ic, wi, js, wj, beta, pw, pb, i):
    """Row i of p = y + P c + beta p: the word lines take field c[0], the bit lines c[1] (each (mc + 1,
    nc + 1), padded); ``js``: the coarse intervals' first nodes (:func:`segment_starts`)."""
    a, w0 = ic[i], wi[i]
    for b in range(js.shape[0] - 1):
        # along the row, P c is linear between the two coarse columns' values
        lw = w0 * c[0, a, b] + (1.0 - w0) * c[0, a + 1, b]
        rw = w0 * c[0, a, b + 1] + (1.0 - w0) * c[0, a + 1, b + 1]
        lb = w0 * c[1, a, b] + (1.0 - w0) * c[1, a + 1, b]
        rb = w0 * c[1, a, b + 1] + (1.0 - w0) * c[1, a + 1, b + 1]
        for j in range(js[b], js[b + 1]):
            v = wj[j]
            pw[i, j] = yw[i, j] + (v * lw + (1.0 - v) * rw) + beta * pw[i, j]
            pb[i, j] = yb[i, j] + (v * lb + (1.0 - v) * rb) + beta * pb[i, j]


@njit(parallel=True, cache=True)
def prolong_update(yw, yb, c, ic, wi, js, wj, beta, pw, pb):
    """p = y + P c + beta p on both families (:func:`prolong_row`)."""
    for i in prange(yw.shape[0]):
        prolong_row(yw, yb, c, ic, wi, js, wj, beta, pw, pb, i)


#: coarse grids kept by :func:`cached_grid` (each well under a MB); assumed: enough for the geometries a
#: session alternates between
CACHE_SIZE = 8
_CACHE: dict[tuple, CoarseGrid] = {}
_CACHE_LOCK = threading.Lock()


def cached_grid(shape, h, gw, gb, g_first, g_last) -> CoarseGrid:
    """The :class:`CoarseGrid` of a geometry, built once (new crossbars and Newton steps of the same
    geometry share it); the oldest of :data:`CACHE_SIZE` goes first."""
    key = (tuple(shape), int(h), float(gw), float(gb), float(g_first), float(g_last))
    grid = _CACHE.get(key)
    if grid is None:
        grid = CoarseGrid(shape, h, gw, gb, g_first, g_last)
        with _CACHE_LOCK:  # Dask's threaded scheduler may build grids side by side
            while len(_CACHE) >= CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
            _CACHE[key] = grid
    return grid


class CoarseGrid:
    """Coarse grid every ``h`` nodes on an m x n array: its interpolation and the wires' coarse operators.

    Read-only once built (shared through :func:`cached_grid`); :meth:`space` adds the cells.

    Parameters
    ----------
    shape : (m, n)
    h : int
        Spacing (nodes), from :func:`spacing`.
    gw, gb, g_first, g_last : float
        Word- and bit-line segment, driver-link and sense-link conductances (S).
    """

    def __init__(self, shape, h, gw, gb, g_first, g_last):
        m, n = shape
        self.h = h
        self.ic, self.wi, self.mc = interpolation(m, h)
        self.jc, self.wj, self.nc = interpolation(n, h)
        self.js = segment_starts(self.jc, self.nc)
        Px = _interp_matrix(self.jc, self.wj, self.nc)
        Py = _interp_matrix(self.ic, self.wi, self.mc)
        Tx = _line_matrix(n, gw, g_first, 0.0)  # word lines: driver at j = 0, open at j = n - 1
        Ty = _line_matrix(m, gb, 0.0, g_last)  # bit lines: open at i = 0, sense link at i = m - 1
        # Pi^T T_w Pi and Pi^T T_b Pi as 3 x 3 stencils
        self.wires_w = _matrix_stencil(sp.kron(Py.T @ Py, Px.T @ Tx @ Px), self.mc, self.nc)
        self.wires_b = _matrix_stencil(sp.kron(Py.T @ Ty @ Py, Px.T @ Px), self.mc, self.nc)

    def stencil(self, s: np.ndarray, chunks: int = 1) -> np.ndarray:
        """Pi^T diag(s) Pi (3 x 3 stencils, :func:`mass_stencil`) for conductances s (m x n, S)."""
        return mass_stencil(
            np.ascontiguousarray(s, float), self.ic, self.wi, self.js, self.wj, self.mc, self.nc, chunks
        )

    def space(self, G: np.ndarray, shift_w=None, shift_b=None, chunks: int = 1) -> CoarseSpace:
        """The factored coarse space for cells G and optional shifts to ground (m x n, S)."""
        cells = self.stencil(G, chunks)
        ww = self.wires_w + cells + (0.0 if shift_w is None else self.stencil(shift_w, chunks))
        bb = self.wires_b + cells + (0.0 if shift_b is None else self.stencil(shift_b, chunks))
        return CoarseSpace(self, _band(ww, bb, cells, self.mc, self.nc))


class CoarseSpace:
    """A :class:`CoarseGrid` with the banded Cholesky factor of its Galerkin operator P^T A P for one set
    of cells.

    Attributes ``ic, wi, jc, wj, js, mc, nc, h`` are the grid's; ``factor`` is the lower band (scipy's
    form, C order), the two fields interleaved node by node (unknown 2 k + f for coarse node k, field f:
    0 word lines, 1 bit lines).
    """

    def __init__(self, grid: CoarseGrid, band: np.ndarray):
        self.grid = grid
        self.ic, self.wi, self.jc, self.wj, self.js = grid.ic, grid.wi, grid.jc, grid.wj, grid.js
        self.mc, self.nc, self.h = grid.mc, grid.nc, grid.h
        # C order: the same compiled kernels serve every size (LAPACK hands back Fortran order)
        self.factor = np.ascontiguousarray(scipy.linalg.cholesky_banded(band, lower=True))

    def solve(self, d: np.ndarray) -> np.ndarray:
        """Coarse values c (2, mc + 1, nc + 1), padded, for a restricted residual d of the same shape."""
        return coarse_solve(self.factor, np.ascontiguousarray(d, float), self.mc, self.nc)
