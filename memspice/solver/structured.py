"""Matrix-free solver for crossbars whose word and bit lines both have resistance.

For that (most common, IR-drop) case the nodal matrix never needs to be
stored: word-line node (i, j) couples to its two line neighbours through
g_w = 1/r_word and to bit-line node (i, j) through the cell conductance
G[i, j]; bit-line nodes likewise along columns.  Both node sets are kept as
row-major m x n arrays, so the product with the matrix and the exact
tridiagonal solves of every line (the CG preconditioner) stream through
memory contiguously; numba runs them on all cores.  Memory is ~10 arrays of
m x n float64 (about 80 bytes per cell).
"""
from __future__ import annotations

import numpy as np

try:  # numba is a dependency; without it memspice falls back to the scipy-sparse solvers
    from numba import njit, prange

    AVAILABLE = True
except ImportError:  # pragma: no cover
    AVAILABLE = False

if AVAILABLE:

    @njit(parallel=True, cache=True)
    def _apply(G, gw, gb, dw, db, xw, xb, yw, yb):
        m, n = G.shape
        for i in prange(m):
            for j in range(n):
                s = dw[i, j] * xw[i, j] - G[i, j] * xb[i, j]
                if j > 0:
                    s -= gw * xw[i, j - 1]
                if j < n - 1:
                    s -= gw * xw[i, j + 1]
                yw[i, j] = s
                t = db[i, j] * xb[i, j] - G[i, j] * xw[i, j]
                if i > 0:
                    t -= gb * xb[i - 1, j]
                if i < m - 1:
                    t -= gb * xb[i + 1, j]
                yb[i, j] = t

    @njit(parallel=True, cache=True)
    def _factor(dw, db, gw, gb, ddw, llw, ddb, llb):
        m, n = dw.shape
        for i in prange(m):  # word lines: along j
            ddw[i, 0] = dw[i, 0]
            for j in range(1, n):
                llw[i, j - 1] = -gw / ddw[i, j - 1]
                ddw[i, j] = dw[i, j] - gw * gw / ddw[i, j - 1]
        for j in prange(n):  # bit lines: along i
            ddb[0, j] = db[0, j]
            for i in range(1, m):
                llb[i - 1, j] = -gb / ddb[i - 1, j]
                ddb[i, j] = db[i, j] - gb * gb / ddb[i - 1, j]

    @njit(parallel=True, cache=True)
    def _solve_word_lines(ddw, llw, rw, zw):
        m, n = ddw.shape
        for i in prange(m):
            zw[i, 0] = rw[i, 0]
            for j in range(1, n):
                zw[i, j] = rw[i, j] - llw[i, j - 1] * zw[i, j - 1]
            for j in range(n):
                zw[i, j] /= ddw[i, j]
            for j in range(n - 2, -1, -1):
                zw[i, j] -= llw[i, j] * zw[i, j + 1]

    @njit(parallel=True, cache=True)
    def _solve_bit_lines(ddb, llb, rb, zb):
        # bit lines run down the rows: sweep all columns together, chunked across cores
        m, n = ddb.shape
        chunks = 8
        step = (n + chunks - 1) // chunks
        for c in prange(chunks):
            j0, j1 = c * step, min(n, (c + 1) * step)
            for j in range(j0, j1):
                zb[0, j] = rb[0, j]
            for i in range(1, m):
                for j in range(j0, j1):
                    zb[i, j] = rb[i, j] - llb[i - 1, j] * zb[i - 1, j]
            for i in range(m):
                for j in range(j0, j1):
                    zb[i, j] /= ddb[i, j]
            for i in range(m - 2, -1, -1):
                for j in range(j0, j1):
                    zb[i, j] -= llb[i, j] * zb[i + 1, j]

    @njit(parallel=True, cache=True)
    def _add_coupling(r, G, z, out):
        m, n = r.shape
        for i in prange(m):
            for j in range(n):
                out[i, j] = r[i, j] + G[i, j] * z[i, j]

    @njit(cache=True)
    def _precondition(G, ddw, llw, ddb, llb, rw, rb, zw, zb, tmp):
        """Symmetric block Gauss-Seidel over the two line families: word lines, bit lines,
        word lines again; each block solved exactly.  SPD, so CG keeps its guarantees."""
        _solve_word_lines(ddw, llw, rw, zw)
        _add_coupling(rb, G, zw, tmp)          # r_b - A_bw z_w, with A_bw = -G
        _solve_bit_lines(ddb, llb, tmp, zb)
        _add_coupling(rw, G, zb, tmp)          # r_w - A_wb z_b
        _solve_word_lines(ddw, llw, tmp, zw)

    @njit(parallel=True, cache=True)
    def _dot2(aw, ab, bw, bb):
        m, n = aw.shape
        s = 0.0
        for i in prange(m):
            for j in range(n):
                s += aw[i, j] * bw[i, j] + ab[i, j] * bb[i, j]
        return s

    @njit(parallel=True, cache=True)
    def _axpy2(alpha, xw, xb, yw, yb):
        m, n = xw.shape
        for i in prange(m):
            for j in range(n):
                yw[i, j] += alpha * xw[i, j]
                yb[i, j] += alpha * xb[i, j]

    @njit(parallel=True, cache=True)
    def _xpby2(xw, xb, beta, yw, yb):
        m, n = xw.shape
        for i in prange(m):
            for j in range(n):
                yw[i, j] = xw[i, j] + beta * yw[i, j]
                yb[i, j] = xb[i, j] + beta * yb[i, j]

    @njit(cache=True)
    def _pcg(G, gw, gb, dw, db, ddw, llw, ddb, llb, bw, bb, xw, xb, tol, maxiter):
        rw, rb = np.empty_like(bw), np.empty_like(bb)
        zw, zb = np.empty_like(bw), np.empty_like(bb)
        pw, pb = np.empty_like(bw), np.empty_like(bb)
        qw, qb = np.empty_like(bw), np.empty_like(bb)
        tmp = np.empty_like(bw)
        _apply(G, gw, gb, dw, db, xw, xb, qw, qb)
        rw[:, :] = bw - qw
        rb[:, :] = bb - qb
        bnorm = np.sqrt(_dot2(bw, bb, bw, bb))
        if bnorm == 0.0:
            bnorm = 1.0
        _precondition(G, ddw, llw, ddb, llb, rw, rb, zw, zb, tmp)
        pw[:, :] = zw
        pb[:, :] = zb
        rz = _dot2(rw, rb, zw, zb)
        for it in range(1, maxiter + 1):
            _apply(G, gw, gb, dw, db, pw, pb, qw, qb)
            pq = _dot2(pw, pb, qw, qb)
            if pq <= 0.0:
                return -1
            alpha = rz / pq
            _axpy2(alpha, pw, pb, xw, xb)
            _axpy2(-alpha, qw, qb, rw, rb)
            if np.sqrt(_dot2(rw, rb, rw, rb)) <= tol * bnorm:
                return it
            _precondition(G, ddw, llw, ddb, llb, rw, rb, zw, zb, tmp)
            rz_new = _dot2(rw, rb, zw, zb)
            beta = rz_new / rz
            rz = rz_new
            _xpby2(zw, zb, beta, pw, pb)
        return -1


