"""SPD linear solves for crossbar networks.

* ``direct``: SuperLU (scipy ``splu``), exact, used for small networks and as
  the fallback.
* ``cg``: conjugate gradients on many right-hand sides at once, preconditioned
  by the tridiagonal line blocks of the matrix (every word line and bit line
  solved exactly by LAPACK ``pttrf``/``pttrs``).  Line resistance couples
  nodes along lines strongly and cells weakly, so this preconditioner
  captures most of the matrix: tens of iterations even for 1024 x 1024.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack
from scipy.sparse.linalg import splu

#: networks with fewer unknowns than this are solved directly
DIRECT_LIMIT = 20_000


class LinearSolveError(RuntimeError):
    """The linear solver failed (not SPD, or CG did not converge)."""


class LinePreconditioner:
    """Exact solve of the tridiagonal part of A (all lines at once)."""

    def __init__(self, A: sp.csr_matrix):
        d = A.diagonal().astype(float)
        if d.size == 1:  # LAPACK's pttrf wants at least two unknowns; one is a division
            if not d[0] > 0:
                raise LinearSolveError(f"line preconditioner is not positive definite (diagonal {d[0]!r})")
            self.d, self.e = d, None
            return
        e = A.diagonal(1).astype(float).copy()
        # dropping off-diagonal entries of a diagonally dominant M-matrix keeps it SPD
        df, ef, info = lapack.dpttrf(d, e)
        if info != 0:
            raise LinearSolveError(f"line preconditioner is not positive definite (LAPACK info {info})")
        self.d, self.e = df, ef

    def __call__(self, r: np.ndarray) -> np.ndarray:
        if self.e is None:
            return r / self.d[0]
        x, info = lapack.dpttrs(self.d, self.e, r)
        if info != 0:
            raise LinearSolveError(f"pttrs failed (LAPACK info {info})")
        return x


def solve_cg(A: sp.csr_matrix, b: np.ndarray, tol: float = 1e-12, maxiter: int = 2000, x0=None):
    """Block-vector preconditioned CG; each column of ``b`` converges independently.

    A column has converged when its relative residual is at most ``tol`` and its preconditioned residual
    (the line-block estimate of the error in every unknown) at most ``tol`` times its largest unknown.
    Zero columns give zero solutions; every other column is scaled to order one first, so tiny
    right-hand sides (1e-300) neither underflow nor stop early.
    Returns (x, iterations).  Raises :class:`LinearSolveError` when it stalls.
    """
    b = np.asarray(b, float)
    one = b.ndim == 1
    B = b[:, None] if one else b
    col_scale = np.max(np.abs(B), axis=0) if B.shape[0] else np.zeros(B.shape[1])
    col_scale[col_scale == 0] = 1.0
    B = B / col_scale
    M = LinePreconditioner(A)
    X = np.zeros_like(B) if x0 is None else np.array(x0, float).reshape(B.shape) / col_scale
    R = B - A @ X
    Z = M(R)
    P = Z.copy()
    rz = np.einsum("ij,ij->j", R, Z)
    bnorm = np.linalg.norm(B, axis=0)
    bnorm[bnorm == 0] = 1.0
    for k in range(1, maxiter + 1):
        AP = A @ P
        pAp = np.einsum("ij,ij->j", P, AP)
        active = pAp > 0
        alpha = np.where(active, rz / np.where(active, pAp, 1.0), 0.0)
        X += P * alpha
        R -= AP * alpha
        res = np.linalg.norm(R, axis=0) / bnorm
        Z = M(R)
        # converged: the residual is small AND so is the preconditioned residual, which with the exact line
        # blocks approximates the error in every node voltage; the residual alone is relative to the largest
        # right-hand side (driver currents through a small r_source), which left output currents 3.5e-8 off
        # (issue 20 property suite: 16 x 9, 0.01 S cells, r_source 0.056 Ohm, r_bit 10 Ohm)
        err = np.max(np.abs(Z), axis=0) if Z.shape[0] else np.zeros(Z.shape[1])
        size = np.max(np.abs(X), axis=0) if X.shape[0] else np.zeros(X.shape[1])
        if np.all(res <= tol) and np.all(err <= tol * size):
            X = X * col_scale
            return (X[:, 0] if one else X), k
        rz_new = np.einsum("ij,ij->j", R, Z)
        beta = np.where(rz > 0, rz_new / np.where(rz > 0, rz, 1.0), 0.0)
        P = Z + P * beta
        rz = rz_new
    raise LinearSolveError(
        f"CG did not reach relative residual {tol:g} in {maxiter} iterations (worst {res.max():.2e})"
    )


def solve_direct(A: sp.csr_matrix, b: np.ndarray) -> np.ndarray:
    """SuperLU solve (any number of right-hand sides)."""
    try:
        lu = splu(A.tocsc())
    except RuntimeError as exc:
        raise LinearSolveError(f"direct solve failed: {exc} (is some node floating?)") from exc
    return lu.solve(np.asarray(b, float))


def solve_spd(A: sp.csr_matrix, b: np.ndarray, method: str = "auto", tol: float = 1e-12, x0=None):
    """Solve A x = b; ``method`` is "auto", "cg" or "direct". Returns (x, info dict)."""
    if method == "auto":
        method = "direct" if A.shape[0] < DIRECT_LIMIT else "cg"
    if method == "direct":
        return solve_direct(A, b), {"method": "direct", "iterations": 1}
    if method != "cg":
        raise ValueError(f"method must be 'auto', 'cg' or 'direct', got {method!r}")
    try:
        x, its = solve_cg(A, b, tol=tol, x0=x0)
        return x, {"method": "cg", "iterations": its}
    except LinearSolveError:
        return solve_direct(A, b), {"method": "direct (cg fallback)", "iterations": 1}
