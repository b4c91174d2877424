"""Analog linear algebra (memspice.systems.linalg): solver stability and transients, the eigenvector circuit and
its eigenvalue search, the ADC resolution rule (ideal and measured), the tiled non-ideal array, matrices and
files, and mixed-precision refinement on held-out matrices."""

import json

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from memspice.reproduce import parse_options
from memspice.systems.linalg import (
    AnalogArray,
    AnalogSolver,
    ArrayConfig,
    KrylovSolve,
    StopReason,
    adc_bits_rule,
    adc_rule_study,
    diffusion_2d,
    eigenvector_transient,
    flexible_gmres,
    gaussian_source,
    graph_laplacian,
    inner_cg,
    inner_gmres,
    iterative_refinement,
    kms_covariance,
    load_matrix,
    poisson_1d,
    poisson_2d,
    random_spd,
    sample_covariance,
    solver_dynamics,
    solver_transient,
)
from memspice.systems.linalg.adc_rule import adc_bits_needed, min_lossless_bits
from memspice.systems.linalg.matrices import check_matrix, condition_number, load_vector

from .conftest import needs_ngspice

STABLE_A = np.array([[3.0, 1.0, 0.5], [1.0, 2.5, 0.8], [0.5, 0.8, 2.0]])
STABLE_B = np.array([1.0, -0.5, 0.8])
LATCH_A = np.array([[1.0, 2.0], [2.0, 1.0]])  # eigenvalues 3 and -1


# --- stability (no simulator) ----------------------------------------------------------------------------------
def test_poles_follow_the_loaded_eigenvalues():
    dyn = solver_dynamics(LATCH_A, gain=1e6, gbw=10e6)
    # D = diag(3, 3): mu = eig(A) / 3 = 1, -1/3 -> poles -2 pi gbw (mu + 1/a0)
    assert np.allclose(np.sort(dyn.poles.real), np.sort(-2 * np.pi * 10e6 * (np.array([1.0, -1 / 3]) + 1e-6)))
    assert not dyn.stable and not dyn.paper_stable and dyn.settling_time() == np.inf
    ok = solver_dynamics(STABLE_A)
    assert ok.stable and ok.paper_stable and 0 < ok.settling_time(0.01) < 1e-6


def test_symmetric_matrices_agree_with_the_papers_condition():
    rng = np.random.default_rng(3)
    for _ in range(20):
        m = rng.standard_normal((4, 4))
        a = m + m.T
        dyn = solver_dynamics(a)
        assert dyn.stable == dyn.paper_stable == bool(np.all(np.linalg.eigvalsh(a) > 0))


def test_zero_row_is_named():
    with pytest.raises(ValueError, match="all-zero row"):
        solver_dynamics(np.array([[1.0, 0.0], [0.0, 0.0]]))


# --- ngspice transients ----------------------------------------------------------------------------------------
@needs_ngspice
def test_stable_system_settles_to_the_solution_in_the_predicted_time():
    r = solver_transient(STABLE_A, STABLE_B)
    assert r.stable and r.settled and not r.latched
    assert np.max(np.abs(r.x_final - np.linalg.solve(STABLE_A, STABLE_B))) < 1e-3
    assert 0.7 < r.settling_time_s / r.predicted_settling_s < 1.5


@needs_ngspice
def test_unstable_system_latches_although_op_gives_the_textbook_answer():
    r = solver_transient(LATCH_A, np.array([1.0, 0.0]))
    assert np.allclose(r.x_op, np.linalg.solve(LATCH_A, [1.0, 0.0]), rtol=1e-3)  # .op hides the instability
    assert r.latched and not r.stable and not r.settled
    assert np.all(np.abs(r.columns[:, -1]) > 9.0)  # both outputs at the 10 V rails
    assert np.isnan(r.settling_time_s)


