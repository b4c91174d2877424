"""Mixed-precision iterative refinement with the inner solve on simulated analog arrays.

Le Gallo et al., "Mixed-precision in-memory computing", Nat. Electron. 1, 246 (2018),
reviewed by Bao et al., Front. Optoelectron. 15, 23 (2022) (a 5000-dimensional system
reached residual 1e-6 within 24 iterations): the outer loop keeps x and the residual
r = b - A x in float64; each outer step solves A d = r inexactly on the low-precision
array and updates x <- x + d.  The outer loop converges as long as each inner solve
reduces the residual by a factor below one, to full float64 accuracy, however coarse
the array.

Inner solver (our choice, as in Le Gallo et al.): a fixed number of conjugate-gradient
steps whose matrix-vector products run on the array (:class:`.analog_mvm.AnalogArray`:
DAC slices, quantised and varied conductances, IR drop, ADCs); the CG scalars and vector
updates are digital.  The residual is scaled to unit max-norm before the inner solve so
the DAC range is always used fully.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

#: relative residual above which the outer loop is declared diverged and stops
DIVERGED = 1e3


def poisson_2d(n: int) -> sp.csr_matrix:
    """5-point finite-difference Laplacian on an n x n interior grid with Dirichlet boundaries
    (h^2-scaled: 4 on the diagonal, -1 to each neighbour), n^2 unknowns in natural ordering."""
    if not (isinstance(n, int) and n >= 2):
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    tri = sp.diags([-np.ones(n - 1), 4 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1])
    off = sp.diags([-np.ones(n - 1), -np.ones(n - 1)], [-1, 1])
    return (sp.kron(sp.identity(n), tri) + sp.kron(off, sp.identity(n))).tocsr()


def gaussian_source(n: int, center=(0.3, 0.6), width: float = 0.1) -> np.ndarray:
    """Right-hand side h^2 f for a Gaussian charge f on the unit square's n x n interior grid
    (centre and width assumed; any smooth source serves)."""
    h = 1.0 / (n + 1)
    s = np.arange(1, n + 1) * h
    X, Y = np.meshgrid(s, s)
    return (h**2 * np.exp(-((X - center[0]) ** 2 + (Y - center[1]) ** 2) / width**2)).ravel()


def inner_cg(matvec, r: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` conjugate-gradient steps on A d = r from d = 0, every product by ``matvec``."""
    d = np.zeros_like(r)
    res = r.copy()
    p = res.copy()
    rr = float(res @ res)
    for _ in range(steps):
        q = matvec(p)
        pq = float(p @ q)
        if rr == 0 or pq <= 0:  # converged, or the inexact operator lost positivity along p
            break
        alpha = rr / pq
        d += alpha * p
        res -= alpha * q
        rr_new = float(res @ res)
        p = res + (rr_new / rr) * p
        rr = rr_new
    return d


@dataclass
class RefinementResult:
    """Outer-loop history: ``residuals[k]`` = ||b - A x_k|| / ||b|| (float64) after k outer steps."""

    x: np.ndarray
    residuals: list = field(default_factory=list)
    inner_steps: int = 0
    seconds: float = 0.0

    @property
    def iterations(self) -> int:
        return len(self.residuals) - 1

    @property
    def diverged(self) -> bool:
        return not (self.residuals[-1] <= DIVERGED)

    @property
    def final_residual(self) -> float:
        return self.residuals[-1]

    def iterations_to(self, tol: float) -> int | None:
        """First outer iteration with relative residual <= ``tol`` (None if never)."""
        hit = [k for k, r in enumerate(self.residuals) if r <= tol]
        return hit[0] if hit else None


def iterative_refinement(
    A,
    b,
    matvec,
    tol: float = 1e-10,
    max_outer: int = 100,
    inner_steps: int = 30,
    line_search: bool = True,
    callback=None,
) -> RefinementResult:
    """Solve A x = b to relative residual ``tol`` with inner solves by :func:`inner_cg` on ``matvec``.

    Parameters
    ----------
    A : scipy.sparse matrix or ndarray
        The exact float64 system (used only for the outer residual).
    b : ndarray
        Right-hand side.
    matvec : callable
        The inexact product y ~ A x (e.g. :meth:`.analog_mvm.AnalogArray.matvec`).
    inner_steps : int
        CG steps per inner solve; 30 (assumed: enough for a residual reduction of about 2 per outer
        step on the 72 x 72 Poisson problem, the paper's pace of ~24 steps to 1e-6).
    line_search : bool
        Scale each correction by the float64 step alpha = (r . A d) / (A d . A d) that minimises the new
        residual (one exact digital product per outer step), so an inner solve spoiled by wrong ADC codes
        slows the loop instead of making it diverge.  With ``False``: x <- x + d, as in Le Gallo et al.
    callback : callable, optional
        Called as ``callback(k, relative_residual)`` after every outer step.
    """
    b = np.asarray(b, float)
    if b.ndim != 1 or b.shape[0] != A.shape[0] or not np.all(np.isfinite(b)):
        raise ValueError(f"b must be a finite vector of length {A.shape[0]}, got shape {b.shape}")
    if not (math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be > 0, got {tol!r}")
    for name, v in (("max_outer", max_outer), ("inner_steps", inner_steps)):
        if not (isinstance(v, int) and v >= 1):
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    t0 = time.perf_counter()
    nb = float(np.linalg.norm(b))
    if nb == 0:
        raise ValueError("b is zero: the solution is x = 0")
    x = np.zeros_like(b)
    out = RefinementResult(x)
    r = b.copy()
    out.residuals.append(1.0)
    for k in range(1, max_outer + 1):
        s = float(np.max(np.abs(r)))
        d = s * inner_cg(matvec, r / s, inner_steps)
        if line_search:
            ad = A @ d
            denom = float(ad @ ad)
            d *= float(r @ ad) / denom if denom > 0 else 0.0
        x += d
        out.inner_steps += inner_steps
        r = b - A @ x
        rel = float(np.linalg.norm(r)) / nb
        out.residuals.append(rel)
        if callback is not None:
            callback(k, rel)
        if rel <= tol or not math.isfinite(rel) or rel > DIVERGED:
            break
    out.x = x
    out.seconds = time.perf_counter() - t0
    return out
