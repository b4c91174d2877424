"""V/2 and V/3 half-select biasing, in ngspice and the sparse solver."""

import numpy as np
import pytest

from memspice.circuits.crossbar import Crossbar
from memspice.circuits.write_schemes import disturb_report, write_bias, write_crossbar
from memspice.simulate import simulate_crossbar

from .conftest import needs_ngspice


def test_bias_levels():
    rows, cols = write_bias(4, 5, (1, 2), 3.0, "V/3")
    volts = np.subtract.outer(rows, cols)
    assert volts[1, 2] == pytest.approx(3.0)
    assert np.allclose(volts[1, [0, 1, 3, 4]], 1.0) and np.allclose(volts[[0, 2, 3], 2], 1.0)
    assert np.allclose(np.delete(np.delete(volts, 1, 0), 2, 1), -1.0)
    rows, cols = write_bias(4, 5, (0, 0), 2.0, "V/2")
    volts = np.subtract.outer(rows, cols)
    assert volts[0, 0] == 2.0 and np.allclose(volts[0, 1:], 1.0) and np.allclose(volts[1:, 1:], 0.0)
    with pytest.raises(ValueError, match="scheme"):
        write_bias(4, 4, (0, 0), 1.0, "V/4")
    with pytest.raises(ValueError, match="outside"):
        write_bias(4, 4, (5, 0), 1.0)


@needs_ngspice
@pytest.mark.parametrize("backend", ["ngspice", "sparse"])
def test_1s1r_half_selected_cells_leak_10x_less_than_1r_under_v_half(backend):
    g = np.full((8, 8), 1e-4)
    reports = {}
    for cell in ("1R", "1S1R"):
        xbar, rows = write_crossbar(Crossbar(g, cell=cell, r_word=1.0, r_bit=1.0), (3, 4), 1.6, "V/2")
        sol = simulate_crossbar(xbar, rows, backend=backend)
        reports[cell] = disturb_report(sol.device_currents, (3, 4))
    assert reports["1R"]["half_selected_max"] >= 10 * reports["1S1R"]["half_selected_max"]
    assert reports["1S1R"]["selected"] > 10 * reports["1S1R"]["half_selected_max"]


@needs_ngspice
def test_v_third_scheme_sparse_matches_ngspice():
    rng = np.random.default_rng(4)
    xbar, rows = write_crossbar(
        Crossbar(rng.uniform(1e-5, 1e-4, (6, 7)), cell="1S1R", r_word=2.0, r_bit=2.0, r_sense=1.0), (2, 5), 1.8, "V/3"
    )
    a = simulate_crossbar(xbar, rows, backend="ngspice")
    b = simulate_crossbar(xbar, rows, backend="sparse")
    err = np.max(np.abs(a.device_currents - b.device_currents)) / np.max(np.abs(a.device_currents))
    assert err <= 1e-6
