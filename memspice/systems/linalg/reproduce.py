"""``memspice reproduce solver-transient | eigen | refine | adc``: analog linear algebra
(Bao et al., Front. Optoelectron. 15, 23, 2022; Sun et al., PNAS 116, 4123, 2019;
Le Gallo et al., Nat. Electron. 1, 246, 2018; Zidan et al., Nat. Electron. 1, 411, 2018).

Every headline number comes from the run; the only constant reported is the paper's
``paper_iterations_to_1e-6`` (24, Le Gallo et al. 2018 as quoted by Bao et al. 2022), for comparison.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from ...analysis.plots import engineering_scale
from ...analysis.reproduction import Reproduction
from .closed_loop import solve_with_circuit
from .closed_loop import solver_transient as run_solver_transient
from .reproduce_adc import adc  # noqa: F401  (registered here)
from .reproduce_eigen import covariance_matrix, eigen  # noqa: F401  (registered here)
from .reproduce_refine import PAPER_ITERATIONS_TO_1E6, refine  # noqa: F401  (registered as memspice.systems.linalg.reproduce:refine)

#: stable example: the 3 x 3 system of the repository's DC check (symmetric, eigenvalues > 0)
STABLE_A = np.array([[3.0, 1.0, 0.5], [1.0, 2.5, 0.8], [0.5, 0.8, 2.0]])
STABLE_B = np.array([1.0, -0.5, 0.8])
#: latching example: eigenvalues 3 and -1
LATCH_A = np.array([[1.0, 2.0], [2.0, 1.0]])
LATCH_B = np.array([1.0, 0.0])
#: non-symmetric example: eigenvalues of A 0.25 +- 0.66j (the papers' condition holds) but those of
#: D^-1 A -0.20 +- 0.15j: the loaded row nodes make the circuit unstable
NONSYM_A = np.array([[-1.0, 0.5], [-4.0, 1.5]])
NONSYM_B = np.array([1.0, 0.5])


def _re_im(values) -> list:
    """Complex numbers as [re, im] pairs (JSON has no complex type)."""
    return [[float(v.real), float(v.imag)] for v in np.asarray(values, complex)]


def _plot_columns(ax, time_s, cols, title):
    ts, tu = engineering_scale(time_s, "s")
    for j, c in enumerate(cols):
        ax.plot(time_s * ts, c, label=f"v(c{j})")
    ax.set_xlabel(f"time ({tu})")
    ax.set_ylabel("column voltage (V)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)


def _sweep_row(c: float, r) -> dict:
    """One row of the coupling sweep: the 2x2 matrix [[1, c], [c, 1]] (smallest eigenvalue 1 - c) and its run."""
    return {
        "c": c,
        "lambda_min": 1 - c,
        "stable": r.stable,
        "latched": r.latched,
        "settling_time_s": r.settling_time_s,
        "predicted_settling_s": r.predicted_settling_s,
    }


def solver_transient(quick: bool = False, seed: int = 0) -> Reproduction:
    """Closed-loop solver transients (ngspice): a stable 3 x 3 system settles to A^-1 b, the
    eigenvalue (3, -1) system latches at the rails although ``.op`` gives the textbook answer,
    a non-symmetric system that meets the papers' eigenvalue condition latches as the loaded
    condition of :mod:`.stability` predicts, and the settling time of [[1, c], [c, 1]] follows
    1 / lambda_min as predicted by the poles."""
    t0 = time.perf_counter()
    ok = run_solver_transient(STABLE_A, STABLE_B)
    bad = run_solver_transient(LATCH_A, LATCH_B)
    nonsym = run_solver_transient(NONSYM_A, NONSYM_B)
    rng = np.random.default_rng(seed)
    rows = []
    for c in (0.5, 0.9) if quick else (0.2, 0.5, 0.8, 0.9, 0.95):
        a = np.array([[1.0, c], [c, 1.0]])
        r = run_solver_transient(a, rng.uniform(0.2, 1.0, 2) * rng.choice([-1, 1], 2))
        rows.append(_sweep_row(c, r))
    for c in (1.5,):  # beyond c = 1 the smallest eigenvalue 1 - c is negative
        a = np.array([[1.0, c], [c, 1.0]])
        r = run_solver_transient(a, np.array([1.0, 0.0]))
        rows.append(_sweep_row(c, r))
    sweep = pd.DataFrame(rows)
    fig = Figure(figsize=(13, 4))
    axs = fig.subplots(1, 3)
    _plot_columns(axs[0], ok.time, ok.columns, f"stable 3x3: settles in {ok.settling_time_s * 1e9:.0f} ns")
    _plot_columns(axs[1], bad.time, bad.columns, "eigenvalues 3, -1: latches at the rails")
    st = sweep[sweep.stable]
    axs[2].loglog(st.lambda_min, st.settling_time_s, "o", label="ngspice transient")
    axs[2].loglog(st.lambda_min, st.predicted_settling_s, "-", label="ln(100) / |slowest pole|")
    axs[2].xaxis.set_minor_formatter(NullFormatter())
    axs[2].set_xlabel("smallest eigenvalue of [[1, c], [c, 1]]")
    axs[2].set_ylabel("1 % settling time (s)")
    axs[2].legend(fontsize=7)
    axs[2].set_title("settling set by the smallest eigenvalue", fontsize=9)
    fig.tight_layout()
    headline = {
        "stable": ok.stable,
        "settling_time_s": ok.settling_time_s,
        "predicted_settling_s": ok.predicted_settling_s,
        "max_rel_error_final": float(np.max(np.abs(ok.x_final - ok.x_exact)) / np.max(np.abs(ok.x_exact))),
        "eigenvalues": np.sort(ok.dynamics.eig_A.real),
        "latched_example": {
            "eigenvalues": np.sort(bad.dynamics.eig_A.real),
            "stable": bad.stable,
            "predicted_stable": bad.dynamics.stable,
            "latched": bad.latched,
            "x_op": bad.x_op,
            "x_textbook": bad.x_exact,
            "op_matches_textbook": bool(np.allclose(bad.x_op, bad.x_exact, rtol=1e-3)),
            "final_column_voltages_V": bad.columns[:, -1],
        },
        "nonsymmetric_example": {
            "eigenvalues_re_im": _re_im(nonsym.dynamics.eig_A),
            "loaded_eigenvalues_re_im": _re_im(nonsym.dynamics.eig_loaded),
            "paper_condition_stable": nonsym.dynamics.paper_stable,
            "predicted_stable": nonsym.dynamics.stable,
            "latched": nonsym.latched,
        },
        "sweep_predicted_vs_measured_max_rel": float(np.max(np.abs(st.settling_time_s / st.predicted_settling_s - 1))),
        "seconds": time.perf_counter() - t0,
    }
    table = pd.DataFrame({"time_s": ok.time, **{f"stable_v_c{j}_V": c for j, c in enumerate(ok.columns)}})
    latched = pd.DataFrame({"time_s": bad.time, **{f"v_c{j}_V": c for j, c in enumerate(bad.columns)}})
    return Reproduction(fig, headline, table, {"sweep": sweep, "latched": latched})


def solver_gain(quick: bool = False, seed: int = 0) -> Reproduction:
    """Closed-loop solver accuracy (``.op`` in ngspice) against op-amp open-loop gain; json: the gains and
    the max relative error at each (same keys as the former ``reproduce_solver`` of memspice.analysis.reproductions)."""
    gains = (1e1, 1e3, 1e6) if quick else (1e1, 1e2, 1e3, 1e4, 1e5, 1e6)
    ref = np.linalg.solve(STABLE_A, STABLE_B)
    errs = [
        float(np.max(np.abs(solve_with_circuit(STABLE_A, STABLE_B, gain=g) - ref)) / np.max(np.abs(ref))) for g in gains
    ]
    table = pd.DataFrame({"gain": gains, "max_rel_error": errs})
    fig = Figure(figsize=(5, 4))
    ax = fig.subplots()
    ax.loglog(gains, errs, "o-", label="3x3 system")
    ax.set_xlabel("op-amp open-loop gain (V/V)")
    ax.set_ylabel("max relative error")
    ax.set_title("closed-loop solver accuracy", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return Reproduction(fig, {"gain": list(gains), "max_rel_error": errs}, table)
