"""Issue 9, solver correctness: zero and tiny inputs, one unknown, output accuracy on every shape,
Newton's stopping rule, 1T1R faces, transient error control, bad input, numba cache folder."""

import dataclasses
import os

import numpy as np
import pytest

from memspice.circuits import PWL, pulse_train
from memspice.circuits.crossbar import Crossbar
from memspice.solver import NewtonError, memory_estimate, simulate_transient, solve_dc, structured
from memspice.solver.dc import damped_newton

from .conftest import needs_ngspice

needs_numba = pytest.mark.skipif(not structured.AVAILABLE, reason="numba not installed: no structured path")


def per_column_error(a, b):
    """Largest relative error of any column's output current."""
    return float(np.max(np.abs(a - b) / np.abs(b)))


def make(cell, shape, seed=0, r=1.0, spread=(1e-6, 1e-4)):
    rng = np.random.default_rng(seed)
    if cell == "tiox":
        return Crossbar(state=rng.uniform(0, 1, shape), cell="tiox", r_word=r, r_bit=r)
    g = 10 ** rng.uniform(np.log10(spread[0]), np.log10(spread[1]), shape)
    return Crossbar(g, cell=cell, r_word=r, r_bit=r)


@needs_numba
@pytest.mark.parametrize("cell", ["1R", "1S1R", "tiox"])
def test_zero_tiny_and_zero_column_inputs_on_the_default_path(cell):
    xbar = make(cell, (100, 100))
    zero = solve_dc(xbar, np.zeros(100))
    assert zero.info["method"].endswith("structured cg")
    assert np.all(zero.output_currents == 0) and np.all(zero.device_currents == 0)
    tiny = solve_dc(xbar, np.full(100, 1e-300)).output_currents
    assert np.all(np.isfinite(tiny)) and np.all(tiny >= 0) and np.max(tiny) < 1e-300 * 100 * 1e-4
    if cell == "1R":  # linear: tiny inputs scale the outputs exactly
        ref = solve_dc(xbar, np.ones(100)).output_currents
        assert per_column_error(tiny / 1e-300, ref) <= 1e-10
    v = np.random.default_rng(1).uniform(0, 1, (3, 100))
    v[1] = 0.0
    batch = solve_dc(xbar, v)
    assert np.all(batch.output_currents[1] == 0)
    single = solve_dc(xbar, v[2]).output_currents[0]
    np.testing.assert_allclose(batch.output_currents[2], single, rtol=1e-12)


@pytest.mark.parametrize("method", ["cg", "direct", "auto"])
def test_network_of_one_unknown(method):
    # one word-line node behind r_word; the bit line is tied to the virtual ground
    xbar = Crossbar(np.array([[1e-3]]), r_word=10.0)
    out = solve_dc(xbar, [0.5], method=method).output_currents[0, 0]
    assert out == pytest.approx(0.5 / (10.0 + 1e3), rel=1e-12)
    assert solve_dc(xbar, [0.0], method=method).output_currents[0, 0] == 0.0


@needs_numba
@pytest.mark.parametrize(
    "shape, r, spread",
    [
        ((2048, 16), 1.0, (1e-6, 1e-4)),  # tall: 4.6e-8 before the output-current stopping rule
        ((16, 2048), 1.0, (1e-6, 1e-4)),  # wide: 6.4e-8 before
        ((128, 128), 10.0, (1e-6, 1e-4)),
        ((96, 160), 100.0, (1e-7, 1e-3)),
    ],
)
def test_structured_output_currents_within_1e_10_of_the_exact_solution(shape, r, spread):
    xbar = make("1R", shape, seed=3, r=r, spread=spread)
    v = np.random.default_rng(4).uniform(0, 1, (2, shape[0]))
    a = solve_dc(xbar, v, method="structured")
    b = solve_dc(xbar, v, method="direct")
    assert per_column_error(a.output_currents, b.output_currents) <= 1e-10
    assert per_column_error(a.device_currents.sum(axis=1), b.output_currents) <= 1e-9