@needs_ngspice
def test_nonsymmetric_system_follows_the_loaded_condition_not_the_papers():
    a = np.array([[-1.0, 0.5], [-4.0, 1.5]])  # eig(A) = 0.25 +- 0.66j, eig(D^-1 A) = -0.20 +- 0.15j
    r = solver_transient(a, np.array([1.0, 0.5]))
    assert r.dynamics.paper_stable and not r.dynamics.stable
    assert r.latched and not r.stable


@needs_ngspice
def test_eigenvector_circuit_finds_the_principal_eigenvector():
    rng = np.random.default_rng(1)
    m = rng.standard_normal((5, 5))
    a = m @ m.T / 5 + np.diag(np.arange(5.0))  # symmetric, signed entries, distinct eigenvalues
    res = eigenvector_transient(a, seed=2)
    assert res.cosine >= 0.99
    assert abs(res.amplitude_V - 1.0) < 0.05 and res.settled  # grew from the kick to the op-amp limit
    w, v = np.linalg.eigh(a)
    assert abs(res.vector @ v[:, -2]) < 0.1


# --- eigenvalue found by the programmed circuit ----------------------------------------------------------------
def test_programmed_matrix_carries_device_variation():
    from memspice.systems.linalg.eigen_search import program_matrix

    a = np.array([[2.0, -0.5, 0.3], [-0.5, 1.5, 0.0], [0.3, 0.0, 1.0]])
    ideal = program_matrix(a, 0.0)
    assert np.allclose(ideal.effective, a, rtol=1e-3, atol=1e-3)  # state from the nominal inverse: on target
    varied = program_matrix(a, 0.1, seed=3)
    err = np.abs(varied.effective - a)[a != 0]
    assert 1e-3 < err.max() < 0.5 and np.all(varied.effective[a == 0] == 0)
    assert not np.allclose(program_matrix(a, 0.1, seed=4).effective, varied.effective)
    assert "ms_drift_diffusion_frozen" in varied.netlist_cells()  # the device model's own read face
    with pytest.raises(ValueError, match="variation"):
        program_matrix(a, -0.1)


@needs_ngspice
def test_circuit_measures_the_eigenvalue_of_what_the_devices_hold():
    from memspice.systems.linalg.eigen_search import find_eigenvalue, program_matrix

    rng = np.random.default_rng(7)  # a held-out symmetric matrix
    m = rng.standard_normal((4, 4))
    a = m @ m.T / 4 + np.diag([3.0, 0.5, 0.2, 0.1])
    prog = program_matrix(a, 0.1, seed=1)
    res = find_eigenvalue(prog)
    w, v = np.linalg.eig(prog.effective)
    k = int(np.argmax(w.real))
    assert res.converged and res.transients <= 16
    assert abs(res.eigenvalue / w.real[k] - 1) < 1e-3  # the circuit's neutral loop is the held matrix's eigenvalue
    assert abs(res.vector @ np.real(v[:, k]) / np.linalg.norm(v[:, k])) > 0.999
    rates = {h.lam: h.rate for h in res.history}
    assert all((r > 0) == (lam < res.eigenvalue) for lam, r in rates.items() if abs(lam / res.eigenvalue - 1) > 1e-3)


# --- ADC rule --------------------------------------------------------------------------------------------------
def test_adc_rule_function():
    assert adc_bits_rule(4, 4, 64) == 14
    assert adc_bits_rule(8, 6, 128) == 21
    assert adc_bits_rule(1, 4, 5) == 8  # log2 rounded up
    with pytest.raises(ValueError, match="b_in"):
        adc_bits_rule(0, 4, 64)
    assert min_lossless_bits(4, 4, 64) == 14 and min_lossless_bits(1, 1, 8) == 4


def test_adc_rule_is_lossless_at_the_rule_and_lossy_one_bit_below():
    table, s = adc_rule_study(b_in=3, b_d=3, n=16, columns=8, vectors=64, seed=1)
    assert s["bits_rule"] == 10 and s["lossless_at_rule"] and not s["lossless_one_below"]
    below = table[table.bits_minus_rule == -1]
    assert (below.wrong_fraction > 0).all() and (below.max_error_steps >= 1).all()
    at = table[table.bits_minus_rule >= 0]
    assert (at.wrong_fraction == 0).all()


