"""Energy and latency of a crossbar read."""

import dataclasses

import numpy as np
import pytest

from memspice.analysis.read_cost import read_energy, read_latency
from memspice.circuits.crossbar import Crossbar
from memspice.solver import solve_dc

from .conftest import needs_ngspice


def test_energy_balance_cells_plus_wires_equal_driver_power():
    rng = np.random.default_rng(0)
    xbar = Crossbar(rng.uniform(1e-6, 1e-4, (8, 6)), r_word=5.0, r_bit=5.0, r_source=10.0)
    v = rng.uniform(0.1, 0.3, 8)
    sol = solve_dc(xbar, v)
    cost = read_energy(sol, t_read=10e-9)
    # driver power computed independently: sum over rows of v_i times the current leaving source i
    i_row = sol.device_currents[0].sum(axis=1)
    assert cost.array_power_W == pytest.approx(float(v @ i_row), rel=1e-12)
    assert cost.cells_J + cost.wires_J == pytest.approx(cost.array_power_W * 10e-9, rel=1e-12)
    assert 0 < cost.wires_J < cost.cells_J
    ideal = read_energy(solve_dc(dataclasses.replace(xbar, r_word=0.0, r_bit=0.0, r_source=0.0), v), 10e-9)
    assert ideal.wires_J == pytest.approx(0.0, abs=1e-12 * ideal.cells_J)
    assert ideal.cells_J == pytest.approx(float(np.sum(xbar.conductances * v[:, None] ** 2)) * 10e-9, rel=1e-12)
    assert cost.total_J > cost.cells_J + cost.wires_J  # periphery counted
    with pytest.raises(ValueError, match="t_read"):
        read_energy(sol, t_read=-1.0)


@needs_ngspice
def test_latency_grows_with_line_capacitance():
    rng = np.random.default_rng(1)
    base = Crossbar(rng.uniform(1e-6, 1e-4, (6, 6)), r_word=100.0, r_bit=100.0, r_source=50.0)
    v = np.full(6, 0.2)
    fast = read_latency(dataclasses.replace(base, c_word=1e-15, c_bit=1e-15), v)
    slow = read_latency(dataclasses.replace(base, c_word=1e-13, c_bit=1e-13), v)
    assert 0 < fast["latency_s"] < slow["latency_s"]
    # RC of the lines: 6 segments of 100 Ohm and 100 fF, the Elmore delay is of order R C n^2 / 2
    assert 1e-12 < slow["latency_s"] < 5e-9
