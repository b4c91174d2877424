"""Issue 21, fast by default: lazy crossbar results, results that keep their inputs, per-kind read voltages,
the 1S1R read warning, the compiled DC cell kernels and the read-latency backends."""

import pickle
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import memspice as ms
from memspice.analysis.metrics import ir_drop_map
from memspice.analysis.read_cost import read_energy, read_latency
from memspice.circuits.cells import CellArrays, DesignWarning, SelectorResistor, TransistorResistor, make_cell
from memspice.circuits.crossbar import Crossbar
from memspice.circuits.weights import G_MAX, G_MIN
from memspice.simulate import read_outputs, simulate_crossbar
from memspice.solver import memory, reads, solve_dc, structured, transfer
from memspice.solver.dc_cells import CompiledModel, CompiledSeries, NumpyCells, dc_cells
from memspice.solver.solution import CrossbarSolution, PerCellMemoryError, SolveInfo

from .conftest import needs_ngspice

needs_numba = pytest.mark.skipif(not structured.AVAILABLE, reason="numba not installed: no compiled kernels")
QUIET = warnings.catch_warnings  # the DesignWarning of reads below a 1S1R's turn-on is not under test here


def crossbar(cell, m, n, seed=0, r=1.0):
    rng = np.random.default_rng(seed)
    if make_cell(cell).data == "state":
        return Crossbar(state=rng.uniform(0, 1, (m, n)), cell=cell, r_word=r, r_bit=r)
    return Crossbar(rng.uniform(1e-6, 1e-4, (m, n)), cell=cell, r_word=r, r_bit=r)


def inputs(xbar, p, seed=1):
    return np.random.default_rng(seed).uniform(0, xbar.cell.read_voltage, (p, xbar.m))


# -- lazy results: the same numbers as the eager path --------------------------------------------------
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cell=st.sampled_from(["1R", "1S1R", "tiox"]),
    m=st.integers(1, 9),
    n=st.integers(1, 9),
    p=st.integers(1, 12),
    r=st.sampled_from([0.0, 0.5, 3.0]),
    blocked=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_lazy_results_equal_the_eager_solve(cell, m, n, p, r, blocked, seed):
    """Whatever path computes the outputs (transfer matrix, one solve, blocks), the per-cell arrays and
    outputs equal solve_dc's."""
    xbar = crossbar(cell, m, n, seed, r)
    v = inputs(xbar, p, seed + 1)
    with QUIET(), pytest.MonkeyPatch.context() as patch:
        warnings.simplefilter("ignore", DesignWarning)
        if blocked:  # force the blocked path: per-cell arrays never fit in one block
            patch.setattr(reads, "BLOCK_BYTES", 1)
        lazy = simulate_crossbar(xbar, v, backend="sparse")
    eager = solve_dc(xbar, v)
    scale = max(float(np.max(np.abs(eager.output_currents))), 1e-300)
    np.testing.assert_allclose(lazy.output_currents, eager.output_currents, rtol=1e-8, atol=1e-9 * scale)
    k = int(seed % p)
    one = lazy.vector(k)
    assert one.vectors == 1 and one.xbar is xbar
    np.testing.assert_allclose(one.device_currents[0], eager.device_currents[k], rtol=1e-9, atol=1e-12 * scale)
    np.testing.assert_allclose(lazy.cell_voltages_of(k), eager.cell_voltages[k], rtol=1e-9, atol=1e-12)
    for name in ("device_currents", "word_line_voltages", "bit_line_voltages"):
        np.testing.assert_allclose(getattr(lazy, name), getattr(eager, name), rtol=1e-9, atol=1e-12 * max(scale, 1))
    assert lazy.per_cell_computed and lazy.voltages.shape == (p, m)


@pytest.mark.parametrize("cell", ["1R", "1S1R"])
def test_outputs_come_first_and_per_cell_arrays_on_first_access(cell, monkeypatch):
    xbar = crossbar(cell, 24, 20)
    v = inputs(xbar, 300)
    monkeypatch.setattr(reads, "BLOCK_BYTES", 24 * 24 * 20 * 50)  # 50 vectors per block: not all at once
    sol = simulate_crossbar(xbar, v, backend="sparse")
    assert not sol.per_cell_computed
    assert ("transfer matrix" if cell == "1R" else "block") in sol.info.outputs
    calls = []
    original = sol._per_cell
    sol._per_cell = lambda vv: calls.append(len(vv)) or original(vv)
    sol.device_currents_of(7)
    sol.cell_voltages_of(7)  # the same vector again: kept, not solved twice
    assert calls == [1] and not sol.per_cell_computed
    assert sol.device_currents.shape == (300, 24, 20) and calls == [1, 300] and sol.per_cell_computed
    np.testing.assert_allclose(sol.device_currents.sum(axis=1), sol.output_currents, rtol=1e-8)


