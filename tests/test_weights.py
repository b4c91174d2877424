"""Weight mapping, signed differential pairs, variation and faults."""

import numpy as np
import pytest

from memspice.circuits.crossbar import Crossbar
from memspice.circuits.weights import (
    apply_stuck_faults,
    apply_variation,
    conductance_map,
    differential_outputs,
    differential_pair,
)
from memspice.solver import solve_dc


def test_signed_weights_as_differential_columns_compute_w_transpose_v():
    rng = np.random.default_rng(0)
    w = rng.uniform(-1, 1, (6, 4))
    v = rng.uniform(0, 0.3, 6)
    g, scale = differential_pair(w)
    out = solve_dc(Crossbar(g), v).output_currents[0]
    np.testing.assert_allclose(differential_outputs(out) / scale, w.T @ v, rtol=1e-9, atol=1e-15)


def test_conductance_map_range_and_errors():
    g = conductance_map(np.array([[0.0, 0.5], [1.0, 0.25]]), 1e-6, 1e-4)
    assert g.min() == pytest.approx(1e-6) and g.max() == pytest.approx(1e-4)
    with pytest.raises(ValueError, match="differential_pair"):
        conductance_map(np.array([[-1.0]]))
    with pytest.raises(ValueError, match="g_min"):
        conductance_map(np.ones((2, 2)), 1e-4, 1e-6)
    with pytest.raises(ValueError, match="empty"):
        conductance_map(np.ones((0, 4)))


def test_variation_and_faults_are_seeded():
    g = np.full((32, 32), 1e-5)
    a, b = apply_variation(g, 0.1, seed=3), apply_variation(g, 0.1, seed=3)
    assert np.array_equal(a, b) and not np.array_equal(a, apply_variation(g, 0.1, seed=4))
    assert 0.05 < np.std(np.log(a / g)) < 0.15
    f = apply_stuck_faults(g, p_off=0.1, p_on=0.05, g_min=1e-7, g_max=1e-3, seed=1)
    assert np.array_equal(f, apply_stuck_faults(g, p_off=0.1, p_on=0.05, g_min=1e-7, g_max=1e-3, seed=1))
    assert 0.05 < np.mean(f == 1e-7) < 0.15 and 0.02 < np.mean(f == 1e-3) < 0.08
    with pytest.raises(ValueError, match="p_off"):
        apply_stuck_faults(g, p_off=0.8, p_on=0.5)
