"""The array side of a co-simulation (memspice.cosim.array.ArrayPorts), without ngspice."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memspice.circuits.crossbar import Crossbar
from memspice.circuits.sources import PWL
from memspice.cosim.array import ArrayPorts, CosimArrayError
from memspice.solver import simulate_transient
from memspice.solver.dc import solve_dc


def _xbar(cell="tiox", m=5, n=4, seed=0, **wires):
    rng = np.random.default_rng(seed)
    if cell in ("tiox", "memristor"):
        return Crossbar(state=rng.uniform(0.1, 0.9, (m, n)), cell=cell, **wires)
    return Crossbar(conductances=rng.uniform(5e-6, 80e-6, (m, n)), cell=cell, **wires)


WIRES = [
    {"r_word": 10.0, "r_bit": 10.0},
    {"r_word": 2.0, "r_bit": 5.0, "r_source": 100.0, "r_sense": 50.0},
    {"r_word": 0.0, "r_bit": 0.0, "r_source": 20.0},
    {"r_word": 0.0, "r_bit": 0.0},
]


@pytest.mark.parametrize("cell", ["1R", "1S1R", "tiox"])
@pytest.mark.parametrize("wires", WIRES)
def test_dc_port_currents_match_the_dc_solver(cell, wires):
    xbar = _xbar(cell, **wires)
    m, n = xbar.shape
    rng = np.random.default_rng(1)
    words, bits = rng.uniform(0.2, 1.0, m), rng.uniform(-0.05, 0.05, n)
    ref = Crossbar(**{**{f: getattr(xbar, f) for f in ("conductances", "state", "cell")}, **wires}, bit_bias=bits)
    out = solve_dc(ref, words).output_currents[0]
    point = ArrayPorts(xbar).dc(np.concatenate([words, bits]))
    assert point is not None
    np.testing.assert_allclose(-point.I[m:], out, rtol=1e-7, atol=1e-15)
    # no capacitors at DC: every ampere in through a word-line port leaves through a bit-line port
    assert abs(point.I.sum()) <= 1e-9 * np.abs(point.I).sum()


@pytest.mark.parametrize("cell", ["1S1R", "tiox"])
@pytest.mark.parametrize("wires", WIRES[:3])
def test_norton_conductance_bounds_the_true_self_admittance(cell, wires):
    """The ladder holds the crossing lines fixed, so it is at least the true dI_k/dv_k and close to it."""
    xbar = _xbar(cell, **wires)
    arr = ArrayPorts(xbar)
    v = np.concatenate([np.linspace(0.3, 1.0, xbar.m), np.zeros(xbar.n)])
    base = arr.dc(v)
    for k in range(xbar.m + xbar.n):
        dv = np.zeros_like(v)
        dv[k] = 1e-4
        true = (arr.dc(v + dv).I[k] - arr.dc(v - dv).I[k]) / 2e-4
        assert base.G[k] >= true * (1 - 1e-3)  # (the difference quotient is good to about 1e-4 here)
        assert base.G[k] <= 1.5 * true


def test_transient_matches_the_array_transient_solver():
    """Ports driven by ideal sources: ArrayPorts stepped on a fixed grid agrees with simulate_transient."""
    xbar = _xbar("tiox", 4, 3, r_word=5.0, r_bit=5.0, c_word=2e-15, c_bit=2e-15, bit_bias=0.0)
    pulse = PWL((0.0, 5e-9, 105e-9, 110e-9), (0.0, 2.2, 2.2, 0.0))
    sources = [pulse if i == 1 else PWL((0.0, 5e-9), (0.0, 0.4)) for i in range(xbar.m)]
    t_stop = 150e-9
    ref = simulate_transient(xbar, sources, t_stop, tol=1e-7, progress=False)
    arr = ArrayPorts(xbar, tol=1e-7)
    arr.dc(np.zeros(xbar.m + xbar.n))
    for t in np.unique(np.concatenate([np.linspace(0, t_stop, 3001)[1:], [5e-9, 105e-9, 110e-9]])):
        v = np.concatenate([[float(s(t)) for s in sources], np.zeros(xbar.n)])
        assert arr.step(t, v) is not None
        arr.commit(t)
    assert np.max(np.abs(arr.committed.x - ref.states[-1].ravel())) < 2e-5
    assert np.max(np.abs(ref.states[-1] - xbar.state)) > 1e-3  # the pulse did write


def test_step_bound_rejects_steps_with_large_state_error():
    xbar = _xbar("tiox", 2, 2, r_word=1.0, r_bit=1.0)
    arr = ArrayPorts(xbar, tol=1e-6)
    v = np.array([2.5, 2.5, 0.0, 0.0])  # far above the set threshold: the states move fast
    arr.dc(v)
    point = arr.step(1e-6, v)
    assert arr.step_bound(point) < 0.9 * 1e-6  # ngspice rejects a step whose bound is below 0.9 h
    small = arr.step(1e-10, v)
    assert arr.step_bound(small) >= 1e-10


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["1S1R", "tiox"]), st.floats(1e-9, 1e-6))
def test_reuse_stays_within_its_share_of_the_tolerance(seed, cell, h):
    """A reused answer differs from a full solve by less than a tenth of reltol |I| + abstol at every port."""
    rng = np.random.default_rng(seed)
    xbar = _xbar(cell, 4, 5, seed=seed, r_word=3.0, r_bit=3.0, c_word=1e-15, c_bit=1e-15)
    reltol, abstol = 1e-4, 1e-12
    a, b = ArrayPorts(xbar, reuse=True), ArrayPorts(xbar, reuse=False)
    v = np.concatenate([rng.uniform(0.2, 1.0, 4), rng.uniform(-1e-3, 1e-3, 5)])
    for arr in (a, b):
        arr.set_simulator_tolerances(reltol, abstol)
        arr.dc(v)
    t = 0.0
    for _ in range(6):
        t += h
        w = v + rng.normal(0.0, 1e-9, v.size)  # the ports' Newton noise
        pa, pb = a.step(t, w), b.step(t, w)
        a.commit(t)
        b.commit(t)
        allowed = reltol * np.abs(pb.I) + abstol
        assert np.all(np.abs(pa.I - pb.I) <= allowed)
    assert a.reused > 0 and b.reused == 0


def test_three_terminal_cells_are_refused():
    xbar = Crossbar(conductances=np.full((2, 2), 1e-5), cell="1T1R")
    with pytest.raises(CosimArrayError, match="three-terminal"):
        ArrayPorts(xbar)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=0, max_value=2**31 - 1),
    st.sampled_from([1, 2]),
    st.sampled_from([1.5, 10.0, 1e3]),
)
def test_capacitor_bound_is_ngspices_divided_difference_test(seed, order, spread):
    """The compiled truncation bound equals the divided-difference formula written out with numpy."""
    from memspice.cosim.truncation import smallest_bound

    rng = np.random.default_rng(seed)
    cap = np.where(rng.random(30) < 0.7, 1e-15, 0.0)
    cap[0] = 1e-15
    nodes = np.flatnonzero(cap)
    times = np.cumsum(rng.uniform(1e-10, 1e-10 * spread, order + 2))
    V = [rng.normal(size=30) * 0.01 + np.sin(t * 1e7) for t in times]
    q = [cap[nodes] * v[nodes] for v in V]
    diff = list(q)
    for level in range(1, order + 2):
        diff = [(diff[k + 1] - diff[k]) / (times[k + level] - times[k]) for k in range(len(diff) - 1)]
    reltol, abstol, chgtol, trtol = 1e-5, 1e-13, 1e-14, 1.0
    h, h0 = times[-1] - times[-2], times[-2] - times[-3]
    i1, i0 = (q[-1] - q[-2]) / h, (q[-2] - q[-3]) / h0
    tol = np.maximum(
        abstol + reltol * np.maximum(abs(i1), abs(i0)),
        reltol * np.maximum(np.maximum(abs(q[-1]), abs(q[-2])), chgtol) / h,
    )
    expected = np.min(trtol * tol / np.maximum(abstol, (1 / 12 if order == 2 else 0.5) * np.abs(diff[0])))
    got = smallest_bound(np.stack(q[:-1]), nodes, cap, V[-1], times, reltol, abstol, chgtol, trtol, order)
    assert got == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("cell", ["tiox", "1s1r"])
def test_a_newton_iterate_at_the_same_time_solves_as_a_fresh_step(cell):
    """A re-solve at the same trial time (reusing the first cell evaluation) gives the step solved afresh."""
    rng = np.random.default_rng(3)
    stateful = cell == "tiox"

    def make():
        xbar = Crossbar(
            conductances=None if stateful else rng.uniform(1e-5, 1e-4, (6, 5)),
            state=rng.uniform(0.2, 0.8, (6, 5)) if stateful else None,
            cell=cell, r_word=10.0, r_bit=10.0, c_word=1e-15, c_bit=1e-15,
        )  # fmt: skip
        arr = ArrayPorts(xbar, reuse=False)
        arr.set_simulator_tolerances(1e-5, 1e-13)
        return arr

    state = rng.bit_generator.state
    a = make()
    rng.bit_generator.state = state
    b = make()
    v0 = np.concatenate([np.full(6, 1.8), np.zeros(5)])
    v1, v2 = v0 * 1.01, v0 * 0.97
    for arr in (a, b):
        arr.dc(v0)
    a.step(1e-8, v1)
    p = a.step(1e-8, v2)
    q = b.step(1e-8, v2)
    assert np.allclose(p.I, q.I, rtol=1e-7, atol=1e-15)
    assert np.allclose(p.x, q.x, rtol=0, atol=1e-9)