def test_per_cell_arrays_that_do_not_fit_are_refused_with_the_size_and_the_per_vector_way():
    xbar = crossbar("1R", 64, 64)
    v = inputs(xbar, 2000)
    sol = simulate_crossbar(xbar, v, backend="sparse", max_memory=50e6)  # outputs fit, 3 x (2000, 64, 64) not
    assert sol.output_currents.shape == (2000, 64)
    with pytest.raises(PerCellMemoryError, match=r"2000 input vectors .* need about 19\d MB .*vector\(k\)"):
        _ = sol.device_currents
    assert isinstance(PerCellMemoryError("x"), MemoryError)
    np.testing.assert_allclose(sol.device_currents_of(1999).sum(axis=0), sol.output_currents[1999], rtol=1e-8)


def test_outputs_that_do_not_fit_are_refused():
    xbar = crossbar("1R", 8, 8)
    with pytest.raises(ValueError, match="output currents of 1000 input vectors need about"):
        simulate_crossbar(xbar, inputs(xbar, 1000), backend="sparse", max_memory=1000)


def test_memspice_read_handles_batches_whose_per_cell_arrays_would_not_fit(monkeypatch):
    """read_outputs (what `memspice read` writes) never forms per-cell arrays: with 40 MB 'available', 1S1R
    64x64 x 300 vectors (per-cell arrays 29 MB, solver blocks) and 1R 128x128 x 2000 (786 MB) both read."""
    monkeypatch.setattr(memory, "available_memory", lambda: 40_000_000)
    x1 = Crossbar(np.random.default_rng(0).uniform(G_MIN, G_MAX, (64, 64)), cell="1S1R", r_word=1.0, r_bit=1.0)
    v1 = inputs(x1, 300)
    out, backend, reason = read_outputs(x1, v1, backend="sparse")
    assert backend == "sparse" and out.shape == (300, 64)
    np.testing.assert_allclose(out, transfer.read_blocked(x1, v1, block=50), rtol=1e-9)
    x2 = crossbar("1R", 128, 128)
    v2 = inputs(x2, 2000)
    out2, _, _ = read_outputs(x2, v2, backend="sparse")
    np.testing.assert_allclose(out2[:5], solve_dc(x2, v2[:5]).output_currents, rtol=1e-8)


def test_cli_read_no_longer_refuses_large_batches(tmp_path, monkeypatch, capsys):
    from memspice.cli import main

    monkeypatch.setattr(memory, "available_memory", lambda: 100_000_000)
    rng = np.random.default_rng(0)
    np.save(tmp_path / "w.npy", rng.uniform(0, 1, (96, 96)))
    np.save(tmp_path / "x.npy", rng.uniform(0, 0.2, (3000, 96)))  # per-cell arrays: 663 MB
    args = ["read", "--weights", str(tmp_path / "w.npy"), "--inputs", str(tmp_path / "x.npy")]
    assert main(args + ["-o", str(tmp_path / "o.csv"), "--backend", "sparse"]) == 0
    assert "3000 vector(s)" in capsys.readouterr().out


# -- results that keep their inputs ---------------------------------------------------------------------
def test_solutions_keep_crossbar_and_voltages_and_analyses_use_them():
    xbar = Crossbar(np.random.default_rng(2).uniform(1e-6, 1e-4, (8, 6)), r_word=5.0, r_bit=5.0, bit_bias=0.05)
    v = inputs(xbar, 3)
    for sol in (solve_dc(xbar, v), simulate_crossbar(xbar, v, backend="sparse")):
        assert sol.xbar is xbar and np.array_equal(sol.voltages, v)
        drop = ir_drop_map(sol, 2)
        ideal = v[2][:, None] - xbar.bit_voltages[None, :]
        np.testing.assert_allclose(drop, ideal - sol.cell_voltages[2], atol=1e-15)
        cost = read_energy(sol, 10e-9, k=1)
        assert cost.t_read_s == 10e-9 and cost.cells_J > 0


