"""numba kernels for the line-preconditioned CG (optional: used when numba is installed).

The same algorithm as :func:`memspice.solver.linear.solve_cg`, fused into
one compiled loop that uses both cores: a row-parallel CSR product, LDL^T
solves of the tridiagonal line blocks in parallel over lines, and fused
vector updates.  Compiled once and cached on disk (``cache=True``).
"""
from __future__ import annotations

import numpy as np

try:
    from numba import njit, prange

    AVAILABLE = True
except ImportError:  # pragma: no cover - numba is optional
    AVAILABLE = False


if AVAILABLE:

    @njit(parallel=True, cache=True)
    def _matvec(indptr, indices, data, x, y):
        for i in prange(y.size):
            s = 0.0
            for k in range(indptr[i], indptr[i + 1]):
                s += data[k] * x[indices[k]]
            y[i] = s

    @njit(parallel=True, cache=True)
    def _line_factor(d, e, starts, ends, dd, ll):
        for s in prange(starts.size):
            a, b = starts[s], ends[s]
            dd[a] = d[a]
            for i in range(a + 1, b):
                ll[i - 1] = e[i - 1] / dd[i - 1]
                dd[i] = d[i] - ll[i - 1] * e[i - 1]

    @njit(parallel=True, cache=True)
    def _line_solve(dd, ll, starts, ends, r, z):
        for s in prange(starts.size):
            a, b = starts[s], ends[s]
            z[a] = r[a]
            for i in range(a + 1, b):
                z[i] = r[i] - ll[i - 1] * z[i - 1]
            for i in range(a, b):
                z[i] = z[i] / dd[i]
            for i in range(b - 2, a - 1, -1):
                z[i] = z[i] - ll[i] * z[i + 1]

    @njit(parallel=True, cache=True)
    def _dot(a, b):
        s = 0.0
        for i in prange(a.size):
            s += a[i] * b[i]
        return s

    @njit(parallel=True, cache=True)
    def _pcg(indptr, indices, data, dd, ll, starts, ends, b, x, tol, maxiter):
        n = b.size
        r = np.empty(n)
        z = np.empty(n)
        ap = np.empty(n)
        _matvec(indptr, indices, data, x, ap)
        for i in prange(n):
            r[i] = b[i] - ap[i]
        bnorm = np.sqrt(_dot(b, b))
        if bnorm == 0.0:
            bnorm = 1.0
        _line_solve(dd, ll, starts, ends, r, z)
        p = z.copy()
        rz = _dot(r, z)
        for it in range(1, maxiter + 1):
            _matvec(indptr, indices, data, p, ap)
            pap = _dot(p, ap)
            if pap <= 0.0:
                return it if np.sqrt(_dot(r, r)) <= tol * bnorm else -1
            alpha = rz / pap
            for i in prange(n):
                x[i] += alpha * p[i]
                r[i] -= alpha * ap[i]
            if np.sqrt(_dot(r, r)) <= tol * bnorm:
                return it
            _line_solve(dd, ll, starts, ends, r, z)
            rz_new = _dot(r, z)
            beta = rz_new / rz
            rz = rz_new
            for i in prange(n):
                p[i] = z[i] + beta * p[i]
        return -1


def line_segments(e: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Start/end (exclusive) of the runs of the tridiagonal split where e == 0."""
    cuts = np.flatnonzero(e == 0) + 1
    starts = np.concatenate([[0], cuts]).astype(np.int64)
    ends = np.concatenate([cuts, [n]]).astype(np.int64)
    return starts, ends


def pcg_numba(A, b: np.ndarray, tol: float, maxiter: int, x0=None):
    """Solve A x = b (columns independently); returns (x, max iterations) or raises RuntimeError."""
    A = A.tocsr()
    indptr, indices, data = A.indptr.astype(np.int64), A.indices.astype(np.int64), A.data.astype(float)
    d, e = A.diagonal().astype(float), A.diagonal(1).astype(float).copy()
    starts, ends = line_segments(e, d.size)
    dd, ll = np.empty_like(d), np.zeros(max(d.size - 1, 1))
    _line_factor(d, e, starts, ends, dd, ll)
    if np.any(dd <= 0):
        raise RuntimeError("line preconditioner is not positive definite")
    B = b[:, None] if b.ndim == 1 else b
    X = np.zeros_like(B) if x0 is None else np.array(x0, float).reshape(B.shape).copy()
    worst = 0
    for k in range(B.shape[1]):
        xk = np.ascontiguousarray(X[:, k])
        its = _pcg(indptr, indices, data, dd, ll, starts, ends, np.ascontiguousarray(B[:, k]), xk, tol, maxiter)
        if its < 0:
            raise RuntimeError(f"CG did not reach relative residual {tol:g} in {maxiter} iterations")
        X[:, k] = xk
        worst = max(worst, its)
    return (X[:, 0] if b.ndim == 1 else X), worst