@settings(max_examples=8, deadline=None)
@given(st.integers(2, 5), st.integers(2, 5), st.sampled_from([4, 16, 32]), st.integers(0, 100))
def test_measured_bits_of_an_ideal_array_equal_the_rule(b_in, b_d, n, seed):
    r = adc_bits_needed(b_in, b_d, n, vectors=64, seed=seed)
    assert r["bits_needed"] == r["bits_rule"] == adc_bits_rule(b_in, b_d, n)


def test_variation_and_wires_lower_the_bits_worth_converting():
    ideal = adc_bits_needed(4, 4, 64, vectors=128)
    varied = adc_bits_needed(4, 4, 64, variation=0.05, vectors=128)
    wired = adc_bits_needed(4, 4, 64, r_wire=5.0, vectors=128)
    assert varied["bits_needed"] < ideal["bits_needed"] and wired["bits_needed"] < ideal["bits_needed"]
    assert varied["enob"] < 10 and wired["analog_rms_error_steps"] > varied["analog_rms_error_steps"] > 0
    assert wired["enob_calibrated"] > wired["enob"] + 2  # the IR drop is mostly a per-column gain
    with pytest.raises(ValueError, match="variation"):
        adc_bits_needed(variation=-1.0)


def test_bits_needed_exists_when_the_analog_error_is_below_one_step():
    """Regression: 6-bit inputs, 2-bit devices, 16 rows, 1 Ohm wires read within half a product step; rounding
    to the integer grid then costs more than 10 % of the raw analog error at every bit count, and bits_needed was
    None.  It is now measured against the finest ADC's decoded error: a nearly exact array needs about the rule
    (here one bit more: the sub-step error and the quantisation add before the rounding)."""
    r = adc_bits_needed(6, 2, 16, r_wire=1.0, vectors=512)
    assert 0 < r["analog_rms_error_steps"] < 1
    assert r["bits_needed"] is not None and abs(r["bits_needed"] - r["bits_rule"]) <= 2
    assert r["bits_needed_calibrated"] is not None


# --- matrices and files ----------------------------------------------------------------------------------------
def test_poisson_matrix():
    a = poisson_2d(4)
    assert a.shape == (16, 16) and np.allclose(a.diagonal(), 4) and np.allclose(a.sum(axis=1).A1[5], 0)
    with pytest.raises(ValueError, match="n must"):
        poisson_2d(1)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["diffusion", "graph", "cov", "kms", "spd", "p1"]))
def test_generated_matrices_are_spd(seed, kind):
    a = {
        "diffusion": lambda: diffusion_2d(6, seed=seed),
        "graph": lambda: graph_laplacian(40, seed=seed),
        "cov": lambda: sample_covariance(20, seed=seed),
        "kms": lambda: kms_covariance(20, rho=(seed % 19) / 20),
        "spd": lambda: random_spd(20, 10.0 ** (seed % 6), seed=seed),
        "p1": lambda: poisson_1d(5 + seed % 50),
    }[kind]()
    check_matrix(a, kind, spd=True)


def test_random_spd_has_the_condition_number_it_was_given():
    assert condition_number(random_spd(30, 1e4, seed=2)) == pytest.approx(1e4, rel=1e-6)


def test_matrix_files_round_trip(tmp_path):
    a = diffusion_2d(5, seed=1)
    sp.save_npz(tmp_path / "a.npz", a)
    np.save(tmp_path / "a.npy", a.toarray())
    np.savez(tmp_path / "d.npz", m=a.toarray())
    scipy.io.mmwrite(str(tmp_path / "a.mtx"), a)
    for name in ("a.npz", "a.npy", "d.npz", "a.mtx"):
        m = load_matrix(tmp_path / name, spd=True)
        dense = m.toarray() if sp.issparse(m) else m
        assert np.allclose(dense, a.toarray()), name
    assert sp.issparse(load_matrix(tmp_path / "a.npz")) and not sp.issparse(load_matrix(tmp_path / "a.npy"))
    np.save(tmp_path / "b.npy", np.arange(25.0))
    assert np.allclose(load_vector(tmp_path / "b.npy", 25), np.arange(25.0))
    with pytest.raises(ValueError, match="need 24 entries"):
        load_vector(tmp_path / "b.npy", 24)