def test_the_old_signatures_still_work_with_a_future_warning():
    xbar = Crossbar(np.random.default_rng(0).uniform(1e-6, 1e-4, (8, 6)), r_word=5.0, r_bit=5.0, r_source=10.0)
    v = inputs(xbar, 2)
    sol = simulate_crossbar(xbar, v, backend="sparse")
    with pytest.warns(FutureWarning, match="read_energy"):
        old = read_energy(xbar, sol, v, t_read=10e-9, k=1)
    with pytest.warns(FutureWarning, match="read_energy"):
        positional = read_energy(xbar, sol, v, 10e-9, 1)
    assert old == positional == read_energy(sol, t_read=10e-9, k=1)
    with pytest.warns(FutureWarning, match="ir_drop_map"):
        drop = ir_drop_map(sol, v)
    with pytest.warns(FutureWarning, match="ir_drop_map"):
        drop1 = ir_drop_map(sol, v, 1)
    np.testing.assert_array_equal(drop, ir_drop_map(sol))
    np.testing.assert_array_equal(drop1, ir_drop_map(sol, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new forms warn nothing
        read_energy(sol, 10e-9)
        ir_drop_map(sol, k=1)


def test_solve_info_is_typed_and_reads_like_the_old_dict():
    sol = solve_dc(crossbar("1S1R", 40, 40), np.full(40, 2.0), method="structured")
    info = sol.info
    assert isinstance(info, SolveInfo) and info.method == info["method"] == "newton + structured cg"
    assert info.get("newton_iterations") == info.newton_iterations and len(info.newton_iterations) == 1
    assert "newton_iterations" in info and "mode" not in info and info.get("mode", "-") == "-"
    info["solver_note"] = "kept"
    assert info.extra == {"solver_note": "kept"} and info.as_dict()["solver_note"] == "kept"
    legacy = SolveInfo.from_dict({"method": "cg", "iterations": 3, "custom": 1})
    assert legacy.method == "cg" and legacy.iterations == 3 and legacy["custom"] == 1
    with pytest.raises(KeyError):
        _ = info["nothing"]


def test_repr_is_a_readable_table():
    xbar = crossbar("1R", 128, 128)
    sol = simulate_crossbar(xbar, inputs(xbar, 1000))
    text = repr(sol)
    lines = text.splitlines()
    assert lines[0] == "CrossbarSolution: 1000 input vectors on a 128x128 1R crossbar (sparse)"
    assert "output currents" in text and "(1000, 128) A" in text and "transfer matrix" in text
    assert "on first access: 3 x (1000, 128, 128), 393 MB" in text and "393 kB" in text
    assert "backend" in text and "sparse solver used" in text
    assert len(text) < 1000 and "array(" not in text  # a summary, not the numbers
    one = repr(sol.vector(0))
    assert "1 input vector on" in one and "computed: 3 x (1, 128, 128)" in one and "solver" in one


def test_lazy_solutions_pickle():
    xbar = crossbar("1R", 16, 16)
    sol = simulate_crossbar(xbar, inputs(xbar, 500), backend="sparse")
    back = pickle.loads(pickle.dumps(sol))
    np.testing.assert_array_equal(back.output_currents, sol.output_currents)
    np.testing.assert_allclose(back.device_currents_of(3), sol.device_currents_of(3))


def test_vector_index_is_checked():
    sol = solve_dc(crossbar("1R", 4, 4), np.ones((3, 4)))
    assert sol.vector(-1).output_currents[0].tolist() == sol.output_currents[2].tolist()
    with pytest.raises(IndexError, match="outside this solution's 3 input vector"):
        sol.vector(3)
    with pytest.raises(TypeError, match="integer"):
        sol.vector(1.5)


# -- ngspice: outputs from one run, per-cell arrays from a second ----------------------------------------
@needs_ngspice
def test_ngspice_results_are_lazy_too_and_agree_with_the_sparse_solver():
    xbar = crossbar("1R", 6, 5, r=2.0)
    v = inputs(xbar, 4)
    spice = simulate_crossbar(xbar, v, backend="ngspice")
    assert not spice.per_cell_computed and "saving the output currents only" in spice.info.outputs
    assert spice.info["device_currents"] == "ngspice device currents"
    sparse = solve_dc(xbar, v)
    np.testing.assert_allclose(spice.output_currents, sparse.output_currents, rtol=1e-9)
    np.testing.assert_allclose(spice.device_currents_of(2), sparse.device_currents[2], rtol=1e-9, atol=1e-18)
    np.testing.assert_allclose(spice.word_line_voltages, sparse.word_line_voltages, rtol=1e-9, atol=1e-15)
    assert spice.per_cell_computed


# -- defaults: per-kind read voltages, the 1S1R warning, sized 1T1R cells -----------------------------------
def test_every_cell_kind_has_a_read_voltage_that_reads_without_a_design_warning():
    assert make_cell("1R").read_voltage == make_cell("1T1R").read_voltage == 0.2
    assert make_cell("tiox").read_voltage == 1.0  # the TiOx model's own v_read
    assert 1.5 < make_cell("1S1R").read_voltage < 3.0
    g = np.random.default_rng(3).uniform(G_MIN, G_MAX, (12, 12))
    for kind in ("1R", "1S1R", "1T1R"):
        cell = TransistorResistor.sized_for(G_MAX, 1.5) if kind == "1T1R" else kind
        with warnings.catch_warnings():
            warnings.simplefilter("error", DesignWarning)
            xbar = Crossbar(g, cell=cell, r_word=1.0, r_bit=1.0)
            simulate_crossbar(xbar, np.full(12, xbar.cell.read_voltage), backend="sparse")


def test_1s1r_read_below_its_turn_on_warns_with_the_numbers():
    xbar = Crossbar(np.full((8, 8), 1e-4), cell="1S1R", r_word=1.0, r_bit=1.0)
    with pytest.warns(DesignWarning, match=r"1S1R: .* 0\.2 V, the selector takes 99\.9\d*% .* read at 2\.1 V") as rec:
        sol = simulate_crossbar(xbar, np.full(8, 0.2), backend="sparse")
    assert rec[0].filename == __file__  # points at the caller's line
    assert np.max(sol.output_currents) < 1e-3 * 8 * 1e-4 * 0.2  # it is indeed ~0 A


def test_1s1r_read_loss_and_read_voltage_follow_the_selector():
    cell = SelectorResistor()
    loss = cell.read_loss([0.2, 1.0, cell.read_voltage, 5.0], cell.g_ref)
    assert np.all(np.diff(loss) < 0) and loss[0] > 0.99 and loss[2] <= cell.read_loss_target < cell.max_loss < loss[1]
    weaker = SelectorResistor(selector=ms.Selector(v0=0.12))
    assert weaker.read_voltage > cell.read_voltage


@settings(max_examples=60, deadline=None)
@given(g_max=st.floats(1e-7, 1e-3), v_gate=st.floats(0.6, 3.3), max_loss=st.sampled_from([0.01, 0.05, 0.2]))
def test_a_sized_1t1r_cell_never_warns(g_max, v_gate, max_loss):
    cell = TransistorResistor.sized_for(g_max, v_gate, max_loss=max_loss)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DesignWarning)
        Crossbar(np.full((2, 3), g_max), cell=cell, v_gate=v_gate)


# -- compiled DC cell kernels ---------------------------------------------------------------------------------
@needs_numba
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**16), scale=st.sampled_from([1e-3, 0.2, 1.0, 3.0]))
def test_compiled_1s1r_series_solve_matches_the_numpy_face(seed, scale):
    rng = np.random.default_rng(seed)
    cell = SelectorResistor()
    arrays = CellArrays(g=np.concatenate([[0.0], rng.uniform(1e-7, 1e-3, 199)]))
    ev = dc_cells(cell, arrays)
    assert isinstance(ev, CompiledSeries)
    u = rng.uniform(-scale, scale, 200)
    for step in range(3):  # a cold start, then warm starts from the previous solve
        u = u + step * rng.normal(0, 0.01 * scale, 200)
        i, g = ev.current(u)
        i_ref, g_ref = cell.current(u, arrays)
        np.testing.assert_allclose(i, i_ref, rtol=1e-10, atol=1e-22)
        np.testing.assert_allclose(g, g_ref, rtol=1e-8, atol=1e-20)


