"""Sparse solver vs ngspice on the same crossbar description."""

import numpy as np
import pytest

from memspice.circuits import PWL, pulse_train
from memspice.circuits.crossbar import Crossbar
from memspice.netlists import crossbar_netlist
from memspice.simulate import choose_backend, simulate_crossbar
from memspice.solver import NewtonError, simulate_transient, solve_dc

from .conftest import needs_ngspice, needs_osdi

DC_RTOL = 1e-6


def random_crossbar(n, cell="1R", seed=0, **wires):
    rng = np.random.default_rng(seed)
    g = rng.uniform(1e-6, 1e-4, (n, n))  # 10 kOhm .. 1 MOhm
    extra = {"v_gate": np.linspace(1.2, 1.8, n)} if cell == "1T1R" else {}
    return Crossbar(g, cell=cell, **wires, **extra), rng.uniform(0.0, 1.0, (2, n))


def rel_err(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


@needs_ngspice
@pytest.mark.parametrize("n", [16, 64])
@pytest.mark.parametrize("cell", ["1R", "1S1R", "1T1R", "tiox"])
def test_sparse_matches_ngspice_dc(n, cell):
    xbar, v = random_crossbar(n, "1R" if cell == "tiox" else cell, r_word=2.0, r_bit=3.0, r_source=10.0, r_sense=5.0)
    if cell == "tiox":
        xbar = Crossbar(
            state=np.random.default_rng(5).uniform(0, 1, (n, n)),
            cell="tiox",
            r_word=2.0,
            r_bit=3.0,
            r_source=10.0,
            r_sense=5.0,
        )
        v = v + 0.5
    if n == 64:
        v = v[:1]
    spice = simulate_crossbar(xbar, v, backend="ngspice")
    sparse = simulate_crossbar(xbar, v, backend="sparse")
    err = rel_err(sparse.output_currents, spice.output_currents)
    print(f"{n}x{n} {cell}: max relative output error {err:.2e}")
    assert err <= DC_RTOL
    assert rel_err(sparse.bit_line_voltages, spice.bit_line_voltages) <= DC_RTOL
    assert rel_err(sparse.device_currents, spice.device_currents) <= DC_RTOL


@needs_ngspice
def test_ideal_crossbar_in_ngspice_is_exact_mvm():
    xbar, v = random_crossbar(8)
    out = simulate_crossbar(xbar, v, backend="ngspice").output_currents
    assert rel_err(out, xbar.ideal_outputs(v)) <= 1e-9


def test_cg_and_direct_agree_and_many_vectors_at_once():
    xbar, _ = random_crossbar(150, r_word=1.0, r_bit=1.0)
    v = np.random.default_rng(3).uniform(0, 1, (5, 150))
    a = solve_dc(xbar, v, method="cg")
    b = solve_dc(xbar, v, method="direct")
    assert a.info["method"] == "cg" and a.info["iterations"] < 100
    assert rel_err(a.output_currents, b.output_currents) <= 1e-9
    assert a.output_currents.shape == (5, 150)
    assert a.device_currents.shape == a.word_line_voltages.shape == (5, 150, 150)
    one = solve_dc(xbar, v[2], method="direct").output_currents[0]
    np.testing.assert_allclose(b.output_currents[2], one, rtol=1e-10)


def test_mvm_error_grows_with_wire_resistance_and_size():
    errs_r = []
    for r in (0.1, 1.0, 5.0, 20.0):
        xbar, v = random_crossbar(32, r_word=r, r_bit=r)
        errs_r.append(rel_err(solve_dc(xbar, v).output_currents, xbar.ideal_outputs(v)))
    assert all(a < b for a, b in zip(errs_r, errs_r[1:]))
    errs_n = []
    for n in (8, 16, 32, 64):
        xbar, v = random_crossbar(n, r_word=2.0, r_bit=2.0)
        errs_n.append(rel_err(solve_dc(xbar, v).output_currents, xbar.ideal_outputs(v)))
    assert all(a < b for a, b in zip(errs_n, errs_n[1:]))


def test_1s1r_half_selected_cells_leak_far_less_than_1r():
    g = np.full((1, 1), 1e-4)
    v_full = 1.0
    i_1r = solve_dc(Crossbar(g, cell="1R"), [v_full / 2]).output_currents[0, 0]
    i_1s1r = solve_dc(Crossbar(g, cell="1S1R"), [v_full / 2]).output_currents[0, 0]
    assert i_1r >= 10 * i_1s1r


def test_backend_auto_reports_its_choice():
    small, _ = random_crossbar(8)
    large, _ = random_crossbar(80)
    assert choose_backend(large)[0] == "sparse"
    backend, reason = choose_backend(small)
    assert backend in ("ngspice", "sparse") and reason
    with pytest.raises(ValueError, match="backend"):
        choose_backend(small, "hspice")
    sol = simulate_crossbar(large, np.ones(80) * 0.1, face="veriloga", tol=1e-12)  # auto: sparse, face ignored
    assert sol.backend == "sparse" and "face" in sol.info["backend_reason"]
    with pytest.raises(TypeError, match="face"):
        simulate_crossbar(large, np.ones(80) * 0.1, backend="sparse", face="veriloga")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(conductances=np.array([[1e-4, -1e-5]])), "negative resistance"),
        (dict(conductances=np.array([[np.nan]])), "NaN"),
        (dict(conductances=np.ones((2, 2)), r_word=-1.0), "r_word"),
        (dict(conductances=np.ones((2, 2)), r_bit=np.nan), "r_bit"),
        (dict(conductances=np.ones((2, 2)), cell="2R"), "cell"),
    ],
)
def test_bad_crossbar_descriptions_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Crossbar(**kwargs)


