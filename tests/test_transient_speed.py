"""Compiled per-cell transient kernels agree with the numpy path; the transient reports its progress."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from memspice.circuits.cells import ModelCell, memristor, tiox
from memspice.circuits.crossbar import Crossbar
from memspice.circuits.sources import PWL, pulse_train
from memspice.solver import simulate_transient
from memspice.solver import state_kernels as sk

needs_numba = pytest.mark.skipif(not sk.AVAILABLE, reason="numba not installed")


@pytest.fixture(autouse=True)
def _one_thread():
    """One solver thread: these arrays are tiny, and on a loaded machine every parallel region of the
    kernels waits for a busy core (measured: 100x slower with 2 threads at load 3.5 on 2 cores)."""
    from memspice.solver import get_threads, set_threads

    before = get_threads()
    set_threads(1)
    yield
    set_threads(before)


def _inputs(size=400, seed=0):
    rng = np.random.default_rng(seed)
    u = rng.uniform(-2.5, 2.5, size)
    x = rng.uniform(0.0, 1.0, size)
    x[:4] = [0.0, 1.0, 1e-9, 1 - 1e-9]  # window edges
    return u, x


@needs_numba
@pytest.mark.parametrize("make, h", [(tiox, 1e-8), (memristor, 1e-3)])
def test_compiled_cells_match_numpy(make, h):
    cell = make()
    fast, ref = sk.cell_stepper(cell), sk.NumpyCells(cell)
    assert fast.compiled and not ref.compiled
    u, x = _inputs()
    for a, b in zip(fast.current(u, x), ref.current(u, x)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-300)
    f = ref.rate(x, u)
    np.testing.assert_allclose(fast.rate(x, u), f, rtol=1e-10, atol=1e-12 * np.max(np.abs(f)))
    x1, i1, g1, f1, bad = fast.implicit(u, x, f, x + h * f, h, 0.5)
    x2, i2, _, f2, bad2 = ref.implicit(u, x, f, x + h * f, h, 0.5)
    assert bad == bad2 == 0
    assert np.max(np.abs(x1 - x)) > 1e-4  # the step really moves states
    np.testing.assert_allclose(x1, x2, rtol=0, atol=1e-12)
    np.testing.assert_allclose(i1, i2, rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(f1, f2, rtol=1e-8, atol=1e-9 * np.max(np.abs(f2)))


@needs_numba
def test_compiled_jacobian_is_the_total_derivative():
    """g = d i(u, x1(u)) / du with the state of the implicit step eliminated (finite differences)."""
    cell = tiox()
    fast = sk.cell_stepper(cell)
    u = np.array([1.7, 1.9, 2.1, -1.8, 0.5])
    x = np.array([0.3, 0.5, 0.7, 0.4, 0.6])
    h, f = 1e-6, fast.rate(x, u)
    _, _, g, _, _ = fast.implicit(u, x, f, x, h, 0.5)
    du = 1e-7
    _, ip, _, _, _ = fast.implicit(u + du, x, f, x, h, 0.5)
    _, im, _, _, _ = fast.implicit(u - du, x, f, x, h, 0.5)
    fd = (ip - im) / (2 * du)
    _, g_frozen = fast.current(u, x)
    assert np.max(np.abs(g[:3] / g_frozen[:3] - 1)) > 1e-3  # the state coupling matters here
    np.testing.assert_allclose(g[:3], fd[:3], rtol=1e-5)
    # under RESET the total derivative turns negative; the Jacobian keeps half the frozen one (SPD)
    assert fd[3] < 0 and g[3] == pytest.approx(0.5 * g_frozen[3])


def _array(n=6, seed=3, cell="tiox"):
    rng = np.random.default_rng(seed)
    xbar = Crossbar(state=rng.uniform(0.2, 0.8, (n, n)), cell=cell, r_word=2.0, r_bit=2.0, bit_bias=1.0)
    sources = [pulse_train([3.0 if k == i else 0.0 for k in range(2)], 1e-6, 2e-6) for i in range(n)]
    return xbar, sources, 4e-6


@needs_numba
@pytest.mark.parametrize("method", ["trap", "be"])
def test_compiled_transient_matches_numpy_transient(method):
    xbar, sources, t_stop = _array()
    a = simulate_transient(xbar, sources, t_stop, method=method, tol=1e-5, compiled=True, progress=False)
    b = simulate_transient(xbar, sources, t_stop, method=method, tol=1e-5, compiled=False, progress=False)
    assert np.max(np.abs(a.states[-1] - xbar.state)) > 1e-2  # the pulses switch the selected rows
    assert np.max(np.abs(a.states[-1] - b.states[-1])) < 1e-6
    ib = np.array([np.interp(a.time, b.time, b.output_currents[:, j]) for j in range(xbar.n)]).T
    assert np.max(np.abs(a.output_currents - ib)) <= 1e-3 * np.max(np.abs(ib))
    assert a.newton_iterations > 0


class _SlowTiOx(ModelCell):
    """A user kind overriding the state equation: the compiled kernels would not see the override."""

    def rate(self, x, u):
        return 0.5 * self.model.rate(x, u)

    def rate_dx(self, x, u):
        return 0.5 * self.model.rate_dx(x, u)


def test_user_cells_use_numpy_and_compiled_true_is_refused():
    cell = _SlowTiOx(tiox().model, "slow-tiox")
    assert not sk.cell_stepper(cell).compiled
    with pytest.raises(ValueError, match="compiled"):
        sk.cell_stepper(cell, compiled=True)
    xbar, sources, t_stop = _array(n=3)
    slow = dataclasses.replace(xbar, cell=cell)
    a = simulate_transient(slow, sources, t_stop, tol=1e-5, progress=False)
    b = simulate_transient(xbar, sources, t_stop, tol=1e-5, progress=False)
    moved_a, moved_b = a.states[-1] - xbar.state, b.states[-1] - xbar.state
    # the override really ran: half the rate, about half the change
    assert np.max(np.abs(moved_a)) == pytest.approx(0.5 * np.max(np.abs(moved_b)), rel=0.1)


@needs_numba
def test_kernel_source_is_printed_from_the_model_equations():
    text = sk.kernel_source(type(tiox().model))
    assert "def cell_rate" in text and "def cell_current" in text and "k_set = _p[" in text
    assert sk.kernel_source(type(memristor().model)) != text


def test_progress_callback_sees_simulated_time():
    xbar, sources, t_stop = _array(n=3)
    seen = []
    tr = simulate_transient(xbar, sources, t_stop, progress=lambda t, stop: seen.append((t, stop)))
    assert len(seen) == len(tr.time) - 1
    times = [t for t, _ in seen]
    assert np.all(np.diff(times) > 0) and times[-1] == pytest.approx(t_stop)
    assert all(stop == t_stop for _, stop in seen)


def test_progress_bar_on_stderr_and_quiet_when_off(capsys, monkeypatch):
    monkeypatch.delenv("MEMSPICE_PROGRESS", raising=False)
    xbar, sources, t_stop = _array(n=3)
    simulate_transient(xbar, sources, t_stop, progress=True)
    err = capsys.readouterr().err
    assert "memspice transient" in err and "%" in err and "left" in err
    simulate_transient(xbar, sources, t_stop, progress=False)
    simulate_transient(xbar, sources, t_stop)  # auto: stderr is not a terminal here
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("MEMSPICE_PROGRESS", "0")
    simulate_transient(xbar, sources, t_stop, progress=True)
    assert capsys.readouterr().err == ""


def test_bad_progress_is_named():
    xbar, sources, t_stop = _array(n=2)
    with pytest.raises(ValueError, match="progress"):
        simulate_transient(xbar, sources, t_stop, progress="yes")


def test_states_at_window_edges_stay_finite():
    """Cells stuck exactly at 0 or 1 (the windows' edges) step without NaN."""
    state = np.array([[0.0, 1.0], [1.0, 0.0]])
    xbar = Crossbar(state=state, cell="tiox", r_word=1.0, r_bit=1.0)
    tr = simulate_transient(xbar, [PWL((0.0, 1e-7, 1e-6), (0.0, 2.5, 2.5))] * 2, 1e-6, progress=False)
    assert np.all(np.isfinite(tr.states)) and np.all(np.isfinite(tr.output_currents))
    assert np.all((tr.states[-1] >= -1e-6) & (tr.states[-1] <= 1 + 1e-6))


def test_pwl_sources_table_matches_per_source_evaluation():
    """All-PWL sources are evaluated from one table; wrapped as plain callables they take the per-source
    path: both give the same transient."""
    xbar, sources, t_stop = _array(n=3)
    a = simulate_transient(xbar, sources, t_stop, tol=1e-5, progress=False)
    b = simulate_transient(xbar, [_Wrapped(s) for s in sources], t_stop, tol=1e-5, progress=False)
    np.testing.assert_allclose(a.time, b.time, rtol=1e-12, atol=0)
    np.testing.assert_allclose(a.states, b.states, rtol=0, atol=1e-13)


class _Wrapped:
    """A source that is not a PWL (same values and breakpoints)."""

    def __init__(self, source):
        self.source = source

    def __call__(self, t):
        return self.source(t)

    def breakpoints(self, t_stop):
        return self.source.breakpoints(t_stop)


def test_auto_progress_shows_on_a_terminal_only_for_long_runs(capsys, monkeypatch):
    import sys

    from memspice.solver import transient

    monkeypatch.delenv("MEMSPICE_PROGRESS", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    xbar, sources, t_stop = _array(n=3)
    monkeypatch.setattr(transient, "PROGRESS_AFTER_S", 3600.0)
    simulate_transient(xbar, sources, t_stop)  # a short run on a terminal: no bar
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(transient, "PROGRESS_AFTER_S", 0.0)
    simulate_transient(xbar, sources, t_stop)  # "long" from the start: the bar appears
    assert "memspice transient" in capsys.readouterr().err


def test_stiff_line_capacitance_does_not_make_the_trapezoidal_rule_ring():
    """1 fF lines behind 2 Ohm segments (RC ~ fs): the plain trapezoidal rule rang on them and took
    103,093 time points for this 6 us run; the damped node rule (NODE_THETA) takes a few hundred."""
    rng = np.random.default_rng(0)
    xbar = Crossbar(state=rng.uniform(0.2, 0.8, (8, 8)), cell="tiox", r_word=2.0, r_bit=2.0, c_word=1e-15, c_bit=1e-15)
    src = [pulse_train([1.5, -1.5], 1e-6, 3e-6)] * 8
    trap = simulate_transient(xbar, src, 6e-6, method="trap")
    be = simulate_transient(xbar, src, 6e-6, method="be")
    assert len(trap.time) < 2000
    np.testing.assert_allclose(trap.states[-1], be.states[-1], atol=1e-5)