@needs_numba
def test_dc_evaluators_by_kind():
    assert isinstance(dc_cells(make_cell("tiox"), CellArrays(x=np.full(4, 0.5))), CompiledModel)
    assert isinstance(dc_cells(make_cell("1S1R"), CellArrays(g=np.full(4, 1e-5))), CompiledSeries)
    assert isinstance(dc_cells(make_cell("1S1R"), CellArrays(g=np.full(4, 1e-5)), compiled=False), NumpyCells)

    class Shifted(SelectorResistor):  # changes the law but not its series model: the check catches it
        def current(self, u, arrays):
            i, g = super().current(u, arrays)
            return 1.5 * i, 1.5 * g

    with pytest.warns(RuntimeWarning, match="disagrees"):
        assert isinstance(dc_cells(Shifted(), CellArrays(g=np.full(4, 1e-5))), NumpyCells)


@needs_numba
@pytest.mark.parametrize("cell", ["1S1R", "tiox"])
def test_compiled_newton_agrees_with_the_numpy_cell_law(cell, monkeypatch):
    from memspice.solver import dc

    xbar = crossbar(cell, 60, 50, r=2.0)
    v = np.random.default_rng(4).uniform(0, 1.0, 60)
    with QUIET():
        warnings.simplefilter("ignore", DesignWarning)
        fast = solve_dc(xbar, v, method="structured")
        monkeypatch.setattr(dc, "dc_cells", lambda c, a: NumpyCells(c, a))
        slow = solve_dc(xbar, v, method="structured")
    np.testing.assert_allclose(fast.output_currents, slow.output_currents, rtol=1e-9)
    np.testing.assert_allclose(fast.device_currents, slow.device_currents, rtol=1e-8, atol=1e-20)