def test_bad_matrix_files_are_named(tmp_path):
    np.save(tmp_path / "rect.npy", np.ones((3, 4)))
    np.save(tmp_path / "nan.npy", np.array([[1.0, np.nan], [0.0, 1.0]]))
    np.save(tmp_path / "nonsym.npy", np.array([[2.0, 1.0], [0.0, 2.0]]))
    np.save(tmp_path / "indef.npy", np.array([[1.0, 2.0], [2.0, 1.0]]))
    np.save(tmp_path / "cplx.npy", np.eye(2) * (1 + 1j))
    np.save(tmp_path / "zero.npy", np.zeros((2, 2)))
    np.savez(tmp_path / "two.npz", a=np.eye(2), b=np.eye(2))
    (tmp_path / "junk.mtx").write_text("not a matrix market file\n")
    (tmp_path / "a.csv").write_text("1,0\n0,1\n")
    cases = {
        "rect.npy": "square",
        "nan.npy": "NaN",
        "nonsym.npy": "not symmetric",
        "indef.npy": "not positive definite",
        "cplx.npy": "complex",
        "zero.npy": "all entries are zero",
        "two.npz": "holds 2 arrays",
        "junk.mtx": "cannot be read",
        "a.csv": "unknown suffix",
        "missing.npy": "no such file",
    }
    for name, message in cases.items():
        with pytest.raises(ValueError, match=message):
            load_matrix(tmp_path / name, spd=True)
    assert load_matrix(tmp_path / "nonsym.npy").shape == (2, 2)  # fine when SPD is not required


# --- analog array ----------------------------------------------------------------------------------------------
def test_ideal_array_is_exact_up_to_the_input_dac():
    a = poisson_2d(8)
    x = np.random.default_rng(0).standard_normal(64)
    arr = AnalogArray(a, ArrayConfig(tile_rows=8, tile_cols=8, variation=0.0, r_wire=0.0, input_bits=16))
    assert arr.representation_error() == 0  # an integer stencil lands on whole levels
    y = arr.matvec(x)
    assert np.max(np.abs(y - a @ x)) < 8 * np.max(np.abs(x)) / (2**15 - 1)
    assert arr.stats["mvms"] == 1
    scaled = AnalogArray(a / 4, ArrayConfig(tile_rows=8, tile_cols=8, variation=0.0, r_wire=0.0))
    assert scaled.representation_error() == 0  # entries on a common grid, also after a scaling


def test_non_idealities_show_up():
    a = poisson_2d(8)
    x = np.random.default_rng(0).standard_normal(64)
    wired = AnalogArray(a, ArrayConfig(tile_rows=8, tile_cols=8, variation=0.0, r_wire=5.0))
    assert wired.info["max_ir_error_levels"] > 0 and wired.representation_error() > 0  # IR drop from the solver
    noisy = AnalogArray(a, ArrayConfig(tile_rows=8, tile_cols=8, variation=0.3), seed=1, count_wrong_codes=True)
    noisy.matvec(x)
    assert noisy.stats["wrong_codes"] > 0  # large variation changes the ADC codes
    m = np.random.default_rng(1).uniform(-1, 1, (12, 10))  # non-integer matrix: conductance quantisation
    q = AnalogArray(m, ArrayConfig(tile_rows=6, tile_cols=6, device_bits=3, variation=0, r_wire=0, input_bits=16))
    err = np.max(np.abs(q.matvec(np.ones(10)) - m.sum(axis=1)))
    assert 1e-3 < err < 10 * 0.5 / 7 * 1.0


