"""The runs behind ``memspice reproduce refine``: one system on the analog arrays with its baselines, a
variation sweep, a condition-number x variation failure map and a suite of matrix kinds.

Every run is :func:`.refinement.iterative_refinement` (x <- x + d, no line search) with the inner solve of
:class:`.refinement.AnalogSolver`; "adaptive" runs let the solver raise its precision when a step does not
contract (:meth:`.refinement.AnalogSolver.escalate`), "fixed" runs keep the starting precision (one array
per block, 8-bit inputs: the configuration of Le Gallo et al. 2018).  Baselines beside each system:

* ``float64_direct``: scipy/numpy direct solve (its relative residual);
* ``float_inner``: the same refinement with float64 products in the inner Krylov solve;
* ``no_refinement``: one inner solve on the arrays (at the adaptive run's final precision, 200 products);
* ``ideal_array``: the adaptive refinement on arrays without variation and wire resistance;
* ``fixed_precision``: plain refinement at the starting precision;
* ``flexible_gmres``: float64 flexible GMRES with the analog inner solve (the arrays as the adaptive run left
  them) as its preconditioner, the remedy where refinement cannot converge.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .analog_mvm import ArrayConfig
from .refinement import (
    AnalogSolver,
    InnerMethod,
    KrylovSolve,
    RefinementResult,
    flexible_gmres,
    iterative_refinement,
)

#: outer steps allowed to every refinement run (assumed: 1e-10 at a contraction of 0.8 per step takes ~100)
MAX_OUTER = 100


def relative_residual(A, b, x) -> float:
    return float(np.linalg.norm(b - A @ x) / np.linalg.norm(b))


def direct_solve(A, b) -> np.ndarray:
    """float64 direct solve (sparse LU or dense LAPACK); ``ValueError`` if A is singular."""
    try:
        if sp.issparse(A):
            with np.errstate(all="ignore"):
                x = spla.spsolve(sp.csc_matrix(A), b)
        else:
            x = scipy.linalg.solve(A, b)
    except (np.linalg.LinAlgError, RuntimeError, scipy.linalg.LinAlgError) as exc:
        raise ValueError(f"the matrix is singular: {exc}") from None
    if not np.all(np.isfinite(x)):
        raise ValueError("the matrix is singular (the direct solve has no finite solution)")
    return np.asarray(x, float)


def summary(res: RefinementResult, solver: AnalogSolver | None = None) -> dict:
    """JSON-ready numbers of one outer loop."""
    out: dict = {
        "iterations": res.iterations,
        "final_residual": res.final_residual,
        "converged": res.converged,
        "stop_reason": res.stop_reason.value,
        "iterations_to_1e-6": res.iterations_to(1e-6),
        "max_inner_error": res.max_inner_error,
        "mean_inner_error": res.mean_inner_error,
        "seconds": res.seconds,
    }
    if solver is not None:
        out.update(solver.precision)
        out["analog_mvms"] = solver.products
        out["arrays"] = solver.array.info["arrays"]
        out["representation_error"] = solver.array.representation_error()
        out["escalations"] = [k for k, e in res.events if e == "escalated"]
    return out


@dataclasses.dataclass
class Run:
    """One refinement on the arrays: the outer loop, its solver and the time to program the arrays."""

    result: RefinementResult
    solver: AnalogSolver
    build_seconds: float


def refine_on_arrays(
    A, b, config: ArrayConfig, seed: int = 0, adaptive: bool = True, tol: float = 1e-10, **solver_kw
) -> Run:
    t0 = time.perf_counter()
    solver = AnalogSolver(A, config, seed=seed, **solver_kw)
    build = time.perf_counter() - t0
    res = iterative_refinement(
        A, b, solver, tol=tol, max_outer=MAX_OUTER, escalate=solver.escalate if adaptive else None
    )
    return Run(res, solver, build)


def fgmres_on_arrays(A, b, solver: AnalogSolver, tol: float = 1e-10) -> Run:
    """Flexible GMRES with ``solver`` (arrays already programmed, at whatever precision they reached) as the
    preconditioner."""
    return Run(flexible_gmres(A, b, solver, tol=tol, max_outer=MAX_OUTER), solver, 0.0)


def baselines(A, b, config: ArrayConfig, main: Run, seed: int = 0, tol: float = 1e-10, **solver_kw) -> tuple:
    """(dict of baseline summaries, dict of residual histories) for the system of ``main`` (module docstring)."""
    out: dict = {}
    curves: dict = {}
    t0 = time.perf_counter()
    x_direct = direct_solve(A, b)
    out["float64_direct"] = {"final_residual": relative_residual(A, b, x_direct), "seconds": time.perf_counter() - t0}
    method = solver_kw.get("method", InnerMethod.GMRES)
    exact = KrylovSolve(lambda v: A @ v, method, solver_kw.get("steps", 30), solver_kw.get("tol", 1e-3))
    res = iterative_refinement(A, b, exact, tol=tol, max_outer=MAX_OUTER)
    out["float_inner"] = summary(res)
    curves["float64 inner products"] = res.residuals
    one = KrylovSolve(main.solver.array.matvec, method, 200, 1e-12, scaling=main.solver.scaling)
    x1 = one(b)
    out["no_refinement"] = {
        "final_residual": relative_residual(A, b, x1),
        "analog_mvms": one.products,
        "forward_error": float(np.linalg.norm(x1 - x_direct) / np.linalg.norm(x_direct)),
    }
    ideal = refine_on_arrays(A, b, dataclasses.replace(config, variation=0.0, r_wire=0.0), seed, True, tol, **solver_kw)
    out["ideal_array"] = summary(ideal.result, ideal.solver)
    curves["ideal array (adaptive)"] = ideal.result.residuals
    fixed = refine_on_arrays(A, b, config, seed, False, tol, **solver_kw)
    out["fixed_precision"] = summary(fixed.result, fixed.solver)
    curves["fixed precision (1 array, 8-bit)"] = fixed.result.residuals
    fg = fgmres_on_arrays(A, b, main.solver, tol)
    out["flexible_gmres"] = summary(fg.result, fg.solver)
    curves["flexible GMRES, analog preconditioner"] = fg.result.residuals
    out["forward_error"] = float(np.linalg.norm(main.result.x - x_direct) / np.linalg.norm(x_direct))
    return out, curves, x_direct, x1


def variation_sweep(A, b, config: ArrayConfig, levels, seed: int = 0, tol: float = 1e-10, **solver_kw) -> list[dict]:
    """Adaptive and fixed-precision refinement at each programming variation in ``levels``."""
    rows = []
    for sigma in levels:
        cfg = dataclasses.replace(config, variation=float(sigma))
        ada = refine_on_arrays(A, b, cfg, seed, True, tol, **solver_kw)
        fix = refine_on_arrays(A, b, cfg, seed, False, tol, **solver_kw)
        row = {"variation": float(sigma)}
        row.update({f"adaptive_{k}": v for k, v in summary(ada.result, ada.solver).items() if k != "escalations"})
        row.update({f"fixed_{k}": v for k, v in summary(fix.result, fix.solver).items() if k != "escalations"})
        rows.append(row)
    return rows


def first_failure(rows: list[dict], prefix: str) -> float | None:
    """Smallest variation whose run did not converge (None if all did)."""
    bad = [r["variation"] for r in rows if not r[f"{prefix}_converged"]]
    return min(bad) if bad else None


def failure_map(n: int, conditions, levels, seed: int = 0, tol: float = 1e-10, config: ArrayConfig | None = None):
    """Adaptive refinement (and flexible GMRES) on dense random SPD matrices of order ``n`` for every
    (condition number, variation) pair: where does refinement stop converging?"""
    from .matrices import random_spd

    config = config or ArrayConfig()
    rng = np.random.default_rng(seed)
    rows = []
    for kappa in conditions:
        A = random_spd(n, float(kappa), seed=seed)
        b = rng.standard_normal(n)
        for sigma in levels:
            cfg = dataclasses.replace(config, variation=float(sigma))
            ada = refine_on_arrays(A, b, cfg, seed, True, tol)
            fg = fgmres_on_arrays(A, b, ada.solver, tol)
            rows.append(
                {
                    "condition_number": float(kappa),
                    "variation": float(sigma),
                    "converged": ada.result.converged,
                    "iterations": ada.result.iterations,
                    "final_residual": ada.result.final_residual,
                    "best_residual": ada.result.best_residual,
                    "max_inner_error": ada.result.max_inner_error,
                    "slices": ada.solver.array.slices,
                    "stop_reason": ada.result.stop_reason.value,
                    "fgmres_converged": fg.result.converged,
                    "fgmres_iterations": fg.result.iterations,
                    "fgmres_final_residual": fg.result.final_residual,
                }
            )
    return rows


def condition_estimate(A) -> float:
    from .matrices import condition_number

    try:
        return condition_number(A)
    except Exception:  # noqa: BLE001 - an estimate that fails (e.g. Lanczos not converging) is reported as unknown
        return math.nan