# -- read latency: two backends -------------------------------------------------------------------------------
def test_frozen_transient_runs_any_cell_kind():
    xbar = crossbar("1R", 5, 4, r=10.0)
    v = np.full(5, 0.2)
    run = ms.simulate_transient(xbar, [ms.PWL((0.0, 1e-12), (0.0, 0.2))] * 5, 1e-9, frozen=True, progress=False)
    np.testing.assert_allclose(run.output_currents[-1], solve_dc(xbar, v).output_currents[0], rtol=1e-9)
    assert np.all(run.states == 0)
    with pytest.raises(ValueError, match="frozen=True"):
        ms.simulate_transient(xbar, [ms.PWL((0.0, 1e-12), (0.0, 0.2))] * 5, 1e-9)


@pytest.mark.parametrize("cell", ["1R", "1S1R"])  # (1T1R: below, against ngspice)
def test_read_latency_on_the_sparse_transient(cell):
    base = Crossbar(np.random.default_rng(1).uniform(1e-6, 1e-4, (4, 4)), cell=cell, r_word=100.0, r_bit=100.0)
    fast = read_latency(
        ms.Crossbar(**{**vars_of(base), "c_word": 1e-15, "c_bit": 1e-15}), np.full(4, 0.3), backend="sparse"
    )
    slow = read_latency(
        ms.Crossbar(**{**vars_of(base), "c_word": 1e-13, "c_bit": 1e-13}), np.full(4, 0.3), backend="sparse"
    )
    assert fast["backend"] == "sparse" and fast["backend_reason"] == "requested"
    assert set(fast) == {"latency_s", "per_column_s", "t_stop_s", "backend", "backend_reason"}
    assert 0 < fast["latency_s"] < slow["latency_s"]


@needs_ngspice
def test_read_latency_auto_picks_the_faster_backend_and_says_why():
    from memspice.analysis.read_cost import SPARSE_LATENCY_CELLS, latency_backend

    big = crossbar("1S1R", 32, 32)
    assert 32 * 32 >= SPARSE_LATENCY_CELLS
    assert latency_backend(big)[0] == "sparse" and "faster" in latency_backend(big)[1]
    assert latency_backend(crossbar("1R", 8, 8))[0] == "ngspice"
    with pytest.warns(DesignWarning, match="1T1R"):  # the default transistor is undersized for 100 uS
        gated = crossbar("1T1R", 64, 64)
    assert latency_backend(gated)[0] == "ngspice"
    assert latency_backend(big, "ngspice") == ("ngspice", "requested")


@needs_ngspice
@pytest.mark.parametrize("cell", ["1R", "1S1R", "1T1R"])
def test_read_latency_backends_agree(cell):
    with QUIET():
        warnings.simplefilter("ignore", DesignWarning)
        xbar = Crossbar(
            np.random.default_rng(5).uniform(1e-6, 1e-4, (6, 5)),
            cell=cell,
            r_word=100.0,
            r_bit=100.0,
            r_source=50.0,
            c_word=1e-13,
            c_bit=1e-13,
        )
        v = np.full(6, xbar.cell.read_voltage)
        sparse = read_latency(xbar, v, backend="sparse")
        spice = read_latency(xbar, v, backend="ngspice")
    assert sparse["backend"] == "sparse" and spice["backend"] == "ngspice"
    assert sparse["t_stop_s"] == spice["t_stop_s"]
    # both resolve the settling to the sampling step t_stop / 2000
    step = spice["t_stop_s"] / 2000
    np.testing.assert_allclose(sparse["per_column_s"], spice["per_column_s"], rtol=0.03, atol=2 * step)


def vars_of(xbar):
    return {
        k: getattr(xbar, k)
        for k in ("conductances", "r_word", "r_bit", "r_source", "r_sense", "cell", "state", "bit_bias", "v_gate")
    }


def test_crossbar_solution_rejects_partial_per_cell_arrays():
    with pytest.raises(ValueError, match="all three"):
        CrossbarSolution(np.zeros((1, 2)), np.zeros((1, 2, 2)))
    bare = CrossbarSolution(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="output currents only"):
        _ = bare.device_currents