def test_each_array_is_read_through_the_exact_wire_solve():
    """The effective matrix of one programmed array equals solve_dc on that array (same random draws)."""
    from memspice.circuits.crossbar import Crossbar
    from memspice.solver import solve_dc

    cfg = ArrayConfig(tile_rows=6, tile_cols=6, variation=0.05, r_wire=5.0)
    a = poisson_2d(6)[:6, :6].toarray()
    arr = AnalogArray(a, cfg, seed=4)
    lev = np.round(a * 3).astype(int)  # 4 -> 12 levels, -1 -> -3
    gp = cfg.g_min + np.clip(lev, 0, None).T * cfg.g_step
    gn = cfg.g_min + np.clip(-lev, 0, None).T * cfg.g_step
    rng = np.random.default_rng(4)
    gp = gp * np.exp(cfg.variation * rng.standard_normal(gp.shape))
    gn = gn * np.exp(cfg.variation * rng.standard_normal(gn.shape))
    g = np.empty((6, 12))
    g[:, 0::2], g[:, 1::2] = gp, gn
    cur = solve_dc(Crossbar(g, r_word=5.0, r_bit=5.0), np.eye(6) * cfg.v_read).output_currents / cfg.v_read
    exact = (cur[:, 0::2] - cur[:, 1::2]).T / (cfg.g_step * 3)
    assert np.allclose(arr.effective_matrix().toarray(), exact, rtol=1e-7, atol=1e-9)  # solve_dc tolerance


def test_slices_cancel_the_measured_error():
    a = random_spd(40, 100.0, seed=3)
    errs = []
    arr = AnalogArray(a, ArrayConfig(tile_rows=20, tile_cols=20, variation=0.05, r_wire=1.0), seed=2)
    for _ in range(3):
        errs.append(arr.representation_error())
        arr.add_slice()
    assert errs[0] > 5 * errs[1] > 25 * errs[2] and arr.info["arrays"] == 16 and arr.slices == 4


def test_bad_array_config_is_named():
    with pytest.raises(ValueError, match="tile_rows"):
        ArrayConfig(tile_rows=0)
    with pytest.raises(ValueError, match="g_min"):
        ArrayConfig(g_min=2e-4)
    with pytest.raises(ValueError, match="x must"):
        AnalogArray(poisson_2d(3), ArrayConfig(tile_rows=3, tile_cols=3)).matvec(np.ones(4))


# --- refinement --------------------------------------------------------------------------------------------------
def test_inner_krylov_solves_with_exact_products():
    a = poisson_2d(6)
    r = np.random.default_rng(0).standard_normal(36)
    for solve in (inner_cg, inner_gmres):
        d, used = solve(lambda v: a @ v, r, 36)
        assert np.linalg.norm(a @ d - r) < 1e-8 * np.linalg.norm(r) and used <= 36
    d, used = inner_gmres(lambda v: a @ v, r, 36, tol=1e-2)
    assert np.linalg.norm(a @ d - r) <= 1.01e-2 * np.linalg.norm(r) and used < 36


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.05, 0.9))
def test_plain_refinement_contracts_by_the_inner_relative_error(seed, eta):
    """The theory: with an inner solve whose relative residual is eta < 1, each step multiplies the residual by
    exactly eta (x += d, no line search), down to 1e-10."""
    rng = np.random.default_rng(seed)
    a = random_spd(12, 10.0 ** rng.uniform(0, 4), seed=seed)
    b = rng.standard_normal(12)

    def solve(r):  # an inexact inner solve: residual r - A d = eta * (a rotation of r)
        q = np.linalg.qr(rng.standard_normal((12, 12)))[0]
        return np.linalg.solve(a, r - eta * q @ r)

    res = iterative_refinement(a, b, solve, tol=1e-10, max_outer=1000)
    early = np.asarray(res.residuals[:-1]) > 1e-6  # below, float64 rounding of r = b - A x (~ u kappa) shows
    assert res.converged and np.allclose(np.asarray(res.inner_errors)[early], eta, rtol=1e-6)
    assert np.allclose(res.inner_errors, eta, rtol=1e-2)
    assert res.iterations == pytest.approx(np.ceil(np.log(1e-10) / np.log(eta)), abs=1)