@pytest.mark.slow
@needs_numba
def test_structured_output_currents_512x512():
    xbar = make("1R", (512, 512), seed=3)
    v = np.random.default_rng(4).uniform(0, 1, 512)
    err = per_column_error(
        solve_dc(xbar, v, method="structured").output_currents, solve_dc(xbar, v, method="direct").output_currents
    )
    assert err <= 1e-10


def test_newton_stopping_rule_is_reachable_with_an_inexact_inner_solver():
    """The inner solve answers within 2e-12 V (like CG at its tolerance): Newton must still converge.

    The old rule (an update below 1e-12 V) never did: "last update 2e-12 V"."""
    target = np.linspace(0.1, 0.9, 50)
    noise = np.random.default_rng(0).uniform(-2e-12, 2e-12, (100, 50))
    calls = iter(range(100))

    def step(V, inner, final):
        assert inner >= 1e-10  # the inner accuracy asked for is never finer than the rule can use
        return (target - V) * 0.5**0 + noise[next(calls)]

    V, its = damped_newton(step, np.zeros(50), 1.0, 50, "test", "")
    assert np.max(np.abs(V - target)) < 1e-9 and its < 20
    with pytest.raises(NewtonError, match="last update"):
        damped_newton(lambda V, inner, final: np.ones(50), np.zeros(50), 1.0, 5, "test", "hint")


@pytest.mark.slow
@needs_numba
@pytest.mark.parametrize("cell, n", [("1S1R", 512), ("1S1R", 1024), ("tiox", 1024)])
def test_newton_converges_on_large_nonlinear_arrays(cell, n):
    xbar = make(cell, (n, n))
    v = np.random.default_rng(1).uniform(0, 1, n)
    sol = solve_dc(xbar, v)
    assert sol.info["method"] == "newton + structured cg"
    assert max(sol.info["newton_iterations"]) <= 30
    i, g = xbar.cell.current((sol.word_line_voltages - sol.bit_line_voltages).ravel(), xbar.cell_arrays())
    np.testing.assert_allclose(sol.device_currents.ravel(), i)


@needs_ngspice
def test_1t1r_faces_agree_at_negative_word_line_voltage_and_report_ngspice_currents():
    from memspice.simulate import simulate_crossbar

    rng = np.random.default_rng(2)
    xbar = Crossbar(rng.uniform(1e-5, 1e-4, (4, 4)), cell="1T1R", r_word=1.0, r_bit=1.0)
    v = np.full(4, -0.7)  # forward-biases the default level-1 drain junction: 7.5% apart before
    spice = simulate_crossbar(xbar, v, backend="ngspice")
    sparse = simulate_crossbar(xbar, v, backend="sparse")
    assert spice.info["device_currents"] == "ngspice device currents"
    err = np.max(np.abs(spice.output_currents - sparse.output_currents)) / np.max(np.abs(spice.output_currents))
    assert err <= 1e-6
    np.testing.assert_allclose(spice.device_currents, sparse.device_currents, rtol=1e-5)
    assert np.all(spice.output_currents < 0)


def test_backward_euler_controls_node_voltage_error_with_line_capacitance():
    """Sub-threshold read (states do not move), so only the capacitor voltages need small steps: the old
    backward Euler ignored them (the same 12 steps for any tol); now the steps and the error follow tol."""
    rng = np.random.default_rng(1)
    xbar = Crossbar(
        state=rng.uniform(0.1, 0.9, (2, 2)),
        r_word=1e3,
        r_bit=1e3,
        r_sense=500.0,
        cell="tiox",
        c_word=1e-12,
        c_bit=2e-12,
    )
    sources = [pulse_train([0.8, 0.4], 1e-8, 2e-8, rise=2e-9) for _ in range(2)]
    t_stop = 2e-8
    runs = {
        tol: simulate_transient(xbar, sources, t_stop, method="be", tol=tol, max_step=t_stop / 4)
        for tol in (3e-2, 3e-3, 3e-4)
    }
    ref = runs[3e-4]

    def error(run):
        ref_i = np.array([np.interp(run.time, ref.time, ref.output_currents[:, j]) for j in range(2)]).T
        return np.max(np.abs(run.output_currents - ref_i)) / np.max(np.abs(ref_i))

    assert len(runs[3e-3].time) > 2 * len(runs[3e-2].time)
    assert error(runs[3e-3]) < error(runs[3e-2]) / 3


