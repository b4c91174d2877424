"""``memspice reproduce refine``: mixed-precision iterative refinement on simulated analog arrays.

Le Gallo et al., "Mixed-precision in-memory computing", Nat. Electron. 1, 246 (2018) (reviewed by Bao et
al., Front. Optoelectron. 15, 23, 2022: a 5000-dimensional system to residual 1e-6 within 24 iterations).
Without ``--matrix``: the 2-D Poisson system (72 x 72 grid, 5184 unknowns; quick: 16 x 16) with a Gaussian
source, a dense sample-covariance system (the paper's kind of matrix; 1000 unknowns, quick 64), a suite of
matrix kinds and a condition-number x variation failure map.  With ``--matrix FILE`` (``.npz`` scipy
sparse or one dense array, ``.npy``, MatrixMarket ``.mtx``) and optionally ``--rhs FILE``: that system,
with its baselines and variation sweep.  See :mod:`.refine_study` for the runs and baselines.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse as sp
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from ...analysis.reproduction import Reproduction
from . import refine_study as study
from .analog_mvm import ArrayConfig
from .matrices import (
    check_matrix,
    diffusion_2d,
    gaussian_source,
    graph_laplacian,
    is_symmetric,
    kms_covariance,
    load_matrix,
    load_vector,
    poisson_1d,
    poisson_2d,
    random_spd,
    sample_covariance,
)
from .refinement import InnerMethod

#: Le Gallo et al. (2018) as quoted by Bao et al. (2022): outer iterations to residual 1e-6 (5000 unknowns)
PAPER_ITERATIONS_TO_1E6 = 24
#: programming variations of the sweep (0-10 %, the issue's range)
VARIATIONS = (0.0, 0.01, 0.02, 0.04, 0.06, 0.08, 0.10)


def _suite(quick: bool, seed: int) -> dict:
    """Matrix kinds the default run also solves (seeded, generated; sizes assumed to keep the run to minutes)."""
    if quick:  # a few kinds (the tests solve every kind on held-out seeds)
        return {
            "poisson_1d": poisson_1d(60),
            "diffusion_2d (contrast 100)": diffusion_2d(10, seed=seed + 1),
            "sample_covariance": sample_covariance(40, seed=seed + 3),
        }
    s = 2
    return {
        "poisson_1d": poisson_1d(100 * s),
        "poisson_2d": poisson_2d(16 * s),
        "diffusion_2d (contrast 100)": diffusion_2d(16 * s, seed=seed + 1),
        "graph_laplacian + shift": graph_laplacian(300 * s, seed=seed + 2),
        "sample_covariance": sample_covariance(100 * s, seed=seed + 3),
        "kms_covariance (rho 0.9)": kms_covariance(100 * s),
        "random_spd (kappa 1e2)": random_spd(64 * s, 1e2, seed=seed + 4),
        "random_spd (kappa 1e4)": random_spd(64 * s, 1e4, seed=seed + 5),
    }


def _mtx_roundtrip(A, folder: Path) -> sp.csr_matrix:
    """Write ``A`` as MatrixMarket and read it back through :func:`load_matrix` (the file path a user takes)."""
    path = folder / "diffusion.mtx"
    scipy.io.mmwrite(str(path), sp.coo_matrix(A), comment="memspice refine suite: variable-coefficient diffusion")
    return load_matrix(path, spd=True, what="suite")


def _case_row(name, A, b, config, seed, tol, solver_kw) -> dict:
    ada = study.refine_on_arrays(A, b, config, seed, True, tol, **solver_kw)
    row = {
        "matrix": name,
        "unknowns": A.shape[0],
        "nonzeros": int(A.nnz if sp.issparse(A) else np.count_nonzero(A)),
        "condition_number": study.condition_estimate(A),
    }
    row.update(study.summary(ada.result, ada.solver))
    row.pop("escalations")
    if not ada.result.converged:
        fg = study.fgmres_on_arrays(A, b, ada.solver, tol)
        row.update(fgmres_converged=fg.result.converged, fgmres_iterations=fg.result.iterations,
                   fgmres_final_residual=fg.result.final_residual)  # fmt: skip
    return row


def _grid_side(n: int) -> int | None:
    side = int(round(math.sqrt(n)))
    return side if side * side == n else None


def _plot_sweep(ax, sw: pd.DataFrame) -> None:
    for prefix, marker, label in (("adaptive", "o-", "adaptive precision"), ("fixed", "s--", "fixed: 1 array, 8 bit")):
        ok = sw[f"{prefix}_converged"].to_numpy(bool)
        res = sw[f"{prefix}_final_residual"].clip(lower=1e-16)
        ax.semilogy(sw.variation * 100, res, marker, label=label)
        ax.semilogy(sw.variation[~ok] * 100, res[~ok], "rx", ms=10)
    for v, s_, it, r in zip(sw.variation, sw.adaptive_slices, sw.adaptive_iterations, sw.adaptive_final_residual):
        ax.annotate(f"{s_} sl., {it} it.", (v * 100, max(r, 1e-16)), xytext=(0, -14), textcoords="offset points",
                    fontsize=6, ha="center")  # fmt: skip
    ax.axhline(1e-10, color="gray", lw=0.5)
    ax.set_xlabel("programming variation sigma (%)")
    ax.set_ylabel("final relative residual (x: did not converge)")
    ax.set_title("variation sweep: stops where the inner relative error reaches 1", fontsize=9)
    ax.legend(fontsize=7)


def _plot_map(fig, ax, fm: pd.DataFrame) -> None:
    kappas = sorted(fm.condition_number.unique())
    sigmas = sorted(fm.variation.unique())

    def cell(k, s):
        return fm[(fm.condition_number == k) & (fm.variation == s)].iloc[0]

    grid = np.array([[cell(k, s).final_residual for s in sigmas] for k in kappas])
    im = ax.imshow(np.clip(grid, 1e-16, 1e2), origin="lower", aspect="auto", cmap="RdYlGn_r",
                   norm=LogNorm(1e-16, 1e2))  # fmt: skip
    fig.colorbar(im, ax=ax, label="final relative residual")
    for i, k in enumerate(kappas):
        for j, s in enumerate(sigmas):
            r = cell(k, s)
            txt = f"{r.iterations} it, {r.slices} sl." if r.converged else "fails"
            if not r.converged:
                txt += "\nFGMRES ok" if r.fgmres_converged else "\nFGMRES fails too"
            ax.text(j, i, txt, ha="center", va="center", fontsize=6)
    ax.set_xticks(range(len(sigmas)), [f"{100 * s:g}" for s in sigmas])
    ax.set_yticks(range(len(kappas)), [f"{k:.0e}" for k in kappas])
    ax.set_xlabel("programming variation sigma (%)")
    ax.set_ylabel("condition number (dense random SPD)")
    ax.set_title("where refinement fails: condition number x variation", fontsize=9)


def _figure(curves, main, sweep, fmap, err_single, err_refined, title):
    fig = Figure(figsize=(13, 9.5))
    axs = fig.subplots(2, 2)
    ax = axs[0, 0]
    ax.semilogy(main.result.residuals, "o-", ms=3, label="analog arrays, adaptive precision (default)")
    for k, e in main.result.events:
        if e == "escalated":
            ax.axvline(k, color="C0", lw=0.5, ls=":")
    for label, r in curves.items():
        ax.semilogy(np.clip(r, 1e-17, None), "--", lw=1, label=label)
    ax.axhline(1e-6, color="gray", lw=0.5)
    ax.axhline(1e-10, color="gray", lw=0.5)
    ax.set_ylim(1e-16, 1e4)
    ax.set_xlabel("outer iteration (dotted: precision raised)")
    ax.set_ylabel("relative residual ||b - A x|| / ||b||")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    ax = axs[0, 1]
    if sweep:
        _plot_sweep(ax, pd.DataFrame(sweep))
    else:
        ax.text(0.5, 0.5, "variation sweep skipped (--sweep false)", ha="center", transform=ax.transAxes)
        ax.axis("off")
    ax = axs[1, 0]
    if fmap:
        _plot_map(fig, ax, pd.DataFrame(fmap))
    else:
        ax.text(0.5, 0.5, "failure map skipped (--sweep false)", ha="center", transform=ax.transAxes)
        ax.axis("off")
    ax = axs[1, 1]
    side = _grid_side(err_single.size)
    if side is not None:
        im = ax.imshow(np.clip(err_single.reshape(side, side), 1e-8, None), cmap="magma", norm=LogNorm())
        fig.colorbar(im, ax=ax, label="|x - x*| / max|x*|")
        ax.set_title("error map of one analog solve (no refinement) on the grid", fontsize=9)
        ax.axis("off")
    else:
        ax.semilogy(np.clip(err_single, 1e-18, None), ".", ms=2, label="one analog solve (no refinement)")
        ax.semilogy(np.clip(err_refined, 1e-18, None), ".", ms=2, label="refined")
        ax.set_xlabel("unknown")
        ax.set_ylabel("|x - x*| / max|x*|")
        ax.set_title("error per unknown", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def refine(
    quick: bool = False,
    seed: int = 0,
    matrix: Path | None = None,
    rhs: Path | None = None,
    variation: float = 0.02,
    r_wire: float = 1.0,
    max_slices: int = 4,
    inner: str = "gmres",
    inner_steps: int = 30,
    tol: float = 1e-10,
    sweep: bool = True,
) -> Reproduction:
    """Refinement on simulated arrays (module docstring); json keys in the README / docs.

    Options: ``matrix`` (file), ``rhs`` (file; default b ~ N(0, 1) seeded for a user's matrix, a Gaussian
    source for the Poisson system), ``variation`` (lognormal sigma of programmed conductances), ``r_wire``
    (Ohm per wire segment), ``max_slices`` (arrays per block the solver may program), ``inner`` (gmres or cg;
    cg needs an SPD matrix), ``inner_steps`` (products per inner solve), ``tol`` (target relative residual),
    ``sweep`` (false: skip the variation sweep and the failure map, for large systems).
    """
    t0 = time.perf_counter()
    method = InnerMethod.parse(inner)
    cfg = ArrayConfig(variation=variation, r_wire=r_wire)
    solver_kw = {"method": method, "steps": inner_steps, "max_slices": max_slices}
    user = matrix is not None
    if matrix is not None:
        A = load_matrix(matrix, spd=method is InnerMethod.CG)
        name = Path(matrix).name
        b = load_vector(rhs, A.shape[0]) if rhs is not None else np.random.default_rng(seed).standard_normal(A.shape[0])
    else:
        if rhs is not None:
            raise ValueError("--rhs needs --matrix")
        grid = 16 if quick else 72
        A, b, name = poisson_2d(grid), gaussian_source(grid), f"poisson_2d {grid}x{grid}"
    study.direct_solve(A, b)  # singular matrices stop here, named
    main = study.refine_on_arrays(A, b, cfg, seed, True, tol, **solver_kw)
    base, curves, x_direct, x_single = study.baselines(A, b, cfg, main, seed, tol, **solver_kw)
    levels = (0.0, 0.05, 0.10) if quick else VARIATIONS
    sweep_rows = study.variation_sweep(A, b, cfg, levels, seed, tol, **solver_kw) if sweep else []
    scale = float(np.max(np.abs(x_direct))) or 1.0
    err_single = np.abs(x_single - x_direct) / scale
    err_refined = np.abs(main.result.x - x_direct) / scale
    head = {
        "matrix": {
            "name": name,
            "source": str(matrix) if user else "generated",
            "unknowns": int(A.shape[0]),
            "nonzeros": int(A.nnz if sp.issparse(A) else np.count_nonzero(A)),
            "symmetric": is_symmetric(A),
            "condition_number": study.condition_estimate(A),
        },
        "unknowns": int(A.shape[0]),
        **study.summary(main.result, main.solver),
        "inner_relative_errors": main.result.inner_errors,
        "residuals": main.result.residuals,
        "paper_iterations_to_1e-6": PAPER_ITERATIONS_TO_1E6,
        "inner_method": method.value,
        "inner_steps": inner_steps,
        "array_build_seconds": main.build_seconds,
        "array": {
            **main.solver.array.info,
            "variation": variation,
            "r_wire_ohm": r_wire,
            "max_slices": max_slices,
            "device_bits": cfg.device_bits,
            "tile": [cfg.tile_rows, cfg.tile_cols],
        },  # fmt: skip
        "baselines": base,
        "variation_sweep": sweep_rows,
        "first_failing_variation_adaptive": study.first_failure(sweep_rows, "adaptive"),
        "first_failing_variation_fixed": study.first_failure(sweep_rows, "fixed"),
    }
    tables = {"variation": pd.DataFrame(sweep_rows)}
    if not user:
        n_cov = 64 if quick else 1000
        C = sample_covariance(n_cov, seed=seed)
        bc = np.random.default_rng(seed + 1).standard_normal(n_cov)
        cov = study.refine_on_arrays(C, bc, cfg, seed, True, tol, **solver_kw)
        cov_fixed = study.refine_on_arrays(C, bc, cfg, seed, False, tol, **solver_kw)
        cov_fg = study.fgmres_on_arrays(C, bc, cov.solver, tol)
        head["covariance"] = {
            "unknowns": n_cov,
            "samples": 4 * n_cov,
            "condition_number": study.condition_estimate(C),
            **study.summary(cov.result, cov.solver),
            "fixed_precision": study.summary(cov_fixed.result, cov_fixed.solver),
            "flexible_gmres": study.summary(cov_fg.result, cov_fg.solver),
        }
        rows = []
        kinds = _suite(quick, seed)
        with tempfile.TemporaryDirectory() as tmp:
            side = 8 if quick else 12
            kinds[f"matrixmarket file (diffusion {side}x{side})"] = _mtx_roundtrip(
                diffusion_2d(side, seed=seed + 6), Path(tmp)
            )
        rng = np.random.default_rng(seed + 7)
        for kind, M in kinds.items():
            check_matrix(M, kind, spd=True)
            rows.append(_case_row(kind, M, rng.standard_normal(M.shape[0]), cfg, seed, tol, solver_kw))
        suite = pd.DataFrame(rows)
        tables["suite"] = suite
        head["suite"] = rows
        conditions = (1e1, 1e3) if quick else (1e1, 1e2, 1e3, 1e4, 1e5, 1e6)
        map_levels = (0.0, 0.05) if quick else (0.0, 0.02, 0.05, 0.10)
        fmap = study.failure_map(32 if quick else 100, conditions, map_levels, seed, tol, cfg)
        tables["failure_map"] = pd.DataFrame(fmap)
        head["failure_map"] = fmap
    elif sweep:
        fmap = (
            study.failure_map(24, (1e1, 1e4), (0.0, 0.05), seed, tol, cfg)
            if quick
            else study.failure_map(64, (1e1, 1e2, 1e3, 1e4, 1e5), (0.0, 0.02, 0.05, 0.10), seed, tol, cfg)
        )
        tables["failure_map"] = pd.DataFrame(fmap)
        head["failure_map"] = fmap
    else:
        fmap = []
    title = (f"{name}: {A.shape[0]} unknowns, kappa ~ {head['matrix']['condition_number']:.2g}, "
             f"variation {variation:.0%}, r_wire {r_wire:g} Ohm")  # fmt: skip
    fig = _figure(curves, main, sweep_rows, fmap, err_single, err_refined, title)
    n_it = max(len(r) for r in [main.result.residuals, *curves.values()])

    def pad(r):
        return np.r_[r, [np.nan] * (n_it - len(r))]

    table = pd.DataFrame(
        {
            "iteration": np.arange(n_it),
            "analog arrays (adaptive)": pad(main.result.residuals),
            **{k: pad(v) for k, v in curves.items()},
        }  # fmt: skip
    )
    head["seconds"] = time.perf_counter() - t0
    return Reproduction(fig, head, table, tables)
