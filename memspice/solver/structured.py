"""Matrix-free solver for crossbars whose word and bit lines both have resistance.

For that (most common, IR-drop) case the nodal matrix never needs to be
stored: word-line node (i, j) couples to its two line neighbours through
g_w = 1/r_word and to bit-line node (i, j) through the cell conductance
G[i, j]; bit-line nodes likewise along columns.  Both node sets are kept as
row-major m x n arrays, so the product with the matrix and the exact
tridiagonal solves of every line stream through memory contiguously; numba
runs them on all cores.

The solver is CG preconditioned in two levels:

* a symmetric block Gauss-Seidel sweep over the two line families (word lines, bit lines, word lines
  again), each line solved exactly by its LDL^T factor (inverse pivots stored in float32: the
  preconditioner only has to be SPD, the accuracy comes from CG's residual tests in float64);
* a coarse correction on the errors that sweep leaves: word- and bit-line voltages smooth over many lines,
  one coarse field for each family (:mod:`memspice.solver.coarse`), applied by deflation (A-DEF2, Tang et
  al., J. Sci. Comput. 39, 340 (2009)): z = y + Q (r - A y), y the sweep's answer,
  Q = P (P^T A P)^-1 P^T, starting from an x0 with P^T r0 = 0, where it equals the symmetric two-level
  method and CG keeps its guarantees.  At 1024 x 1024 (1 Ohm wires, cells 1e-6..1e-4 S) a read to 1e-10
  takes 4 iterations (9 with one field shared by both families; measured, benchmarks/crossbar_dc.py).

Memory: the cell conductances (float64, 8 bytes per cell), two float32 pivot arrays (8), the CG vectors x
and r in float64 (32), the preconditioned residual z and the direction p in float32 (16): 64 bytes per
cell besides the caller's right-hand side (a read, :meth:`LineSystem.read`, keeps that on the driven
edges).  The diagonals are not stored: they follow from G, the wire and
link conductances and the optional shifts, and A p is never stored either: the CG update recomputes it row
by row (reading G and p again costs less memory traffic than writing and reading A p), after a pass that
only sums p . A p.  Per iteration the kernels stream each array about once: the CG update is fused with the
first word-line sweep, and the coarse restriction with the last (benchmarks/crossbar_dc.py).
"""

from __future__ import annotations

import numpy as np

from .numba_cache import configure as _configure_numba_cache
from .threads import configure_from_environment as _configure_threads
from .threads import threads_for, using_threads

_configure_numba_cache()

try:  # numba is a dependency; without it memspice falls back to the scipy-sparse solvers
    from numba import get_num_threads, njit, prange

    AVAILABLE = True
except ImportError:  # pragma: no cover
    AVAILABLE = False

if AVAILABLE:
    _configure_threads()  # MEMSPICE_THREADS, when set
    from . import coarse as _coarse

#: LLVM may reorder the additions of sums (dot products, norms, restrictions) to vectorise them; no
#: other fast-math assumption (NaN and inf stay meaningful)
_REDUCE = {"reassoc", "contract"}

