"""Analog linear algebra (memspice.systems.linalg): solver stability and transients, the eigenvector
circuit, the ADC resolution rule, the tiled non-ideal array and mixed-precision refinement."""

import json

import numpy as np
import pytest

from memspice.systems.linalg import (
    AnalogArray,
    ArrayConfig,
    adc_bits_rule,
    adc_rule_study,
    eigenvector_transient,
    inner_cg,
    iterative_refinement,
    poisson_2d,
    solver_dynamics,
    solver_transient,
)
from memspice.systems.linalg.adc_rule import min_lossless_bits
from memspice.systems.linalg.refinement import gaussian_source

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
    # the second eigenvector is not what it finds
    w, v = np.linalg.eigh(a)
    assert abs(res.vector @ v[:, -2]) < 0.1


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


# --- analog array and refinement -------------------------------------------------------------------------------
def test_poisson_matrix():
    a = poisson_2d(4)
    assert a.shape == (16, 16) and np.allclose(a.diagonal(), 4) and np.allclose(a.sum(axis=1).A1[5], 0)
    with pytest.raises(ValueError, match="n must"):
        poisson_2d(1)


def test_ideal_array_is_exact_up_to_the_input_dac():
    a = poisson_2d(8)
    x = np.random.default_rng(0).standard_normal(64)
    arr = AnalogArray(a, ArrayConfig(tile_rows=8, tile_cols=8, variation=0.0, r_wire=0.0, input_bits=16))
    assert arr.info["exact_levels"] and arr.info["levels_per_unit"] == 3.0
    y = arr.matvec(x)
    assert np.max(np.abs(y - a @ x)) < 8 * np.max(np.abs(x)) / (2**15 - 1)
    assert arr.stats["wrong_codes"] == 0 and arr.stats["mvms"] == 1


def test_non_idealities_show_up():
    a = poisson_2d(8)
    x = np.random.default_rng(0).standard_normal(64)
    wired = AnalogArray(a, ArrayConfig(tile_rows=8, tile_cols=8, variation=0.0, r_wire=5.0))
    assert wired.info["max_ir_error_levels"] > 0  # IR drop from the sparse solver
    noisy = AnalogArray(a, ArrayConfig(tile_rows=8, tile_cols=8, variation=0.3), seed=1)
    noisy.matvec(x)
    assert noisy.stats["wrong_codes"] > 0  # large variation beats the ADC rounding
    m = np.random.default_rng(1).uniform(-1, 1, (12, 10))  # non-integer matrix: conductance quantisation
    q = AnalogArray(m, ArrayConfig(tile_rows=6, tile_cols=6, device_bits=3, variation=0, r_wire=0, input_bits=16))
    err = np.max(np.abs(q.matvec(np.ones(10)) - m.sum(axis=1)))
    assert not q.info["exact_levels"] and 1e-3 < err < 10 * 0.5 / 7 * 1.0


def test_bad_array_config_is_named():
    with pytest.raises(ValueError, match="tile_rows"):
        ArrayConfig(tile_rows=0)
    with pytest.raises(ValueError, match="g_min"):
        ArrayConfig(g_min=2e-4)
    with pytest.raises(ValueError, match="x must"):
        AnalogArray(poisson_2d(3), ArrayConfig(tile_rows=3, tile_cols=3)).matvec(np.ones(4))


def test_inner_cg_solves_with_exact_products():
    a = poisson_2d(6)
    r = np.random.default_rng(0).standard_normal(36)
    d = inner_cg(lambda v: a @ v, r, 36)
    assert np.linalg.norm(a @ d - r) < 1e-8 * np.linalg.norm(r)


def test_refinement_on_analog_arrays_reaches_1e_10():
    n = 12
    a, b = poisson_2d(n), gaussian_source(n)
    arr = AnalogArray(a, ArrayConfig(tile_rows=n, tile_cols=n), seed=0)
    res = iterative_refinement(a, b, arr.matvec, tol=1e-10, inner_steps=20)
    assert res.final_residual <= 1e-10 and res.iterations <= 15
    assert np.linalg.norm(a @ res.x - b) / np.linalg.norm(b) == pytest.approx(res.final_residual)
    assert res.residuals[0] == 1.0 and len(res.residuals) == res.iterations + 1
    # one inner solve alone is far from 1e-10: the float64 outer loop is doing the work
    assert res.residuals[1] > 1e-4