@pytest.mark.parametrize(
    "make_bad, match",
    [
        (lambda: Crossbar(np.array([[1e-4 + 1e-6j]])), "conductances must be real"),
        (lambda: Crossbar(state=np.array([[0.5 + 0j]]), cell="tiox"), "state must be real"),
        (lambda: solve_dc(Crossbar(np.ones((2, 2)) * 1e-4), np.array([0.1, 0.2 + 0.1j])), "voltages must be real"),
        (lambda: Crossbar(np.ones((2, 2)), r_word=1 + 1j), "r_word must be real"),
        (lambda: Crossbar(np.ones((2, 2)), bit_bias=np.array([0.1j, 0])), "bit_bias must be real"),
    ],
)
def test_complex_values_are_refused(make_bad, match):
    with pytest.raises(ValueError, match=match):
        make_bad()


def test_arrays_too_large_for_memory_are_refused_before_allocation():
    xbar = make("1R", (64, 64))
    one, many = memory_estimate(xbar, 1, "sparse"), memory_estimate(xbar, 1000, "sparse")
    assert many - one == 999 * 24 * 64 * 64  # results grow with cells x vectors (three float64 arrays)
    with pytest.raises(ValueError, match=r"1000 input vector\(s\) needs about .* GB .* max_memory"):
        solve_dc(xbar, np.zeros((1000, 64)), max_memory=many / 2)
    # a full-size request that cannot fit any machine is refused from the estimate, not by MemoryError
    big = Crossbar(np.full((1024, 1024), 1e-5), r_word=1.0, r_bit=1.0)
    inputs = np.broadcast_to(np.float64(0.1), (1_000_000, 1024))  # 1e6 vectors: ~25 TB of results
    with pytest.raises(ValueError, match="1000000 input vector"):
        solve_dc(big, inputs)
    assert solve_dc(xbar, np.zeros(64), max_memory=one * 2).output_currents.shape == (1, 64)


