"""``memspice reproduce eigen``: the eigenvector circuit on programmed memristors finds the largest
eigenvalue and its eigenvector itself (Sun et al., PNAS 116, 4123, 2019, Fig. 3; Bao et al., Front.
Optoelectron. 15, 23, 2022), and the device-to-device variation at which it fails.

The matrix is a sample covariance with one dominant direction (a PCA task; generated, assumed; 16 x 16,
quick 4 x 4) or the user's symmetric matrix (``--matrix``, at most :data:`MAX_ORDER` unknowns: every
entry is two devices in the ngspice netlist).  Devices, programming and the measurement of the eigenvalue
from ngspice transients: :mod:`.eigen_search`.  Baselines: numpy's eigen-decomposition of the target
matrix and of the matrix the devices hold (the circuit should find the latter), and the same circuit
search on devices without variation.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ...analysis.plots import engineering_scale
from ...analysis.reproduction import Reproduction
from .eigen_search import find_eigenvalue, program_matrix
from .matrices import is_symmetric, load_matrix

#: largest matrix the circuit reproduction takes (2 n^2 devices in one ngspice netlist)
MAX_ORDER = 32
#: failure thresholds (assumed: about 6-7 bits, the analog precision Bao et al. 2022 quote for such circuits)
MAX_EIGENVALUE_ERROR = 0.01
MIN_COSINE = 0.99
#: device-to-device variations of the sweep
VARIATIONS = (0.0, 0.02, 0.05, 0.10, 0.20, 0.30)


def covariance_matrix(n: int, seed: int = 0, samples: int = 400) -> np.ndarray:
    """Sample covariance of synthetic data with one dominant direction (a PCA task; generated, assumed)."""
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(n)
    data = np.outer(rng.standard_normal(samples) * 2.0, u / np.linalg.norm(u)) + 0.5 * rng.standard_normal((samples, n))
    return np.cov(data, rowvar=False)


def _top(a) -> tuple[float, np.ndarray]:
    w, v = np.linalg.eig(a)
    k = int(np.argmax(w.real))
    vec = np.real(v[:, k])
    return float(w.real[k]), vec / np.linalg.norm(vec)


def _one(A, variation, seed, lam_ref, vec_ref):
    prog = program_matrix(A, variation, seed=seed)
    res = find_eigenvalue(prog, seed=seed)
    lam_prog, vec_prog = _top(prog.effective)
    return (
        prog,
        res,
        {
            "variation": variation,
            "seed": seed,
            "eigenvalue_circuit": res.eigenvalue,
            "eigenvalue_programmed": lam_prog,
            "eigenvalue_target": lam_ref,
            "eigenvalue_error": abs(res.eigenvalue / lam_ref - 1),
            "circuit_vs_programmed": abs(res.eigenvalue / lam_prog - 1),
            "cosine": float(abs(res.vector @ vec_ref)),
            "cosine_vs_programmed": float(abs(res.vector @ vec_prog)),
            "transients": res.transients,
            "converged": res.converged,
        },
    )


def eigen(quick: bool = False, seed: int = 0, matrix: Path | None = None, variation: float = 0.02) -> Reproduction:
    """Eigenvalue and eigenvector found by the programmed circuit; json: eigenvalue, cosine, variation sweep and
    the variation at which it fails.  Options: ``matrix`` (symmetric, order <= 32), ``variation`` (lognormal
    device-to-device sigma of R_on and R_off, assumed 2 % as for the arrays of refine)."""
    t0 = time.perf_counter()
    if matrix is not None:
        A = load_matrix(matrix, what="--matrix")
        A = A.toarray() if hasattr(A, "toarray") else A
        if not is_symmetric(A):
            raise ValueError(
                f"--matrix {Path(matrix).name}: not symmetric; the eigenvector circuit needs a real spectrum"
            )
        if A.shape[0] > MAX_ORDER:
            raise ValueError(f"--matrix {Path(matrix).name}: order {A.shape[0]} > {MAX_ORDER} (two devices per entry)")
        name = Path(matrix).name
    else:
        A, name = covariance_matrix(4 if quick else 16, seed), "sample covariance"
    lam_ref, vec_ref = _top(A)
    if lam_ref <= 0:
        raise ValueError(f"the largest eigenvalue must be > 0 for a feedback conductance, got {lam_ref:.3g}")
    w = np.sort(np.linalg.eigvalsh(A))
    gap = float((w[-1] - w[-2]) / w[-1]) if len(w) > 1 else 1.0
    prog, res, main = _one(A, variation, seed, lam_ref, vec_ref)
    _, res0, ideal = _one(A, 0.0, seed, lam_ref, vec_ref)
    seeds = (seed,) if quick else (seed, seed + 1)
    levels = (0.0, 0.2) if quick else VARIATIONS
    rows = [_one(A, v, s, lam_ref, vec_ref)[2] for v in levels for s in seeds]
    sweep = pd.DataFrame(rows)
    sweep["fails"] = (sweep.eigenvalue_error > MAX_EIGENVALUE_ERROR) | (sweep.cosine < MIN_COSINE)
    by_level = sweep.groupby("variation").agg(
        eigenvalue_error=("eigenvalue_error", "median"), cosine=("cosine", "median"), fails=("fails", "mean")
    )
    failing = [float(v) for v, r in by_level.iterrows() if r.fails >= 0.5]
    fig = Figure(figsize=(13, 9))
    axs = fig.subplots(2, 2)
    ax = axs[0, 0]
    ts, tu = engineering_scale(np.concatenate([h.time for h in res.history]), "s")
    cmap = __import__("matplotlib").colormaps["coolwarm"]
    lams = [h.lam for h in res.history]
    for h in res.history:
        c = cmap((h.lam - min(lams)) / (max(lams) - min(lams) or 1))
        ax.semilogy(h.time * ts, h.norm, color=c, lw=1, label=f"G_lambda = {h.lam:.4g} g_unit")
    ax.set_xlabel(f"time ({tu})")
    ax.set_ylabel("||column voltages|| (V)")
    ax.set_title("transients of the search: grows below the eigenvalue, decays above", fontsize=9)
    ax.legend(fontsize=6)
    ax = axs[0, 1]
    hl = np.array([(h.lam, h.rate) for h in res.history])
    ax.plot(hl[:, 0], hl[:, 1], "o")
    for i, (x, y) in enumerate(hl):
        ax.annotate(str(i + 1), (x, y), fontsize=7)
    ax.axhline(0, color="k", lw=0.5)
    ax.axvline(res.eigenvalue, color="C2", lw=1, label=f"circuit: {res.eigenvalue:.6g}")
    ax.axvline(lam_ref, color="C3", lw=1, ls="--", label=f"numpy, target: {lam_ref:.6g}")
    ax.set_yscale("symlog", linthresh=1e3)
    ax.set_xlabel("G_lambda / g_unit")
    ax.set_ylabel("measured growth rate (1/s, symlog)")
    ax.set_title(f"{res.transients} transients to the neutral loop (variation {variation:.0%})", fontsize=9)
    ax.legend(fontsize=7)
    ax = axs[1, 0]
    idx = np.arange(A.shape[0])
    sign = np.sign(res.vector @ vec_ref) or 1.0
    ax.bar(idx - 0.2, sign * res.vector, 0.4, label="circuit")
    ax.bar(idx + 0.2, vec_ref, 0.4, label="numpy (target matrix)")
    ax.set_xlabel("component")
    ax.set_title(f"eigenvector: cosine {main['cosine']:.5f}", fontsize=9)
    ax.legend(fontsize=7)
    ax = axs[1, 1]
    lv = by_level.index.to_numpy() * 100
    ax.semilogy(
        sweep.variation * 100, sweep.eigenvalue_error.clip(lower=1e-8), "o", alpha=0.5, label="eigenvalue error"
    )
    ax.semilogy(sweep.variation * 100, (1 - sweep.cosine).clip(lower=1e-12), "s", alpha=0.5, label="1 - cosine")
    ax.semilogy(lv, by_level.eigenvalue_error.clip(lower=1e-8), "-", color="C0")
    ax.semilogy(lv, (1 - by_level.cosine).clip(lower=1e-12), "-", color="C1")
    ax.axhline(MAX_EIGENVALUE_ERROR, color="C0", ls=":", label="failure: error > 1 %")
    ax.axhline(1 - MIN_COSINE, color="C1", ls=":", label="failure: cosine < 0.99")
    ax.set_xlabel("device-to-device variation of R_on, R_off (%)")
    ax.set_ylabel("against the target matrix")
    ax.set_title(f"fails from {min(failing):.0%}" if failing else "no failure in the sweep", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    head = {
        "matrix": name,
        "n": int(A.shape[0]),
        "spectral_gap": gap,
        "variation": variation,
        "eigenvalue": res.eigenvalue,
        "eigenvalue_numpy": lam_ref,
        "eigenvalue_programmed_numpy": main["eigenvalue_programmed"],
        "eigenvalue_error": main["eigenvalue_error"],
        "circuit_vs_programmed": main["circuit_vs_programmed"],
        "cosine": main["cosine"],
        "cosine_vs_programmed": main["cosine_vs_programmed"],
        "transients": res.transients,
        "converged": res.converged,
        "g_unit_S": prog.g_unit,
        "device": type(prog.device).__name__,
        "baselines": {"ideal_devices": ideal, "numpy_target": {"eigenvalue": lam_ref}},
        "failure_thresholds": {"eigenvalue_error": MAX_EIGENVALUE_ERROR, "cosine": MIN_COSINE},
        "fails_at_variation": min(failing) if failing else None,
        "fails_at_variation_rule": "smallest variation at which at least half of the seeds exceed a threshold",
        "seeds": list(seeds),
        "variation_sweep": rows,
        "seconds": time.perf_counter() - t0,
    }
    table = pd.DataFrame({"component": idx, "circuit": sign * res.vector, "numpy": vec_ref})
    search = pd.DataFrame(
        [{"lambda": h.lam, "growth_rate_per_s": h.rate, "saturated": h.saturated} for h in res.history]
    )
    return Reproduction(fig, head, table, {"sweep": sweep, "search": search})