def applicable(xbar) -> bool:
    """True when numba is installed, both line kinds have resistance and cells are two-terminal."""
    return AVAILABLE and xbar.r_word > 0 and xbar.r_bit > 0 and xbar.cell != "1T1R"


class LineSystem:
    """Matrix-free nodal system of a crossbar with resistive word and bit lines."""

    def __init__(self, xbar, cell_g: np.ndarray):
        m, n = xbar.shape
        self.gw, self.gb = 1.0 / xbar.r_word, 1.0 / xbar.r_bit
        self.g_first = 1.0 / (xbar.r_source + xbar.r_word)
        self.g_last = 1.0 / (xbar.r_bit + xbar.r_sense)
        self.set_cells(np.asarray(cell_g, float).reshape(m, n))

    def set_cells(self, cell_g: np.ndarray) -> None:
        """(Re)build diagonals and line factorisations for cell conductances (S)."""
        G = np.ascontiguousarray(cell_g, dtype=float)
        m, n = G.shape
        dw = G + 2 * self.gw
        dw[:, 0] += self.g_first - self.gw
        dw[:, -1] -= self.gw
        db = G + 2 * self.gb
        db[0, :] -= self.gb
        db[-1, :] += self.g_last - self.gb
        self.G, self.dw, self.db = G, dw, db
        self.ddw, self.llw = np.empty_like(dw), np.empty((m, max(n - 1, 1)))
        self.ddb, self.llb = np.empty_like(db), np.empty((max(m - 1, 1), n))
        _factor(dw, db, self.gw, self.gb, self.ddw, self.llw, self.ddb, self.llb)

    def drive(self, v_word: np.ndarray, v_bit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Right-hand sides (A) for word-line inputs (m,) and bit-line foot voltages (n,), V."""
        bw, bb = np.zeros_like(self.G), np.zeros_like(self.G)
        bw[:, 0] = self.g_first * v_word
        bb[-1, :] = self.g_last * v_bit
        return bw, bb

    def solve(self, bw, bb, tol=1e-12, maxiter=5000, x0=None):
        """Return (V_word, V_bit, iterations) for right-hand sides bw, bb (A, m x n)."""
        xw = np.zeros_like(self.G) if x0 is None else np.array(x0[0], float)
        xb = np.zeros_like(self.G) if x0 is None else np.array(x0[1], float)
        its = _pcg(self.G, self.gw, self.gb, self.dw, self.db, self.ddw, self.llw, self.ddb, self.llb,
                   np.ascontiguousarray(bw, float), np.ascontiguousarray(bb, float), xw, xb, tol, maxiter)
        if its < 0:
            raise RuntimeError(f"structured CG did not reach relative residual {tol:g} in {maxiter} iterations")
        return xw, xb, its

    def apply(self, xw, xb):
        """Matrix product (A) with node voltages xw, xb (V)."""
        yw, yb = np.empty_like(xw), np.empty_like(xb)
        _apply(self.G, self.gw, self.gb, self.dw, self.db, np.ascontiguousarray(xw), np.ascontiguousarray(xb), yw, yb)
        return yw, yb