def test_plain_refinement_does_not_converge_when_the_inner_error_exceeds_one():
    a = random_spd(10, 10.0, seed=1)
    res = iterative_refinement(a, np.ones(10), lambda r: np.linalg.solve(a, r) * 2.5, max_outer=50)
    assert not res.converged and res.stop_reason in (StopReason.DIVERGED, StopReason.STALLED)
    assert np.allclose(res.inner_errors, 1.5)


def test_escalation_rejects_a_step_that_does_not_contract():
    a = random_spd(10, 10.0, seed=1)
    calls = {"n": 0}

    def bad_then_good(r):
        calls["n"] += 1
        return np.linalg.solve(a, r) * (3.0 if calls["n"] == 1 else 1.0)

    levels = []
    res = iterative_refinement(a, np.ones(10), bad_then_good, escalate=lambda: levels.append(1) or True)
    assert res.converged and res.residuals[1] == 1.0 and res.inner_errors[0] == pytest.approx(2.0)
    assert res.events[:2] == [(1, "rejected"), (1, "escalated")] and levels == [1]
    stuck = iterative_refinement(a, np.ones(10), lambda r: 3 * np.linalg.solve(a, r), escalate=lambda: False)
    assert stuck.stop_reason is StopReason.STALLED and stuck.iterations == 1 and stuck.final_residual == 1.0


HELD_OUT = {
    "poisson_1d": lambda s: poisson_1d(40 + s % 20),
    "poisson_2d": lambda s: poisson_2d(7 + s % 4),
    "diffusion": lambda s: diffusion_2d(8, contrast=50.0, seed=s),
    "graph": lambda s: graph_laplacian(80, seed=s),
    "covariance": lambda s: sample_covariance(40, seed=s),
    "kms": lambda s: kms_covariance(50, rho=0.8),
    "random_spd": lambda s: random_spd(40, 300.0, seed=s),
}


@pytest.mark.parametrize("kind", sorted(HELD_OUT))
def test_refinement_on_arrays_reaches_1e_10_on_held_out_matrices(kind):
    seed = 1234 + len(kind)  # not a seed the reproductions use
    a = HELD_OUT[kind](seed)
    b = np.random.default_rng(seed).standard_normal(a.shape[0])
    solver = AnalogSolver(a, ArrayConfig(tile_rows=32, tile_cols=32), seed=seed)
    res = iterative_refinement(a, b, solver, escalate=solver.escalate)
    assert res.converged and res.final_residual <= 1e-10 and res.iterations <= 60
    assert np.linalg.norm(b - a @ res.x) / np.linalg.norm(b) == pytest.approx(res.final_residual)
    taken = [e for k, e in zip(range(1, len(res.inner_errors) + 1), res.inner_errors)]
    assert all(e < 1 for e in taken[-3:])  # the converging steps contract


def test_refinement_fails_and_flexible_gmres_recovers_on_an_ill_conditioned_matrix():
    a = random_spd(48, 1e6, seed=5)
    b = np.random.default_rng(5).standard_normal(48)
    cfg = ArrayConfig(tile_rows=24, tile_cols=24, variation=0.05)
    solver = AnalogSolver(a, cfg, seed=1)
    res = iterative_refinement(a, b, solver, escalate=solver.escalate)
    assert not res.converged and solver.array.slices == solver.max_slices  # precision exhausted
    assert res.max_inner_error >= 1  # ... because the inner relative error reached one
    fg = flexible_gmres(a, b, solver)  # the same arrays, as refinement left them
    assert fg.converged and fg.final_residual <= 1e-10 and fg.iterations < 48