if AVAILABLE:

    @njit(cache=True, fastmath=_REDUCE)
    def _node_product(Gi, basew, bi, gw, cu, cd, a, b, up, dn, yw, yb, j, left, right):
        """Node j of a row of y = A x, its word-line neighbours' voltages given (0 past the line's ends);
        returns its part of x . y.  Every term is a float64 product, also for float32 x."""
        g = Gi[j]
        s = (g + basew[j]) * a[j] - g * b[j] - gw * left - gw * right
        t = (g + bi) * b[j] - g * a[j] - cu * up[j] - cd * dn[j]
        yw[j] = s
        yb[j] = t
        return s * a[j] + t * b[j]

    @njit(cache=True, fastmath=_REDUCE)
    def _row_product(G, gw, gb, basew, baseb, sw, sb, shifted, xw, xb, i, yw, yb):
        """Row i of y = A x into yw, yb (n,); returns that row's part of x . y.  The one place of the stencil.

        Branch-free over the row's interior (vectorised): the bit-line neighbours of the first and last
        rows are weighted 0, the word-line ends are done apart."""
        m, n = G.shape
        cu = gb if i > 0 else 0.0
        cd = gb if i < m - 1 else 0.0
        Gi, a, b = G[i], xw[i], xb[i]
        up, dn = xb[max(i - 1, 0)], xb[min(i + 1, m - 1)]
        bi = baseb[i]
        if n == 1:
            acc = _node_product(Gi, basew, bi, gw, cu, cd, a, b, up, dn, yw, yb, 0, 0.0, 0.0)
        else:
            acc = _node_product(Gi, basew, bi, gw, cu, cd, a, b, up, dn, yw, yb, 0, 0.0, a[1])
            acc += _node_product(Gi, basew, bi, gw, cu, cd, a, b, up, dn, yw, yb, n - 1, a[n - 2], 0.0)
        for j in range(1, n - 1):
            acc += _node_product(Gi, basew, bi, gw, cu, cd, a, b, up, dn, yw, yb, j, a[j - 1], a[j + 1])
        if shifted:
            swi, sbi = sw[i], sb[i]
            for j in range(n):
                u = swi[j] * a[j]
                v = sbi[j] * b[j]
                yw[j] += u
                yb[j] += v
                acc += u * a[j] + v * b[j]
        return acc

    @njit(parallel=True, cache=True, fastmath=_REDUCE)
    def _apply(G, gw, gb, basew, baseb, sw, sb, shifted, xw, xb, yw, yb):
        """y = A x; returns x . y."""
        m = G.shape[0]
        acc = 0.0
        for i in prange(m):
            acc += _row_product(G, gw, gb, basew, baseb, sw, sb, shifted, xw, xb, i, yw[i], yb[i])
        return acc

    @njit(parallel=True, cache=True, fastmath=_REDUCE)
    def _curvature(G, gw, gb, basew, baseb, sw, sb, shifted, xw, xb, chunks):
        """x . A x without storing A x (row buffers stay in cache)."""
        m, n = G.shape
        rows = -(-m // chunks)
        acc = np.zeros(chunks)
        for c in prange(chunks):
            yw, yb = np.empty(n), np.empty(n)
            s = 0.0
            for i in range(c * rows, min(m, (c + 1) * rows)):
                s += _row_product(G, gw, gb, basew, baseb, sw, sb, shifted, xw, xb, i, yw, yb)
            acc[c] = s
        return acc.sum()

    @njit(cache=True)
    def _rhs(bw, bb, edge, i, j, m):
        """(word, bit) right-hand side at node (i, j): bw, bb are m x n, or with ``edge`` the driven edges
        alone, bw[i, 0] into word-line node (i, 0) and bb[0, j] into bit-line node (m - 1, j)."""
        if not edge:
            return bw[i, j], bb[i, j]
        return (bw[i, 0] if j == 0 else 0.0), (bb[0, j] if i == m - 1 else 0.0)

    @njit(parallel=True, cache=True, fastmath=_REDUCE)
    def _residual(G, gw, gb, basew, baseb, sw, sb, shifted, bw, bb, edge, scale, xw, xb, rw, rb):
        """r = b / scale - A x; returns (r . r, (b / scale) . (b / scale))."""
        _apply(G, gw, gb, basew, baseb, sw, sb, shifted, xw, xb, rw, rb)
        m, n = G.shape
        rr = 0.0
        bn = 0.0
        for i in prange(m):
            a = 0.0
            c = 0.0
            for j in range(n):
                u, v = _rhs(bw, bb, edge, i, j, m)
                u /= scale
                v /= scale
                rw[i, j] = u - rw[i, j]
                rb[i, j] = v - rb[i, j]
                a += rw[i, j] * rw[i, j] + rb[i, j] * rb[i, j]
                c += u * u + v * v
            rr += a
            bn += c
        return rr, bn

    @njit(parallel=True, cache=True, fastmath=_REDUCE)
    def _start(G, gw, gb, basew, baseb, sw, sb, shifted, bw, bb, edge, scale, xw, xb, rw, rb, zero):
        """r = b / scale - A x (x = 0 when ``zero``: no product); returns (r . r, (b / scale) . (b / scale)).

        b: see :func:`_rhs`."""
        if not zero:
            return _residual(G, gw, gb, basew, baseb, sw, sb, shifted, bw, bb, edge, scale, xw, xb, rw, rb)
        m, n = G.shape
        rr = 0.0
        for i in prange(m):
            a = 0.0
            for j in range(n):
                u, v = _rhs(bw, bb, edge, i, j, m)
                u /= scale
                v /= scale
                xw[i, j] = 0.0
                xb[i, j] = 0.0
                rw[i, j] = u
                rb[i, j] = v
                a += u * u + v * v
            rr += a
        return rr, rr

    @njit(parallel=True, cache=True)
    def _factor(G, gw, gb, basew, baseb, sw, sb, shifted, invw, invb, chunks):
        """Inverse pivots (float32) of the LDL^T factors of every word line (along j) and bit line (along i)."""
        m, n = G.shape
        g2 = gw * gw
        for q in prange(-(-m // 4)):  # four word lines at a time: each pivot recursion is a chain of divisions
            i = 4 * q
            if i + 4 <= m:
                u0 = u1 = u2 = u3 = 0.0
                for j in range(n):
                    u0 = 1.0 / (G[i, j] + basew[j] + (sw[i, j] if shifted else 0.0) - g2 * u0)
                    u1 = 1.0 / (G[i + 1, j] + basew[j] + (sw[i + 1, j] if shifted else 0.0) - g2 * u1)
                    u2 = 1.0 / (G[i + 2, j] + basew[j] + (sw[i + 2, j] if shifted else 0.0) - g2 * u2)
                    u3 = 1.0 / (G[i + 3, j] + basew[j] + (sw[i + 3, j] if shifted else 0.0) - g2 * u3)
                    invw[i, j] = u0
                    invw[i + 1, j] = u1
                    invw[i + 2, j] = u2
                    invw[i + 3, j] = u3
                continue
            for r in range(i, m):
                u = 0.0
                for j in range(n):
                    u = 1.0 / (G[r, j] + basew[j] + (sw[r, j] if shifted else 0.0) - g2 * u)
                    invw[r, j] = u
        step = (n + chunks - 1) // chunks
        for c in prange(chunks):
            j0, j1 = c * step, min(n, (c + 1) * step)
            for j in range(j0, j1):
                invb[0, j] = 1.0 / (G[0, j] + baseb[0] + (sb[0, j] if shifted else 0.0))
            for i in range(1, m):
                for j in range(j0, j1):
                    d = G[i, j] + baseb[i] + (sb[i, j] if shifted else 0.0) - gb * gb * invb[i - 1, j]
                    invb[i, j] = 1.0 / d

    @njit(cache=True, fastmath=_REDUCE)
    def _spread(acc, c, f, i, v, ic, wi, js, wj, rowbuf):
        """acc[c, f] += Pi^T of the values v (n,) on row i (Pi: bilinear interpolation from the coarse grid;
        ``js``: the coarse intervals' first nodes, :func:`memspice.solver.coarse.segment_starts`)."""
        segments = js.shape[0] - 1
        rowbuf[: segments + 1] = 0.0
        for b in range(segments):
            s0 = s1 = 0.0
            for j in range(js[b], js[b + 1]):
                s0 += wj[j] * v[j]
                s1 += (1.0 - wj[j]) * v[j]
            rowbuf[b] += s0
            rowbuf[b + 1] += s1
        a, w0 = ic[i], wi[i]
        for k in range(segments + 1):
            acc[c, f, a, k] += w0 * rowbuf[k]
            acc[c, f, a + 1, k] += (1.0 - w0) * rowbuf[k]

    @njit(cache=True, fastmath=_REDUCE)
    def _word_lines(invw, gw, t, zw, i, k):
        """Solve word lines i .. i + k - 1 (k <= 4) in place: zw holds the right-hand side t on entry.

        Four lines at a time: each line's recursion is a chain of dependent multiply-adds, so four
        independent chains keep the core busy."""
        n = invw.shape[1]
        if k == 4:
            u0 = u1 = u2 = u3 = 0.0
            for j in range(n):  # u = t c + (g_w c) u: one multiply-add on each chain's path (c: inverse pivot)
                c0, c1, c2, c3 = invw[i, j], invw[i + 1, j], invw[i + 2, j], invw[i + 3, j]
                u0 = t[i, j] * c0 + (gw * c0) * u0
                u1 = t[i + 1, j] * c1 + (gw * c1) * u1
                u2 = t[i + 2, j] * c2 + (gw * c2) * u2
                u3 = t[i + 3, j] * c3 + (gw * c3) * u3
                zw[i, j] = u0
                zw[i + 1, j] = u1
                zw[i + 2, j] = u2
                zw[i + 3, j] = u3
            for j in range(n - 2, -1, -1):
                u0 = zw[i, j] + (gw * invw[i, j]) * u0
                u1 = zw[i + 1, j] + (gw * invw[i + 1, j]) * u1
                u2 = zw[i + 2, j] + (gw * invw[i + 2, j]) * u2
                u3 = zw[i + 3, j] + (gw * invw[i + 3, j]) * u3
                zw[i, j] = u0
                zw[i + 1, j] = u1
                zw[i + 2, j] = u2
                zw[i + 3, j] = u3
            return
        for r in range(i, i + k):
            u = 0.0
            for j in range(n):
                c = invw[r, j]
                u = t[r, j] * c + (gw * c) * u
                zw[r, j] = u
            for j in range(n - 2, -1, -1):
                u = zw[r, j] + (gw * invw[r, j]) * u
                zw[r, j] = u

    @njit(parallel=True, cache=True, fastmath=_REDUCE)
    def _sweep1(alpha, G, gb, basew, baseb, sw, sb, shifted, pw, pb, qw, xw, xb, rw, rb, invw, gw, D, coarse, track,
                chunks):  # fmt: skip
        """CG update and the sweep's first half, row block by row block (each block cache-hot):

        x += alpha p, r -= alpha A p (A p recomputed row by row: cheaper than storing and reading it back);
        zw = T_w^-1 r_w into qw; with ``coarse``, D[c] = 0.  Returns (r . r, max |alpha p| if ``track``)."""
        m, n = xw.shape
        rows = -(-m // (4 * chunks)) * 4
        rr = np.zeros(chunks)
        big = np.zeros(chunks)
        for c in prange(chunks):
            if coarse:
                D[c] = 0.0
            yw, yb = np.empty(n), np.empty(n)
            s = 0.0
            pm = 0.0
            for i0 in range(c * rows, min(m, (c + 1) * rows), 4):
                k = min(4, m - i0)
                for i in range(i0, i0 + k):
                    _row_product(G, gw, gb, basew, baseb, sw, sb, shifted, pw, pb, i, yw, yb)
                    for j in range(n):
                        xw[i, j] += alpha * pw[i, j]
                        xb[i, j] += alpha * pb[i, j]
                        a = rw[i, j] - alpha * yw[j]
                        b = rb[i, j] - alpha * yb[j]
                        rw[i, j] = a
                        rb[i, j] = b
                        s += a * a + b * b
                    if track:
                        for j in range(n):
                            pm = max(pm, abs(pw[i, j]), abs(pb[i, j]))
                _word_lines(invw, gw, rw, qw, i0, k)
            rr[c] = s
            big[c] = pm
        return rr.sum(), abs(alpha) * big.max()

    @njit(parallel=True, cache=True, fastmath=_REDUCE)
    def _sweep2(invb, gb, rb, G, zw, zb, chunks):
        """The sweep's bit lines: zb = T_b^-1 (r_b + G zw), all bit lines together row by row (vectorised
        across columns), one column chunk per thread.  Returns r_b . zb."""
        m, n = invb.shape
        cols = -(-n // chunks)
        ry = np.zeros(chunks)
        for c in prange(chunks):
            j0, j1 = c * cols, min(n, (c + 1) * cols)
            if j0 >= j1:
                continue
            for j in range(j0, j1):
                zb[0, j] = (rb[0, j] + G[0, j] * zw[0, j]) * invb[0, j]
            for i in range(1, m):
                for j in range(j0, j1):
                    zb[i, j] = (rb[i, j] + G[i, j] * zw[i, j] + gb * zb[i - 1, j]) * invb[i, j]
            s = 0.0
            for j in range(j0, j1):
                s += rb[m - 1, j] * zb[m - 1, j]
            for i in range(m - 2, -1, -1):
                for j in range(j0, j1):
                    u = zb[i, j] + gb * invb[i, j] * zb[i + 1, j]
                    zb[i, j] = u
                    s += rb[i, j] * u
            ry[c] = s
        return ry.sum()

    @njit(parallel=True, cache=True, fastmath=_REDUCE)
    def _sweep3(invw, gw, rw, G, zb, zw, ic, wi, js, wj, D, coarse, chunks):
        """The sweep's last half: zw = T_w^-1 (r_w + G zb), over the first half's zw (zw_first); with
        ``coarse`` D[c, 1] = Pi^T (G (zw - zw_first)) (the bit-line field; D[c, 0] stays 0).

        After it, r - A y = (0, G (zw - zw_first)) exactly (the last word-line solves leave no word-line
        residual), so D sums to P^T (r - A y) with no extra product.  Returns r_w . zw."""
        m, n = invw.shape
        rows = -(-m // (4 * chunks)) * 4
        ry = np.zeros(chunks)
        for c in prange(chunks):
            v = np.empty(4 * n)
            rowbuf = np.empty(D.shape[3])
            s = 0.0
            for i0 in range(c * rows, min(m, (c + 1) * rows), 4):
                k = min(4, m - i0)
                for i in range(i0, i0 + k):
                    if coarse:
                        for j in range(n):
                            v[(i - i0) * n + j] = -G[i, j] * zw[i, j]
                    for j in range(n):
                        zw[i, j] = rw[i, j] + G[i, j] * zb[i, j]
                _word_lines(invw, gw, zw, zw, i0, k)
                for i in range(i0, i0 + k):
                    for j in range(n):
                        s += rw[i, j] * zw[i, j]
                    if coarse:
                        e = v[(i - i0) * n : (i - i0 + 1) * n]
                        for j in range(n):
                            e[j] += G[i, j] * zw[i, j]
                        _spread(D, c, 1, i, e, ic, wi, js, wj, rowbuf)
            ry[c] = s
        return ry.sum()

    @njit(parallel=True, cache=True, fastmath=_REDUCE)
    def _restrict(rw, rb, ic, wi, js, wj, D, chunks):
        """P^T r = (Pi^T r_w, Pi^T r_b) (Pi: the bilinear interpolation from the coarse grid)."""
        m, n = rw.shape
        rows = -(-m // chunks)
        for c in prange(chunks):
            D[c] = 0.0
            rowbuf = np.empty(D.shape[3])
            for i in range(c * rows, min(m, (c + 1) * rows)):
                _spread(D, c, 0, i, rw[i], ic, wi, js, wj, rowbuf)
                _spread(D, c, 1, i, rb[i], ic, wi, js, wj, rowbuf)
        return D.sum(axis=0)

    @njit(cache=True)
    def _column_mismatch_ok(G, g_last, xw, xb, rb, v_foot, i_tol, floor):
        """True when every column's current balance (KCL) closes to ``i_tol`` of its output current.

        The column sums of the bit-line residual telescope to the quantity users read: sum_i r_b[i, j] =
        (current the cells inject into column j) - (current leaving it through its foot resistance).  The
        comparison size is the column's output current, floored at 1e-3 of the largest one and at ``floor``.
        """
        m, n = rb.shape
        mismatch = np.zeros(n)
        for i in range(m):
            for j in range(n):
                mismatch[j] += rb[i, j]
        i_max = 0.0
        for j in range(n):
            i_max = max(i_max, abs(g_last * (xb[m - 1, j] - v_foot[j])))
        for j in range(n):
            size = max(abs(g_last * (xb[m - 1, j] - v_foot[j])), 1e-9 * i_max, floor)
            if abs(mismatch[j]) > i_tol * size:
                return False
        return True

    @njit(cache=True)
    def _pcg(
        G, gw, gb, g_last, basew, baseb, sw, sb, shifted, invw, invb, bw, bb, edge, scale, v_foot, xw, xb,
        rw, rb, qw, qb, pw, pb, tol, i_tol, v_tol, maxiter, use_coarse, ic, wi, js, wj, factor, mc, nc, chunks,
        zero_start,
    ):  # fmt: skip
        """Two-level preconditioned CG on A x = b / scale; stops when all three hold:

        * relative residual ||b / scale - A x|| <= tol ||b / scale||;
        * every bit line's current balance closes: |sum_i r_b[i, j]| <= ``i_tol`` times its output current
          g_last (V_b[m-1, j] - v_foot[j]) (floored at 1e-3 of the largest output current);
        * the last update moved no node voltage by more than ``v_tol`` (V).

        The second test is a residual test in the quantity users read: a residual test alone does not bound
        the output currents, because its scale is the driver current, not the cell currents.  Measured
        against a direct solve (tall 2048x16, wide 16x2048, square 128-1024, 1-100 Ohm wires), the
        output-current error stays below the closing mismatch, and within a factor ~1 of it on wide arrays.

        r . z = r . y: the deflated start makes P^T r0 = 0 and A-DEF2 keeps P^T r_k = 0 (Z^T A z_k = Z^T r_k),
        so the coarse part of z adds nothing to r . z (measured: same iterations and outputs to 1e-15 with
        and without the term, 300-2048 arrays).

        x holds the start (any contents when ``zero_start``: it is zeroed in the first pass).  Work arrays
        (allocated by the caller, so that numpy can back them with huge pages): r, z (q here; zero, float32)
        and p (zero, float32).  The search directions p and preconditioned residuals z are stored in float32:
        x and r move by alpha p and alpha A p of the same stored p, so r stays the residual of x (to float64
        rounding) and the tests above stay exact; only the directions' conjugacy is rounded (measured: the
        same iteration counts as float64 z at 1024 x 1024, outputs within 2e-13).  Returns iterations, or -1.
        """
        D = np.zeros((chunks, 2, mc + 1, nc + 1))
        track = v_tol < np.inf
        rr, bn = _start(G, gw, gb, basew, baseb, sw, sb, shifted, bw, bb, edge, scale, xw, xb, rw, rb, zero_start)
        bnorm = np.sqrt(bn)
        if bnorm == 0.0:
            bnorm = 1.0
        if rr == 0.0:
            return 0
        alpha = 0.0
        if use_coarse:  # deflated start: x0 += Q r0, so that P^T r0 = 0
            d = _restrict(rw, rb, ic, wi, js, wj, D, chunks)
            c = _coarse.coarse_solve(factor, d, mc, nc)
            _coarse.prolong_update(qw, qb, c, ic, wi, js, wj, 0.0, pw, pb)
            alpha = 1.0
        rz = 0.0
        for it in range(0, maxiter + 1):
            if it > 0:
                pq = _curvature(G, gw, gb, basew, baseb, sw, sb, shifted, pw, pb, chunks)
                if pq <= 0.0:
                    # exact solution reached (p = 0) or loss of positivity
                    return it if rz == 0.0 else -1
                alpha = rz / pq
            rr, step = _sweep1(
                alpha, G, gb, basew, baseb, sw, sb, shifted, pw, pb, qw, xw, xb, rw, rb, invw, gw, D, use_coarse, track,
                chunks,
            )  # fmt: skip
            if (
                it > 0
                and np.sqrt(rr) <= tol * bnorm
                and step <= v_tol
                and _column_mismatch_ok(G, g_last, xw, xb, rb, v_foot, i_tol, 1e-300)
            ):
                return it
            rz_new = _sweep2(invb, gb, rb, G, qw, qb, chunks)
            rz_new += _sweep3(invw, gw, rw, G, qb, qw, ic, wi, js, wj, D, use_coarse, chunks)
            if use_coarse:
                c = _coarse.coarse_solve(factor, D.sum(axis=0), mc, nc)
            else:
                c = np.zeros((2, mc + 1, nc + 1))
            beta = 0.0 if it == 0 else rz_new / rz
            _coarse.prolong_update(qw, qb, c, ic, wi, js, wj, beta, pw, pb)
            rz = rz_new
        return -1


def _chunks() -> int:
    """Pieces the kernels split lines or rows into: one per numba thread."""
    return max(1, get_num_threads())


def applicable(xbar) -> bool:
    """True when numba is installed, both line kinds have resistance and cells are two-terminal."""
    return AVAILABLE and xbar.r_word > 0 and xbar.r_bit > 0 and not xbar.cell.three_terminal


class LineSystem:
    """Matrix-free nodal system of a crossbar with resistive word and bit lines.

    ``coarse``: use the coarse correction (:mod:`memspice.solver.coarse`) where it pays (None, default:
    when the array is longer than ``coarse.MIN_LENGTHS`` leak lengths), always (True) or never (False).
    """

    def __init__(self, xbar, cell_g: np.ndarray, coarse: bool | None = None):
        m, n = xbar.shape
        self.gw, self.gb = 1.0 / xbar.r_word, 1.0 / xbar.r_bit
        self.g_first = 1.0 / xbar.r_first
        self.g_last = 1.0 / xbar.r_last
        self.coarse_mode = coarse
        self.basew = np.full(n, 2.0 * self.gw)
        self.basew[0] += self.g_first - self.gw
        self.basew[-1] -= self.gw
        self.baseb = np.full(m, 2.0 * self.gb)
        self.baseb[0] -= self.gb
        self.baseb[-1] += self.g_last - self.gb
        self._no_coarse = (np.zeros(m, np.int64), np.ones(m), np.array([0, n], np.int64), np.ones(n))
        self._no_factor = np.ones((1, 1))
        self.set_cells(np.asarray(cell_g, float).reshape(m, n))

    def set_cells(self, cell_g: np.ndarray, shift_w=None, shift_b=None) -> None:
        """(Re)build the line factorisations (and, where they change, the coarse space) for cell
        conductances (S).

        ``shift_w``, ``shift_b``: extra conductance to ground (S, m x n) on every word- and bit-line node
        (e.g. line capacitance over the time step, C/h, in transients); must keep the system SPD (>= 0).
        """
        G = np.ascontiguousarray(cell_g, dtype=float)
        m, n = G.shape
        self.G = G
        self.shifted = shift_w is not None or shift_b is not None
        if self.shifted:
            # writable copies: a read-only view (broadcast_to of an m x n array) is another type to numba, whose
            # kernels would compile twice (and a sandboxed co-simulation worker may not write the second to the cache)
            self.sw = np.require(np.broadcast_to(0.0 if shift_w is None else shift_w, (m, n)), float, ["C", "W"])
            self.sb = np.require(np.broadcast_to(0.0 if shift_b is None else shift_b, (m, n)), float, ["C", "W"])
        else:
            self.sw = self.sb = np.zeros((1, 1))
        self.invw = np.empty((m, n), np.float32)
        self.invb = np.empty((m, n), np.float32)
        with using_threads(threads_for(m * n)):
            _factor(
                G, self.gw, self.gb, self.basew, self.baseb, self.sw, self.sb, self.shifted, self.invw, self.invb,
                _chunks(),
            )  # fmt: skip
        self.coarse = self._coarse_space()

    def _coarse_space(self):
        shape = self.G.shape
        if self.coarse_mode is False or (self.coarse_mode is None and max(shape) < 10):
            return None  # (too short for slow modes worth a coarse space)
        shift_mean = float(self.sw.mean() + self.sb.mean()) if self.shifted else 0.0
        h = _coarse.spacing(
            shape, min(self.gw, self.gb), float(self.G.mean()), shift_mean, force=bool(self.coarse_mode)
        )
        if h == 0:
            return None
        # the grid and its wires depend on the geometry alone: new crossbars of the same one share them
        grid = _coarse.cached_grid(shape, h, self.gw, self.gb, self.g_first, self.g_last)
        shifts = (self.sw, self.sb) if self.shifted else (None, None)
        with using_threads(threads_for(self.G.size)):
            return grid.space(self.G, *shifts, chunks=_chunks())

    def drive(self, v_word: np.ndarray, v_bit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Right-hand sides (A) for word-line inputs (m,) and bit-line foot voltages (n,), V."""
        bw, bb = np.zeros_like(self.G), np.zeros_like(self.G)
        bw[:, 0] = self.g_first * v_word
        bb[-1, :] = self.g_last * v_bit
        return bw, bb

    def solve(self, bw, bb, tol=1e-12, maxiter=5000, x0=None, i_tol=1e-11, v_tol=None, v_foot=None, out=None):
        """Return (V_word, V_bit, iterations) for right-hand sides bw, bb (A, m x n).

        ``tol``: relative residual; ``i_tol``: largest relative current-balance mismatch of any bit line, the
        accuracy of the output currents (see :func:`_pcg`; ``numpy.inf`` turns that test off);
        ``v_tol``: largest last update of a node voltage (V; default: no such test);
        ``v_foot``: bit-line foot voltages (n,), V, defining the output currents (default 0).
        ``out``: two C-contiguous float64 m x n arrays to write V_word and V_bit into (returned); they may
        be ``x0`` itself.
        A zero right-hand side gives zero voltages at once; any other is scaled to order one first, so
        tiny inputs (1e-300 V) neither underflow nor stall.
        """
        m, n = self.G.shape
        bw = np.ascontiguousarray(bw, float)
        bb = np.ascontiguousarray(bb, float)
        if bw.shape != (m, n) or bb.shape != (m, n):
            raise ValueError(f"bw and bb must have the array's shape {(m, n)}, not {bw.shape} and {bb.shape}")
        return self._solve(bw, bb, False, tol, maxiter, x0, i_tol, v_tol, v_foot, out)

    def read(self, v_word, v_bit, tol=1e-12, maxiter=5000, i_tol=1e-11, out=None):
        """:meth:`solve` for the right-hand side :meth:`drive` (``v_word``, ``v_bit``) without forming its two
        m x n arrays (a read: inputs on the word lines, bit-line feet at ``v_bit``, V); same returns."""
        m, n = self.G.shape
        v_word = np.asarray(v_word, float)
        v_bit = np.asarray(v_bit, float)
        if v_word.shape != (m,) or v_bit.shape != (n,):
            raise ValueError(f"v_word needs shape {(m,)} and v_bit {(n,)}, not {v_word.shape} and {v_bit.shape}")
        bw = (self.g_first * v_word).reshape(m, 1)
        bb = (self.g_last * v_bit).reshape(1, n)
        return self._solve(bw, bb, True, tol, maxiter, None, i_tol, None, v_bit, out)

    def _solve(self, bw, bb, edge, tol, maxiter, x0, i_tol, v_tol, v_foot, out):
        """:meth:`solve` with b given as by :func:`_rhs`."""
        m, n = self.G.shape
        v_foot = np.zeros(n) if v_foot is None else np.ascontiguousarray(np.broadcast_to(v_foot, (n,)), float)
        scale = max(float(np.max(np.abs(bw))), float(np.max(np.abs(bb))), self.g_last * float(np.max(np.abs(v_foot))))
        if out is None:
            xw, xb = np.empty_like(self.G), np.empty_like(self.G)
        else:
            xw, xb = out
            if not all(isinstance(a, np.ndarray) and a.shape == (m, n) and a.dtype == np.float64 for a in out) or not (
                xw.flags.c_contiguous and xb.flags.c_contiguous
            ):
                raise ValueError(f"out must be two C-contiguous float64 arrays of shape {(m, n)}")
        if scale == 0.0:
            xw[...] = 0.0
            xb[...] = 0.0
            return xw, xb, 0
        # the solution scales with the right-hand side: solve for x / scale (order-one numbers)
        if x0 is not None:
            np.divide(x0[0], scale, out=xw)
            np.divide(x0[1], scale, out=xb)
        v_tol = np.inf if v_tol is None else v_tol / scale
        cs = self.coarse
        if cs is None:  # a one-node "coarse grid" that stays zero
            ic, wi, js, wj = self._no_coarse
        else:
            ic, wi, js, wj = cs.ic, cs.wi, cs.js, cs.wj
        with using_threads(threads_for(m * n)):
            its = _pcg(
                self.G,
                self.gw,
                self.gb,
                self.g_last,
                self.basew,
                self.baseb,
                self.sw,
                self.sb,
                self.shifted,
                self.invw,
                self.invb,
                bw,
                bb,
                edge,
                scale,
                v_foot / scale,
                xw,
                xb,
                np.empty((m, n)),
                np.empty((m, n)),
                np.zeros((m, n), np.float32),
                np.zeros((m, n), np.float32),
                np.zeros((m, n), np.float32),
                np.zeros((m, n), np.float32),
                tol,
                i_tol,
                v_tol,
                maxiter,
                cs is not None,
                ic,
                wi,
                js,
                wj,
                self._no_factor if cs is None else cs.factor,
                1 if cs is None else cs.mc,
                1 if cs is None else cs.nc,
                _chunks(),
                x0 is None,
            )
        if its < 0:
            raise RuntimeError(f"structured CG did not reach relative residual {tol:g} in {maxiter} iterations")
        xw *= scale
        xb *= scale
        return xw, xb, its

    def apply(self, xw, xb):
        """Matrix product (A) with node voltages xw, xb (V)."""
        yw, yb = np.empty_like(xw, dtype=float), np.empty_like(xb, dtype=float)
        _apply(
            self.G,
            self.gw,
            self.gb,
            self.basew,
            self.baseb,
            self.sw,
            self.sb,
            self.shifted,
            np.ascontiguousarray(xw, float),
            np.ascontiguousarray(xb, float),
            yw,
            yb,
        )
        return yw, yb