def test_refinement_checks_its_arguments():
    a = poisson_2d(3)
    with pytest.raises(ValueError, match="b must"):
        iterative_refinement(a, np.ones(4), lambda v: a @ v)
    with pytest.raises(ValueError, match="inner_steps"):
        iterative_refinement(a, np.ones(9), lambda v: a @ v, inner_steps=0)


# --- reproductions (quick) -------------------------------------------------------------------------------------
def test_refine_and_adc_reproductions_write_their_headlines(tmp_path):
    from memspice.systems.linalg import reproduce

    rep = reproduce.refine(quick=True)
    rep.save("refine", tmp_path)
    head = json.loads((tmp_path / "refine.json").read_text())
    assert head["unknowns"] == 256 and head["final_residual"] <= 1e-10 and head["iterations"] >= 2
    assert (tmp_path / "refine.png").stat().st_size > 0
    rep = reproduce.adc(quick=True)
    rep.save("adc", tmp_path)
    head = json.loads((tmp_path / "adc.json").read_text())
    assert head["lossless_at_rule"] is True and head["lossless_one_below"] is False and head["bits_rule"] == 14


@needs_ngspice
def test_circuit_reproductions_write_their_headlines(tmp_path):
    from memspice.systems.linalg import reproduce

    reproduce.eigen(quick=True).save("eigen", tmp_path)
    assert json.loads((tmp_path / "eigen.json").read_text())["cosine"] >= 0.99
    reproduce.solver_transient(quick=True).save("solver-transient", tmp_path)
    head = json.loads((tmp_path / "solver-transient.json").read_text())
    assert head["stable"] is True and head["settling_time_s"] > 0
    assert head["latched_example"]["latched"] is True and head["latched_example"]["stable"] is False
    assert head["latched_example"]["op_matches_textbook"] is True
    errs = reproduce.solver_gain(quick=True).headline["max_rel_error"]
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-4  # accuracy grows with op-amp gain


@pytest.mark.slow
def test_full_refinement_5184_unknowns():
    from memspice.systems.linalg import reproduce

    head = reproduce.refine().headline
    assert head["unknowns"] >= 5000 and head["final_residual"] <= 1e-10 and head["iterations"] <= 48


def test_first_order_variation_matches_an_exact_wire_solve():
    """Each array's variation is added to the shared IR-drop transfer to first order; compare with solve_dc
    on the varied array itself (same random draws as the first tile)."""
    from memspice.circuits.crossbar import Crossbar
    from memspice.solver import solve_dc

    cfg = ArrayConfig(tile_rows=6, tile_cols=6, variation=0.05, r_wire=5.0)
    arr = AnalogArray(poisson_2d(6), cfg, seed=4)
    t = arr.tiles[0]
    lev = np.round(t.exact * arr.levels_per_unit).astype(int)
    gp = cfg.g_min + np.clip(lev, 0, None).T * arr.g_step
    gn = cfg.g_min + np.clip(-lev, 0, None).T * arr.g_step
    rng = np.random.default_rng(4)
    gp = gp * np.exp(cfg.variation * rng.standard_normal(gp.shape))
    gn = gn * np.exp(cfg.variation * rng.standard_normal(gn.shape))
    g = np.empty((6, 12))
    g[:, 0::2], g[:, 1::2] = gp, gn
    cur = solve_dc(Crossbar(g, r_word=5.0, r_bit=5.0), np.eye(6) * cfg.v_read).output_currents / cfg.v_read
    exact = (cur[:, 0::2] - cur[:, 1::2]).T / (arr.g_step * arr.levels_per_unit)
    ideal = lev / arr.levels_per_unit
    assert np.max(np.abs(exact - ideal)) > 0.01  # variation and IR drop matter ...
    assert np.max(np.abs(t.transfer - exact)) < 0.05 * np.max(np.abs(exact - ideal))  # ... the neglected term not