def test_line_search_is_off_by_default_and_still_available():
    a = random_spd(10, 10.0, seed=1)
    plain = iterative_refinement(a, np.ones(10), lambda r: np.linalg.solve(a, r) * 1.8, max_outer=30)
    searched = iterative_refinement(
        a, np.ones(10), lambda r: np.linalg.solve(a, r) * 1.8, max_outer=30, line_search=True
    )
    assert np.allclose(plain.inner_errors[:3], 0.8) and searched.iterations < 5


def test_refinement_checks_its_arguments():
    a = poisson_2d(3)
    with pytest.raises(ValueError, match="b must"):
        iterative_refinement(a, np.ones(4), lambda r: r)
    with pytest.raises(ValueError, match="steps"):
        KrylovSolve(lambda v: a @ v, steps=0)
    with pytest.raises(ValueError, match="inner method|gmres"):
        KrylovSolve(lambda v: a @ v, method="lu")
    with pytest.raises(ValueError, match="max_slices"):
        AnalogSolver(a, max_slices=0)


# --- reproductions (quick) -------------------------------------------------------------------------------------
def test_refine_reproduction_writes_its_headline(tmp_path):
    from memspice.systems.linalg import reproduce

    rep = reproduce.refine(quick=True)
    rep.save("refine", tmp_path)
    head = json.loads((tmp_path / "refine.json").read_text())
    assert head["unknowns"] == 256 and head["final_residual"] <= 1e-10 and head["converged"] is True
    assert head["baselines"]["float64_direct"]["final_residual"] < 1e-13
    assert head["baselines"]["no_refinement"]["final_residual"] > 1e-6  # one analog solve alone is far off
    for key in ("float_inner", "ideal_array", "fixed_precision", "flexible_gmres"):
        assert "final_residual" in head["baselines"][key]
    assert [r["variation"] for r in head["variation_sweep"]] == [0.0, 0.05, 0.10]
    assert head["covariance"]["converged"] is True and len(head["suite"]) >= 4
    assert all(r["converged"] for r in head["suite"])
    assert (tmp_path / "refine.png").stat().st_size > 0 and (tmp_path / "refine_failure_map.csv").exists()