def test_bad_inputs_and_too_large_arrays_are_named():
    xbar, _ = random_crossbar(4)
    with pytest.raises(ValueError, match="NaN"):
        solve_dc(xbar, [0.1, np.nan, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"\(p, m\) = \(vectors, word lines\) with m = 4"):
        solve_dc(xbar, [0.1, 0.2])
    with pytest.raises(ValueError, match="transpose it: inputs are vectors first"):
        solve_dc(xbar, np.ones((4, 3)))
    with pytest.raises(ValueError, match="max_devices"):
        solve_dc(xbar, np.ones(4), max_devices=8)
    with pytest.raises(ValueError, match="sparse solver"):
        crossbar_netlist(xbar, np.ones(4), max_devices=8)


def test_newton_failure_is_reported():
    xbar, v = random_crossbar(8, "1S1R", r_word=5.0, r_bit=5.0)
    with pytest.raises(NewtonError, match="did not converge"):
        solve_dc(xbar, v, max_newton=1)


@needs_ngspice
def test_transient_matches_ngspice():
    from memspice.spice import run

    rng = np.random.default_rng(1)
    m = n = 16
    xbar = Crossbar(state=rng.uniform(0.1, 0.9, (m, n)), r_word=2.0, r_bit=2.0, cell="memristor")
    sources = [
        pulse_train([1.0 if i % 2 else -1.0, 0.5], 0.05, 0.1) if i < 8 else PWL((0.0,), (0.0,)) for i in range(m)
    ]
    t_stop = 0.2
    sparse = simulate_transient(xbar, sources, t_stop, tol=1e-4)
    text = crossbar_netlist(
        xbar,
        [s.spice() for s in sources],
        transient=True,
        options=".options reltol=1e-5",
        analysis=f".tran {t_stop / 1000} {t_stop} 0 {t_stop / 500} uic",
    )
    w = run(text).waveforms
    for j in range(n):
        ref = np.interp(sparse.time, w.time, w[f"i(vsense{j})"])
        scale = np.max(np.abs(ref))
        if scale > 0:
            assert np.max(np.abs(sparse.output_currents[:, j] - ref)) / scale <= 1e-3
    x_spice = np.interp(sparse.time, w.time, w["v(xc3_4.u)"]) + xbar.state[3, 4]
    assert np.max(np.abs(sparse.states[:, 3, 4] - x_spice)) <= 1e-3
    assert np.ptp(sparse.states[:, 1, 0]) > 0.05  # the pulses really switch the devices


def test_backward_euler_and_trapezoidal_converge_to_each_other():
    rng = np.random.default_rng(2)
    xbar = Crossbar(state=rng.uniform(0.2, 0.8, (4, 4)), r_word=1.0, r_bit=1.0, cell="tiox")
    sources = [pulse_train([2.0, -2.0], 1e-6, 3e-6)] * 4
    a = simulate_transient(xbar, sources, 6e-6, method="trap", tol=1e-6)
    b = simulate_transient(xbar, sources, 6e-6, method="be", tol=1e-6)
    assert np.max(np.abs(a.states[-1] - b.states[-1])) < 1e-3
    assert np.max(np.abs(a.states[-1] - xbar.state)) > 1e-3


@pytest.mark.skipif(
    not __import__("memspice.solver.structured", fromlist=["x"]).applicable(
        Crossbar(np.ones((1, 1)), r_word=1.0, r_bit=1.0)
    ),
    reason="numba not installed",
)
@pytest.mark.parametrize("cell", ["1R", "1S1R", "tiox"])
def test_structured_matrix_free_path_matches_direct(cell):
    rng = np.random.default_rng(7)
    n = 40
    kw = dict(state=rng.uniform(0, 1, (n, n))) if cell == "tiox" else dict(conductances=rng.uniform(1e-6, 1e-4, (n, n)))
    xbar = Crossbar(r_word=1.0, r_bit=2.0, r_source=3.0, r_sense=4.0, cell=cell, **kw)
    v = rng.uniform(0.0, 1.0, (2, n))
    a = solve_dc(xbar, v, method="structured")
    b = solve_dc(xbar, v, method="direct")
    assert a.info["method"].endswith("structured cg")
    assert rel_err(a.output_currents, b.output_currents) <= 1e-9
    assert rel_err(a.bit_line_voltages, b.bit_line_voltages) <= 1e-9


def test_structured_method_refuses_lines_without_resistance():
    xbar, v = random_crossbar(4)
    with pytest.raises(ValueError, match="structured"):
        solve_dc(xbar, v, method="structured")
    with pytest.raises(ValueError, match="method"):
        solve_dc(xbar, v, method="magic")


@needs_ngspice
def test_transient_with_line_capacitance_matches_ngspice():
    from memspice.spice import run

    rng = np.random.default_rng(1)
    m = n = 8
    xbar = Crossbar(
        state=rng.uniform(0.1, 0.9, (m, n)),
        r_word=100.0,
        r_bit=100.0,
        r_sense=50.0,
        cell="tiox",
        c_word=1e-13,
        c_bit=2e-13,
    )
    sources = [
        pulse_train([2.0 if i % 2 else -2.0, 1.0], 1e-6, 3e-6, rise=2e-8) if i < 4 else PWL((0.0,), (0.0,))
        for i in range(m)
    ]
    t_stop = 6e-6
    sparse = simulate_transient(xbar, sources, t_stop, tol=2e-5)
    text = crossbar_netlist(
        xbar,
        [s.spice() for s in sources],
        transient=True,
        options=".options reltol=1e-6 trtol=1",
        analysis=f".tran {t_stop / 4000} {t_stop} 0 {t_stop / 4000} uic",
    )
    w = run(text).waveforms
    for j in range(n):
        ref = np.interp(sparse.time, w.time, w[f"i(vsense{j})"])
        assert np.max(np.abs(sparse.output_currents[:, j] - ref)) / np.max(np.abs(ref)) <= 1e-3
    # the capacitors matter: without them the outputs differ visibly at the edges
    import dataclasses

    no_cap = simulate_transient(dataclasses.replace(xbar, c_word=0.0, c_bit=0.0), sources, t_stop, tol=2e-5)
    ref0 = np.interp(no_cap.time, w.time, w["i(vsense0)"])
    assert np.max(np.abs(no_cap.output_currents[:, 0] - ref0)) / np.max(np.abs(ref0)) > 1e-2


def test_negative_capacitance_is_named():
    with pytest.raises(ValueError, match="c_bit"):
        Crossbar(np.ones((2, 2)), c_bit=-1e-12)


@needs_osdi
@pytest.mark.parametrize("cell", ["1S1R", "tiox"])
def test_verilog_a_crossbar_matches_behavioural_and_sparse(cell):
    rng = np.random.default_rng(9)
    if cell == "tiox":
        xbar = Crossbar(state=rng.uniform(0, 1, (8, 8)), cell="tiox", r_word=2.0, r_bit=2.0)
        v = rng.uniform(0.5, 1.5, 8)
    else:
        xbar, v = random_crossbar(8, cell, r_word=2.0, r_bit=2.0)
        v = v[0]
    va = simulate_crossbar(xbar, v, backend="ngspice", face="veriloga")
    beh = simulate_crossbar(xbar, v, backend="ngspice")
    sparse = simulate_crossbar(xbar, v, backend="sparse")
    assert rel_err(va.output_currents, beh.output_currents) <= 1e-6
    assert rel_err(sparse.output_currents, va.output_currents) <= 1e-6


@needs_ngspice
def test_mvm_error_grows_with_wire_resistance_and_size_in_ngspice():
    def err(n, r):
        xbar, v = random_crossbar(n, r_word=r, r_bit=r)
        out = simulate_crossbar(xbar, v[:1], backend="ngspice").output_currents
        return rel_err(out, xbar.ideal_outputs(v[:1]))

    by_r = [err(16, r) for r in (0.5, 2.0, 8.0)]
    by_n = [err(n, 2.0) for n in (8, 16, 32)]
    assert by_r[0] < by_r[1] < by_r[2]
    assert by_n[0] < by_n[1] < by_n[2]


def test_crossbar_repr_is_a_summary_and_line_ends_follow_one_rule():
    xbar = Crossbar(np.full((300, 200), 2e-5), r_word=1.5, r_bit=2.0, r_source=10.0, r_sense=3.0, cell="1s1r")
    text = repr(xbar)
    assert text.startswith("Crossbar(300x200 1S1R") and "G in [2e-05, 2e-05] S" in text and len(text) < 200
    assert xbar.r_first == 11.5 and xbar.r_last == 5.0
