"""Non-physical or overflowing inputs are refused at the Crossbar boundary, and no result path returns NaN or
inf silently (issue 20: ``G = 1e300 S`` gave NaN outputs and no error)."""

import numpy as np
import pytest

from memspice.circuits import crossbar as cb
from memspice.circuits.crossbar import Crossbar
from memspice.simulate import simulate_crossbar
from memspice.solver import NonFiniteResultError, read_many, solve_dc

from .conftest import needs_ngspice

G = np.full((3, 3), 1e-4)


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"conductances": np.full((3, 3), 1e300)}, r"conductances must be <= 1000 S .* 1e\+300 S at cell \(0, 0\)"),
        ({"conductances": np.full((40, 40), 1e100)}, "conductances must be <= 1000 S"),
        ({"conductances": np.array([[1e-4, np.inf]])}, "NaN or inf"),
        ({"conductances": np.array([[1e-4, np.nan]])}, "NaN or inf"),
        ({"conductances": np.array([[1e-4, -1e-4]])}, "negative resistance at cell"),
        ({"conductances": G, "r_word": 1e-300}, "below 1e-09 Ohm .* use 0 for an ideal wire"),
        ({"conductances": G, "r_sense": -1.0}, "r_sense must be a finite resistance"),
        ({"conductances": G, "bit_bias": 1e300}, r"bit_bias must be within \+-1e\+06 V"),
        ({"conductances": G, "bit_bias": [0, 0, np.nan]}, "bit_bias must be a finite voltage"),
        ({"conductances": G, "cell": "1T1R", "v_gate": -1e7}, "v_gate must be within"),
        ({"conductances": G, "c_word": 1e300}, r"c_word must be a capacitance in \[0, 1\] F"),
    ],
)
def test_non_physical_crossbars_are_refused_with_the_bound_named(kw, message):
    with pytest.raises(ValueError, match=message):
        Crossbar(**kw)


@pytest.mark.parametrize("v", [[1e300, 0, 0], [1e7, 0, 0], [0.1, -2e6, 0.0], [np.nan, 0, 0], [0, np.inf, 0]])
def test_huge_or_non_finite_inputs_are_refused_on_every_path(v):
    xbar = Crossbar(G, r_word=1.0, r_bit=1.0)
    for call in (
        lambda: solve_dc(xbar, v),
        lambda: read_many(xbar, [v]),
        lambda: simulate_crossbar(xbar, v, backend="sparse"),
        lambda: simulate_crossbar(xbar, v, backend="ngspice"),
    ):
        with pytest.raises(ValueError, match="voltages"):
            call()


def test_bounds_are_the_documented_constants():
    assert (cb.MAX_CONDUCTANCE, cb.MIN_RESISTANCE, cb.MAX_VOLTAGE, cb.MAX_CAPACITANCE) == (1e3, 1e-9, 1e6, 1.0)
    Crossbar(np.full((2, 2), cb.MAX_CONDUCTANCE), r_word=cb.MIN_RESISTANCE, bit_bias=cb.MAX_VOLTAGE)  # limits pass


@pytest.mark.parametrize("bad", [np.nan, 1e300, -1.0])
def test_arrays_changed_after_construction_are_checked_again_at_every_read(bad):
    xbar = Crossbar(np.full((40, 40), 1e-4), r_word=1.0, r_bit=1.0)
    xbar.conductances[3, 4] = bad
    for call in (
        lambda: solve_dc(xbar, np.full(40, 0.1), method="structured"),
        lambda: read_many(xbar, np.full((50, 40), 0.1)),
        lambda: simulate_crossbar(xbar, np.full(40, 0.1)),
    ):
        with pytest.raises(ValueError, match=r"conductances .*cell \(3, 4\)"):
            call()


def test_the_result_guard_names_the_path_and_the_first_bad_entry():
    from memspice.solver.guards import check_solution
    from memspice.solver.solution import CrossbarSolution

    ok = np.zeros((1, 2, 2))
    with pytest.raises(NonFiniteResultError, match=r"ngspice DC solve produced nan in output_currents at index \(0, 1"):
        check_solution(CrossbarSolution(np.array([[0.0, np.nan]]), ok, ok, ok, "ngspice"))
    with pytest.raises(NonFiniteResultError, match="device_currents"):
        check_solution(CrossbarSolution(np.zeros((1, 2)), ok + np.inf, ok, ok, "sparse"))


@needs_ngspice
def test_the_largest_accepted_conductance_reads_the_same_on_every_path():
    rng = np.random.default_rng(3)
    xbar = Crossbar(cb.MAX_CONDUCTANCE * rng.uniform(0.5, 1, (12, 9)), r_word=1.0, r_bit=2.0)
    v = rng.uniform(-1, 1, (3, 12))
    ref = solve_dc(xbar, v, method="direct").output_currents
    for got in (
        solve_dc(xbar, v, method="structured").output_currents,
        solve_dc(xbar, v, method="cg").output_currents,
        read_many(xbar, v),
        simulate_crossbar(xbar, v, backend="ngspice").output_currents,
    ):
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12 * np.max(np.abs(ref)))


@pytest.mark.parametrize("entry", ["simulate_crossbar", "read_many", "solve_dc", "transfer", "read_dc"])
def test_a_bare_conductance_array_is_refused_with_the_fix_named(entry):
    """Passing the conductances where a Crossbar is needed (the usual slip) names the type and the fix,
    on every public read entry (it was an AttributeError from deep inside: "'numpy.ndarray' object has no
    attribute 'm'")."""
    from memspice.solver import reads, transfer

    fns = {"transfer": transfer.transfer, "read_dc": reads.read_dc, "read_many": read_many, "solve_dc": solve_dc}
    fn = fns.get(entry, simulate_crossbar)
    args = (G,) if entry == "transfer" else (G, np.full(3, 0.1))
    with pytest.raises(TypeError, match=r"expected a memspice.Crossbar, got numpy.ndarray.*memspice.Crossbar\(g"):
        fn(*args)
