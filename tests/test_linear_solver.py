"""Closed-loop crossbar solver against numpy.linalg.solve."""

import numpy as np
import pytest

from memspice.circuits.linear_solver import solver_netlist
from memspice.systems.linalg import solve_with_circuit

from .conftest import needs_ngspice

A = np.array([[3.0, 1.0, 0.5], [1.0, 2.5, 0.8], [0.5, 0.8, 2.0]])
B = np.array([1.0, -0.5, 0.8])


@needs_ngspice
def test_3x3_solution_within_one_percent():
    x = solve_with_circuit(A, B)
    ref = np.linalg.solve(A, B)
    assert np.max(np.abs(x - ref)) / np.max(np.abs(ref)) < 1e-2


@needs_ngspice
def test_negative_entries_through_inverters():
    a = np.array([[2.0, -0.5, 0.2], [-0.4, 1.8, -0.3], [0.1, -0.2, 1.5]])
    x = solve_with_circuit(a, B)
    ref = np.linalg.solve(a, B)
    assert np.max(np.abs(x - ref)) / np.max(np.abs(ref)) < 1e-2
    assert "Einv0" in solver_netlist(a, B)


@needs_ngspice
def test_accuracy_improves_with_op_amp_gain():
    ref = np.linalg.solve(A, B)
    errs = [np.max(np.abs(solve_with_circuit(A, B, gain=g) - ref)) for g in (1e1, 1e2, 1e3, 1e5)]
    assert all(a > b for a, b in zip(errs, errs[1:]))


def test_bad_systems_are_named():
    with pytest.raises(ValueError, match="square"):
        solver_netlist(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match="non-empty"):
        solver_netlist(np.ones((0, 0)), np.ones(0))
    with pytest.raises(ValueError, match="finite"):
        solver_netlist(np.full((2, 2), np.nan), np.ones(2))


def test_circuits_module_does_not_run_the_simulator():
    import inspect

    import memspice.circuits.linear_solver as mod

    assert not hasattr(mod, "solve_with_circuit")
    assert "..spice" not in inspect.getsource(mod)  # issue 14: circuits write netlists, systems run them


def test_eigen_netlist_routes_negative_entries_to_the_tia_outputs():
    from memspice.circuits.linear_solver import eigen_netlist

    text = eigen_netlist(np.array([[2.0, -1.0], [-1.0, 2.0]]), 2.9, [1e-6, -1e-6])
    assert "Rc0_1 r0 y1 10k" in text and "Rc0_0 r0 c0 5k" in text  # a < 0 -> inverted node y
    assert "Rl0 r0 y0 3.448275862k" in text  # feedback 1 / (lam g_unit)
    with pytest.raises(ValueError, match="kick"):
        eigen_netlist(np.eye(2), 1.0, [1e-6])
    with pytest.raises(ValueError, match="lam"):
        eigen_netlist(np.eye(2), 0.0, [1e-6, 1e-6])
