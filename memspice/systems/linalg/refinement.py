"""Mixed-precision iterative refinement with the inner solve on simulated analog arrays.

Le Gallo et al., "Mixed-precision in-memory computing", Nat. Electron. 1, 246 (2018), reviewed by
Bao et al., Front. Optoelectron. 15, 23 (2022) (a 5000-dimensional system reached residual 1e-6
within 24 iterations): the outer loop keeps x and the residual r = b - A x in float64; each outer
step solves A d = r inexactly on the low-precision arrays and updates x <- x + d.

Why it converges, and when it cannot (Higham, "Accuracy and Stability of Numerical Algorithms",
2nd ed., SIAM 2002, ch. 12; Carson & Higham, SIAM J. Sci. Comput. 40, A817, 2018): the new
residual is exactly r_{k+1} = b - A (x_k + d_k) = r_k - A d_k, so

    ||r_{k+1}|| / ||r_k|| = eta_k = ||r_k - A d_k|| / ||r_k||,

the inner solve's relative residual.  The loop contracts at every step where eta_k < 1, whatever the
array's precision, down to the float64 limit of the residual computation (about u kappa(A)); there is
no line search and no other float64 correction.  What sets eta: the arrays hold A_eff = A + E (see
:mod:`.analog_mvm`); an inner solve that converged on the arrays returns d = A_eff^-1 r, for which
r - A d = E A_eff^-1 r, so eta is at least about ||E A_eff^-1|| <= kappa(A) ||E|| / ||A|| (for random
E it is smaller: the error acts on the slowest modes of A through their small eigenvalues).  Two
things therefore stop the loop: the Krylov inner solve running out of steps before it resolves the
small eigenvalues, and the representation error E of the arrays (quantisation, variation, IR drop)
times the condition number reaching one.  The arrays' error-compensating slices
(:class:`.analog_mvm.ArrayConfig` ``slices``) shrink E; a symmetric diagonal (Jacobi) equilibration
D^-1/2 A D^-1/2, digital, lets every block use its full conductance range.

Inner solvers (digital scalars and vector updates, every matrix-vector product on the arrays, each
input vector scaled to the DAC's full range so quantisation stays relative however small the
residual): GMRES (default; it minimises the residual the outer loop needs, and the varied arrays are
not symmetric) or conjugate gradients, for at most ``steps`` products or until their own residual
estimate falls below ``tol`` times ||r||.

:func:`flexible_gmres` is the remedy where refinement fails (eta >= 1): an outer float64 flexible
GMRES whose preconditioner is the same analog inner solve (Saad, SIAM J. Sci. Comput. 14, 461,
1993; Kalantzis et al., "Solving sparse linear systems via flexible GMRES with in-memory analog
preconditioning", HPEC 2023).  It is not the default: it stores a float64 basis and is not the
paper's algorithm.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from ...core.choices import Choice
from .analog_mvm import AnalogArray, ArrayConfig

#: relative residual above which the outer loop is declared diverged and stops
DIVERGED = 1e3


class InnerMethod(Choice):
    """Krylov method of the inner solve on the arrays."""

    GMRES = "gmres"
    CG = "cg"


class StopReason(Choice):
    """Why an outer loop stopped."""

    CONVERGED = "converged"
    STALLED = "stalled"
    DIVERGED = "diverged"
    MAX_OUTER = "max_outer"


def inner_gmres(matvec, r: np.ndarray, steps: int, tol: float = 0.0) -> tuple[np.ndarray, int]:
    """GMRES on A d = r from d = 0 with products by ``matvec``: at most ``steps`` products, stopping once the
    Arnoldi residual estimate is <= ``tol`` ||r||.  Modified Gram-Schmidt with one re-orthogonalisation
    (the analog products are not exact, so the basis is kept orthogonal explicitly).  Returns (d, products)."""
    beta = float(np.linalg.norm(r))
    n = r.shape[0]
    if beta == 0:
        return np.zeros(n), 0
    V = np.zeros((steps + 1, n))
    H = np.zeros((steps + 1, steps))
    cs, sn = np.zeros(steps), np.zeros(steps)
    g = np.zeros(steps + 1)
    g[0] = beta
    V[0] = r / beta
    k = 0
    for j in range(steps):
        w = np.asarray(matvec(V[j]), float)
        for _ in range(2):
            h = V[: j + 1] @ w
            w = w - h @ V[: j + 1]
            H[: j + 1, j] += h
        hn = float(np.linalg.norm(w))
        H[j + 1, j] = hn
        for i in range(j):  # earlier Givens rotations
            a, c = H[i, j], H[i + 1, j]
            H[i, j], H[i + 1, j] = cs[i] * a + sn[i] * c, -sn[i] * a + cs[i] * c
        den = math.hypot(H[j, j], H[j + 1, j])
        if den == 0:
            break
        cs[j], sn[j] = H[j, j] / den, H[j + 1, j] / den
        H[j, j], H[j + 1, j] = den, 0.0
        g[j + 1] = -sn[j] * g[j]
        g[j] = cs[j] * g[j]
        k = j + 1
        if abs(g[j + 1]) <= tol * beta or hn == 0:
            break
        V[j + 1] = w / hn
    if k == 0:
        return np.zeros(n), 1
    y = scipy.linalg.solve_triangular(H[:k, :k], g[:k])
    return y @ V[:k], k


def inner_cg(matvec, r: np.ndarray, steps: int, tol: float = 0.0) -> tuple[np.ndarray, int]:
    """Conjugate gradients on A d = r from d = 0 with products by ``matvec``; at most ``steps`` products,
    stopping once the recursive residual is <= ``tol`` ||r|| or the inexact operator loses positivity
    along a search direction.  Returns (d, products)."""
    d = np.zeros_like(r)
    res = r.copy()
    p = res.copy()
    rr = float(res @ res)
    stop = (tol**2) * rr
    used = 0
    for _ in range(steps):
        if rr <= stop or rr == 0:
            break
        q = matvec(p)
        used += 1
        pq = float(p @ q)
        if pq <= 0:
            break
        alpha = rr / pq
        d += alpha * p
        res -= alpha * q
        rr_new = float(res @ res)
        p = res + (rr_new / rr) * p
        rr = rr_new
    return d, used


@dataclass
class KrylovSolve:
    """Inner solve d ~ A^-1 r by a Krylov method whose products are ``matvec`` (e.g. the arrays').

    ``scaling``: the symmetric diagonal scaling s (n,) the arrays were programmed with, i.e. ``matvec``
    computes (S A S) v with S = diag(s); the solve returns d = S y for (S A S) y = S r.  ``steps`` and
    ``tol`` as :func:`inner_gmres`.  ``products`` counts the analog products over all calls.
    """

    matvec: Callable[[np.ndarray], np.ndarray]
    method: InnerMethod = InnerMethod.GMRES
    steps: int = 30
    tol: float = 1e-3
    scaling: np.ndarray | None = None
    products: int = 0
    calls: int = 0

    def __post_init__(self):
        self.method = InnerMethod.parse(self.method)
        if not (isinstance(self.steps, (int, np.integer)) and self.steps >= 1):
            raise ValueError(f"steps must be an integer >= 1, got {self.steps!r}")
        if not (math.isfinite(self.tol) and 0 <= self.tol < 1):
            raise ValueError(f"tol must be in [0, 1), got {self.tol!r}")

    def __call__(self, r: np.ndarray) -> np.ndarray:
        s = self.scaling
        rhs = r if s is None else s * r
        scale = float(np.max(np.abs(rhs)))  # the residual shrinks every outer step: bring it back to O(1)
        if scale == 0:
            return np.zeros_like(r)
        krylov = inner_gmres if self.method is InnerMethod.GMRES else inner_cg
        y, used = krylov(self.matvec, rhs / scale, int(self.steps), self.tol)
        self.products += used
        self.calls += 1
        y = y * scale
        return y if s is None else s * y


def jacobi_scaling(A) -> np.ndarray:
    """s = 1 / sqrt(|diag A|) (1 where the diagonal is zero): S A S has a unit diagonal."""
    d = np.abs(np.asarray(A.diagonal(), float))
    s = np.ones_like(d)
    s[d > 0] = 1 / np.sqrt(d[d > 0])
    return s


def scaled(A, s: np.ndarray):
    """S A S for S = diag(s), sparse or dense like ``A``."""
    if sp.issparse(A):
        S = sp.diags(s)
        return (S @ A @ S).tocsr()
    return np.asarray(A) * s[:, None] * s[None, :]


class AnalogSolver:
    """Inner solve d ~ A^-1 r on simulated arrays holding S A S (S the Jacobi scaling), with escalation.

    Parameters
    ----------
    A : matrix
        The system (sparse or dense, float64).
    config : ArrayConfig
        The arrays; ``config.slices`` and ``config.input_bits`` are the starting precision.
    seed : int
        Seed of the programming variation.
    method, steps, tol
        The Krylov inner solve (:class:`KrylovSolve`): GMRES, at most 30 products, stop at 1e-3 (assumed:
        a few tens of products per inner solve, as in Le Gallo et al. 2018).
    equilibrate : bool
        Program S A S with S = diag(|a_ii|^-1/2) (digital scaling of the inputs and outputs): every block
        then spans its conductance range however the coefficients vary (assumed on).
    max_slices : int
        Most arrays per block that :meth:`escalate` programs (assumed 4).
    bits_per_slice : int
        Input bits :meth:`escalate` adds with each slice (assumed 4: the input quantisation stays below the
        representation error, which each slice divides by about 10).
    adc_bits_per_slice : int
        ADC bits :meth:`escalate` adds below one product step with each slice (assumed 2).

    Notes
    -----
    Why all three: an inner solve resolves the slowest modes of A, whose products are ~lambda_min ||x||
    while every read adds errors of the size of an input LSB, an ADC LSB and the representation error
    times ||A|| ||x||; so the precision the inner solve needs grows with log2 kappa(A) in all three
    (measured on the 72 x 72 Poisson matrix, kappa ~ 2e3: an ideal array needs 12 input bits, a 2 %-varied
    one three slices and an ADC LSB of 1/32 product step).
    """

    def __init__(
        self,
        A,
        config=None,
        seed: int = 0,
        method: InnerMethod | str = InnerMethod.GMRES,
        steps: int = 30,
        tol: float = 1e-3,
        equilibrate: bool = True,
        max_slices: int = 4,
        bits_per_slice: int = 4,
        adc_bits_per_slice: int = 2,
    ):
        config = ArrayConfig() if config is None else config
        for name, v, lo in (
            ("max_slices", max_slices, 1),
            ("bits_per_slice", bits_per_slice, 0),
            ("adc_bits_per_slice", adc_bits_per_slice, 0),
        ):
            if not (isinstance(v, (int, np.integer)) and v >= lo):
                raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
        self.scaling = jacobi_scaling(A) if equilibrate else None
        held = A if self.scaling is None else scaled(A, self.scaling)
        self.array = AnalogArray(held, config, seed=seed)
        self.krylov = KrylovSolve(self.array.matvec, InnerMethod.parse(method), steps, tol, scaling=self.scaling)
        self.max_slices = max(int(max_slices), config.slices)
        self.bits_per_slice = int(bits_per_slice)
        self.adc_bits_per_slice = int(adc_bits_per_slice)

    def __call__(self, r: np.ndarray) -> np.ndarray:
        return self.krylov(r)

    def escalate(self) -> bool:
        """One more error-compensating slice per block, ``bits_per_slice`` more input bits and ``adc_bits_per_slice``
        more ADC bits; False at the top (``max_slices``)."""
        if self.array.slices >= self.max_slices:
            return False
        self.array.add_slice()
        self.array.input_bits = min(24, self.array.input_bits + self.bits_per_slice)
        self.array.adc_fraction_bits += self.adc_bits_per_slice
        return True

    @property
    def precision(self) -> dict:
        """Slices, input bits and ADC bits now in use."""
        a = self.array
        return {"slices": a.slices, "input_bits": a.input_bits, "adc_bits": a.adc_bits, "adc_lsb_steps": a.lsb_steps}

    @property
    def products(self) -> int:
        """Analog matrix-vector products so far."""
        return self.krylov.products


@dataclass
class RefinementResult:
    """Outer-loop history.

    ``residuals[k]`` = ||b - A x_k|| / ||b|| (float64) after k outer steps; ``inner_errors[k-1]`` =
    ||r_{k-1} - A d_{k-1}|| / ||r_{k-1}||, the relative residual of the k-th inner solve, which is the ratio
    residuals[k] / residuals[k-1] for a step that was taken; ``stop_reason`` a :class:`StopReason`;
    ``events``: (step, "rejected" | "escalated") of precision escalation.
    """

    x: np.ndarray
    residuals: list = field(default_factory=list)
    inner_errors: list = field(default_factory=list)
    stop_reason: StopReason = StopReason.MAX_OUTER
    seconds: float = 0.0
    events: list = field(default_factory=list)

    @property
    def iterations(self) -> int:
        return len(self.residuals) - 1

    @property
    def converged(self) -> bool:
        return self.stop_reason is StopReason.CONVERGED

    @property
    def diverged(self) -> bool:
        return self.stop_reason is StopReason.DIVERGED

    @property
    def final_residual(self) -> float:
        return self.residuals[-1]

    @property
    def best_residual(self) -> float:
        return float(np.min(self.residuals))

    @property
    def max_inner_error(self) -> float:
        return float(np.max(self.inner_errors)) if self.inner_errors else math.nan

    @property
    def mean_inner_error(self) -> float:
        """Geometric mean of the inner relative errors: the average contraction per outer step."""
        e = np.asarray(self.inner_errors, float)
        e = e[e > 0]
        return float(np.exp(np.mean(np.log(e)))) if e.size else math.nan

    def iterations_to(self, tol: float) -> int | None:
        """First outer iteration with relative residual <= ``tol`` (None if never)."""
        hit = [k for k, r in enumerate(self.residuals) if r <= tol]
        return hit[0] if hit else None


def _check_system(A, b, tol, max_outer):
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be square, got shape {A.shape}")
    b = np.asarray(b, float)
    if b.ndim != 1 or b.shape[0] != A.shape[0] or not np.all(np.isfinite(b)):
        raise ValueError(f"b must be a finite vector of length {A.shape[0]}, got shape {b.shape}")
    if not (math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be > 0, got {tol!r}")
    if not (isinstance(max_outer, (int, np.integer)) and max_outer >= 1):
        raise ValueError(f"max_outer must be an integer >= 1, got {max_outer!r}")
    nb = float(np.linalg.norm(b))
    if nb == 0:
        raise ValueError("b is zero: the solution is x = 0")
    return b, nb


def iterative_refinement(
    A,
    b,
    solve: Callable[[np.ndarray], np.ndarray],
    tol: float = 1e-10,
    max_outer: int = 100,
    patience: int = 5,
    escalate: Callable[[], bool] | None = None,
    escalate_above: float = 0.5,
    line_search: bool = False,
    callback=None,
) -> RefinementResult:
    """Solve A x = b to relative residual ``tol``: r = b - A x in float64, d = ``solve``(r), x <- x + d.

    Parameters
    ----------
    A : scipy.sparse matrix or ndarray
        The exact float64 system (used only for the outer residual).
    b : ndarray
        Right-hand side.
    solve : callable
        The inexact inner solve d ~ A^-1 r (e.g. :class:`AnalogSolver`).
    max_outer : int
        Most outer steps (inner solves).
    patience : int
        Stop as stalled after this many outer steps without a new smallest residual (assumed 5).
    escalate : callable, optional
        Raise the inner solve's precision (e.g. :meth:`AnalogSolver.escalate`); returns False when it cannot.
        Given, a step whose inner relative error eta is >= 1 is rejected (x kept) and the precision raised,
        and a step with eta >= ``escalate_above`` is taken and the precision raised for the next ones; the
        loop stops (stalled) when eta >= 1 at the highest precision.  Without it the loop is plain
        refinement: every step is taken.
    escalate_above : float
        Contraction per step below which the precision is kept (assumed 0.5: at least one bit per step).
    line_search : bool
        Scale each correction by the float64 step alpha = (r . A d) / (A d . A d) (one more exact product per
        step).  Off by default: the loop then converges exactly when the inner relative error is below one,
        as the theory says; on, it hides an inner solve that fails.  Kept only for comparison.
    callback : callable, optional
        Called as ``callback(k, relative_residual)`` after every outer step.
    """
    b, nb = _check_system(A, b, tol, max_outer)
    if not (isinstance(patience, (int, np.integer)) and patience >= 1):
        raise ValueError(f"patience must be an integer >= 1, got {patience!r}")
    if not (math.isfinite(escalate_above) and 0 < escalate_above <= 1):
        raise ValueError(f"escalate_above must be in (0, 1], got {escalate_above!r}")
    t0 = time.perf_counter()
    x = np.zeros_like(b)
    out = RefinementResult(x)
    r = b.copy()
    out.residuals.append(1.0)
    best, since = 1.0, 0
    for k in range(1, max_outer + 1):
        d = np.asarray(solve(r), float)
        if line_search:
            ad = A @ d
            denom = float(ad @ ad)
            d = d * (float(r @ ad) / denom if denom > 0 else 0.0)
        x_new = x + d
        r_new = b - A @ x_new
        rel = float(np.linalg.norm(r_new)) / nb
        eta = rel / out.residuals[-1] if out.residuals[-1] > 0 else math.nan
        out.inner_errors.append(eta)
        if escalate is not None and not eta < 1:
            out.residuals.append(out.residuals[-1])  # rejected: x and r stay
            out.events.append((k, "rejected"))
            if escalate():
                out.events.append((k, "escalated"))
                continue
            out.stop_reason = StopReason.STALLED
            break
        x, r = x_new, r_new
        out.residuals.append(rel)
        if callback is not None:
            callback(k, rel)
        if rel <= tol:
            out.stop_reason = StopReason.CONVERGED
            break
        if not math.isfinite(rel) or rel > DIVERGED:
            out.stop_reason = StopReason.DIVERGED
            break
        if escalate is not None and eta >= escalate_above and escalate():
            out.events.append((k, "escalated"))
        if rel < best:
            best, since = rel, 0
        else:
            since += 1
            if since >= patience:
                out.stop_reason = StopReason.STALLED
                break
    out.x = x
    out.seconds = time.perf_counter() - t0
    return out


def flexible_gmres(
    A,
    b,
    precondition: Callable[[np.ndarray], np.ndarray],
    tol: float = 1e-10,
    max_outer: int = 100,
    restart: int = 30,
    patience: int = 5,
) -> RefinementResult:
    """Flexible GMRES (Saad 1993) in float64 with the analog inner solve as a (changing) right preconditioner.

    Each outer step: z_j = ``precondition``(v_j) (one inner solve on the arrays), w = A z_j in float64,
    Arnoldi; x = Z y minimises the float64 residual over the preconditioned directions so far.  Restarts
    every ``restart`` steps (assumed 30) from the true residual.  ``residuals`` hold the true float64
    relative residual after every step; ``inner_errors`` the ratio of consecutive residuals.
    """
    b, nb = _check_system(A, b, tol, max_outer)
    if not (isinstance(restart, (int, np.integer)) and restart >= 1):
        raise ValueError(f"restart must be an integer >= 1, got {restart!r}")
    t0 = time.perf_counter()
    n = b.shape[0]
    x = np.zeros(n)
    out = RefinementResult(x)
    out.residuals.append(1.0)
    best, since, k = 1.0, 0, 0
    r = b.copy()
    while k < max_outer and out.stop_reason is StopReason.MAX_OUTER:
        beta = float(np.linalg.norm(r))
        V = np.zeros((restart + 1, n))
        Z = np.zeros((restart, n))
        H = np.zeros((restart + 1, restart))
        V[0] = r / beta
        x0 = x.copy()
        for j in range(restart):
            Z[j] = precondition(V[j])
            w = A @ Z[j]
            for _ in range(2):
                h = V[: j + 1] @ w
                w = w - h @ V[: j + 1]
                H[: j + 1, j] += h
            H[j + 1, j] = float(np.linalg.norm(w))
            e1 = np.zeros(j + 2)
            e1[0] = beta
            y = np.linalg.lstsq(H[: j + 2, : j + 1], e1, rcond=None)[0]
            x = x0 + y @ Z[: j + 1]
            r = b - A @ x
            rel = float(np.linalg.norm(r)) / nb
            out.inner_errors.append(rel / out.residuals[-1] if out.residuals[-1] > 0 else math.nan)
            out.residuals.append(rel)
            k += 1
            if rel <= tol:
                out.stop_reason = StopReason.CONVERGED
            elif not math.isfinite(rel) or rel > DIVERGED:
                out.stop_reason = StopReason.DIVERGED
            elif rel < best * (1 - 1e-3):
                best, since = rel, 0
            else:
                since += 1
                if since >= patience:
                    out.stop_reason = StopReason.STALLED
            if out.stop_reason is not StopReason.MAX_OUTER or k >= max_outer or H[j + 1, j] == 0:
                break
            V[j + 1] = w / H[j + 1, j]
    out.x = x
    out.seconds = time.perf_counter() - t0
    return out