def test_refine_takes_a_users_matrix_file(tmp_path):
    from memspice.reproduce import reproduce

    a = diffusion_2d(6, seed=9)
    scipy.io.mmwrite(str(tmp_path / "user.mtx"), a)
    np.save(tmp_path / "b.npy", np.linspace(-1, 1, 36))
    opts = parse_options("refine", ["--matrix", str(tmp_path / "user.mtx"), "--rhs", str(tmp_path / "b.npy")])
    rep = reproduce("refine", quick=True, **opts)
    h = rep.headline
    assert h["matrix"]["name"] == "user.mtx" and h["unknowns"] == 36 and h["converged"]
    x = np.linalg.solve(a.toarray(), np.linspace(-1, 1, 36))
    assert h["baselines"]["forward_error"] < 1e-8 and np.allclose(rep.table.iloc[0, 1], 1.0)
    np.save(tmp_path / "bad.npy", np.ones((3, 4)))
    with pytest.raises(ValueError, match="square"):
        reproduce("refine", quick=True, matrix=tmp_path / "bad.npy")
    np.save(tmp_path / "indef.npy", np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="not positive definite"):
        reproduce("refine", quick=True, matrix=tmp_path / "indef.npy", inner="cg")
    np.save(tmp_path / "sing.npy", np.array([[1.0, 1.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="singular"):
        reproduce("refine", quick=True, matrix=tmp_path / "sing.npy")
    with pytest.raises(ValueError, match="--rhs needs --matrix"):
        reproduce("refine", quick=True, rhs=tmp_path / "b.npy")
    assert x.shape == (36,)


def test_adc_reproduction_writes_its_headline(tmp_path):
    from memspice.systems.linalg import reproduce

    rep = reproduce.adc(quick=True)
    rep.save("adc", tmp_path)
    head = json.loads((tmp_path / "adc.json").read_text())
    assert head["lossless_at_rule"] is True and head["lossless_one_below"] is False and head["bits_rule"] == 14
    assert head["ideal_array_needs_rule"] is True
    d = head["bits_needed_default"]
    assert d["variation"] == 0.02 and d["r_wire_ohm"] == 1.0 and d["bits_needed"] < d["bits_rule"]


@needs_ngspice
def test_circuit_reproductions_write_their_headlines(tmp_path):
    from memspice.systems.linalg import reproduce

    reproduce.eigen(quick=True).save("eigen", tmp_path)
    head = json.loads((tmp_path / "eigen.json").read_text())
    assert head["circuit_vs_programmed"] < 1e-3 and head["baselines"]["ideal_devices"]["eigenvalue_error"] < 1e-3
    assert head["cosine"] > 0.99 and [r["variation"] for r in head["variation_sweep"]] == [0.0, 0.2]
    assert head["fails_at_variation"] == 0.2  # 20 % device spread: the eigenvalue is off by more than 1 %
    reproduce.solver_transient(quick=True).save("solver-transient", tmp_path)
    head = json.loads((tmp_path / "solver-transient.json").read_text())
    assert head["stable"] is True and head["settling_time_s"] > 0
    assert head["latched_example"]["latched"] is True and head["latched_example"]["stable"] is False
    assert head["latched_example"]["op_matches_textbook"] is True
    errs = reproduce.solver_gain(quick=True).headline["max_rel_error"]
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-4  # accuracy grows with op-amp gain


def test_eigen_refuses_a_nonsymmetric_matrix(tmp_path):
    from memspice.systems.linalg import reproduce

    np.save(tmp_path / "ns.npy", np.array([[2.0, 1.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="not symmetric"):
        reproduce.eigen(quick=True, matrix=tmp_path / "ns.npy")


@pytest.mark.slow
def test_full_refinement_5184_unknowns():
    from memspice.systems.linalg import AnalogSolver

    a, b = poisson_2d(72), gaussian_source(72)
    solver = AnalogSolver(a)
    res = iterative_refinement(a, b, solver, escalate=solver.escalate)
    assert res.converged and res.iterations <= 60


def test_refine_options_reach_the_run(tmp_path):
    from memspice.reproduce import reproduce

    np.save(tmp_path / "k.npy", kms_covariance(30, rho=0.7))
    words = ["--matrix", str(tmp_path / "k.npy"), "--variation", "0", "--r-wire", "0", "--max-slices", "2",
             "--inner", "cg", "--inner-steps", "20", "--tol", "1e-8", "--sweep", "false"]  # fmt: skip
    h = reproduce("refine", quick=True, **parse_options("refine", words)).headline
    assert h["inner_method"] == "cg" and h["inner_steps"] == 20 and h["final_residual"] <= 1e-8
    assert h["array"]["variation"] == 0 and h["array"]["r_wire_ohm"] == 0 and h["array"]["max_slices"] == 2
    assert h["slices"] <= 2 and h["variation_sweep"] == [] and "failure_map" not in h


def test_adc_options_reach_the_run():
    from memspice.systems.linalg import reproduce

    h = reproduce.adc(quick=True, b_in=2, b_d=3).headline
    assert h["b_in"] == 2 and h["b_d"] == 3 and h["bits_rule"] == adc_bits_rule(2, 3, 64)
    assert all(m["b_in"] == 2 and m["b_d"] == 3 for m in h["measured"])


@needs_ngspice
def test_eigen_takes_a_users_symmetric_matrix(tmp_path):
    from memspice.systems.linalg import reproduce

    a = np.array([[2.0, 0.6, -0.2], [0.6, 1.0, 0.1], [-0.2, 0.1, 0.5]])
    np.save(tmp_path / "s.npy", a)
    h = reproduce.eigen(quick=True, matrix=tmp_path / "s.npy", variation=0.0).headline
    assert h["matrix"] == "s.npy" and h["n"] == 3 and h["variation"] == 0.0
    assert abs(h["eigenvalue"] / np.linalg.eigvalsh(a)[-1] - 1) < 1e-3