def test_numba_cache_falls_back_to_a_user_folder_when_the_package_folder_is_read_only(tmp_path, monkeypatch):
    from memspice.solver import numba_cache

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    read_only = blocker / "__pycache__"  # cannot be created, even by root
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.delenv("MEMSPICE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert not numba_cache.writable(read_only)
    chosen = numba_cache.configure(read_only)
    assert chosen is not None and chosen.is_dir() and chosen.parts[-2:] == ("memspice", "numba")
    assert os.environ["NUMBA_CACHE_DIR"] == str(chosen)
    import numba.core.config

    assert numba.core.config.CACHE_DIR == str(chosen)
    # a writable package folder, or the user's own setting, is left alone
    monkeypatch.setenv("NUMBA_CACHE_DIR", "/somewhere/else")
    assert numba_cache.configure(read_only) is None
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    assert numba_cache.configure(tmp_path / "ok") is None
    monkeypatch.setattr(numba.core.config, "CACHE_DIR", "", raising=False)


# ---------------------------------------------------------------------------------------------------
# cross-check of every solver method on random arrays


def _cases():
    rng = np.random.default_rng(11)
    cases = []
    for shape, r in (((1, 1), 10.0), ((30, 8), 10.0), ((8, 30), 100.0), ((24, 24), 50.0), ((120, 90), 20.0)):
        g = 10 ** rng.uniform(-7, -3, shape)  # 1e-7 .. 1e-3 S
        v = rng.uniform(0, 1, (3, shape[0]))
        v[0] = 0.0  # a zero input vector in every batch
        cases.append(pytest.param(Crossbar(g, r_word=r, r_bit=0.5 * r, r_sense=r), v, id=f"{shape[0]}x{shape[1]}"))
    # a single unknown: the only word-line node, bit line tied to the sense node
    cases.append(pytest.param(Crossbar(np.array([[3e-4]]), r_word=20.0), np.array([[0.0], [0.7]]), id="one-unknown"))
    return cases


@pytest.mark.parametrize("xbar, v", _cases())
def test_every_solver_method_agrees(xbar, v):
    ref = solve_dc(xbar, v, method="direct")
    assert np.all(ref.output_currents[0] == 0) or np.all(v[0] != 0)
    methods = ["cg"] + (["structured"] if structured.applicable(xbar) else [])
    for method in methods:
        sol = solve_dc(xbar, v, method=method)
        scale = np.max(np.abs(ref.output_currents))
        assert np.max(np.abs(sol.output_currents - ref.output_currents)) <= 1e-10 * scale, method
        nz = np.abs(ref.output_currents) > 1e-3 * scale
        assert np.all(
            np.abs(sol.output_currents - ref.output_currents)[nz] <= 1e-9 * np.abs(ref.output_currents)[nz]
        ), method
    from memspice.spice.capabilities import ngspice_info

    if ngspice_info().executable is not None and xbar.m * xbar.n <= 32 * 32:
        from memspice.simulate import simulate_crossbar

        spice = simulate_crossbar(xbar, v, backend="ngspice")
        np.testing.assert_allclose(
            spice.output_currents, ref.output_currents, rtol=1e-7, atol=1e-9 * np.max(np.abs(ref.output_currents))
        )


def test_one_kind_of_newton_serves_nonlinear_cells_on_every_path():
    rng = np.random.default_rng(5)
    base = Crossbar(rng.uniform(1e-6, 1e-4, (20, 12)), cell="1S1R", r_word=5.0, r_bit=5.0)
    v = rng.uniform(0, 1, (2, 20))
    v[1] = 0.0
    ref = solve_dc(base, v, method="direct")
    for method in ("cg", "structured") if structured.AVAILABLE else ("cg",):
        sol = solve_dc(base, v, method=method)
        np.testing.assert_allclose(sol.output_currents[0], ref.output_currents[0], rtol=1e-9)
        assert np.all(sol.output_currents[1] == 0)
    assert "newton" in ref.info["method"]
    # biased bit lines too
    biased = dataclasses.replace(base, bit_bias=0.3)
    a, b = solve_dc(biased, v, method="direct"), solve_dc(biased, v, method="cg")
    np.testing.assert_allclose(a.output_currents, b.output_currents, rtol=1e-9)


def test_time_sources_still_accepted_by_transient():
    xbar = Crossbar(state=np.full((2, 2), 0.5), cell="memristor", r_word=1.0, r_bit=1.0)
    tr = simulate_transient(xbar, [PWL((0.0, 1e-3), (0.0, 0.5))] * 2, 1e-3)
    assert tr.states.shape[1:] == (2, 2) and np.all(np.isfinite(tr.output_currents))


@needs_numba
@pytest.mark.parametrize("cell", ["1R", "1S1R", "tiox"])
def test_structured_path_with_biased_bit_lines(cell):
    """Bit-line biases (write schemes): output currents stay within 1e-10 of the direct solve per column
    (through the sense link they would lose digits to the bias: 1.8e-10 for TiOx)."""
    rng = np.random.default_rng(0)
    kw = (
        dict(state=rng.uniform(0, 1, (30, 20)))
        if cell == "tiox"
        else dict(conductances=rng.uniform(1e-6, 1e-4, (30, 20)))
    )
    xbar = Crossbar(cell=cell, r_word=2, r_bit=3, r_source=5, r_sense=4, bit_bias=rng.uniform(0, 0.5, 20), **kw)
    v = rng.uniform(0, 1, (2, 30))
    a, b = solve_dc(xbar, v, method="structured"), solve_dc(xbar, v, method="direct")
    assert per_column_error(a.output_currents, b.output_currents) <= 1e-10
