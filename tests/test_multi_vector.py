"""All input vectors of a crossbar read in one ngspice run (memspice.netlists.multi_vector)."""

import numpy as np
import pytest

from memspice.circuits.crossbar import Crossbar
from memspice.netlists import multi_vector as mv
from memspice.solver import solve_dc


def _ngspice():
    from memspice.spice import ngspice_info

    try:
        ngspice_info()
    except Exception as exc:  # noqa: BLE001 - the reason is shown in the skip
        pytest.skip(f"ngspice not available: {exc}")


def _rel(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


def test_netlist_has_one_op_loop_and_saves_only_column_currents():
    xbar = Crossbar(np.full((3, 2), 1e-5), r_word=1.0, r_bit=1.0)
    v = np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0.5, 0.5], [0.0, 0.1, 0.0, 0.1]]).T  # 4 vectors x 3 lines
    text = mv.multi_vector_netlist(xbar, v)
    assert text.count(".control") == 1 and text.rstrip().endswith(".end")
    assert "\nop\n" in text and "while mv_k < 4" in text
    assert ".save i(vsense0) i(vsense1)" in text
    assert "alter vin0" in text and "alter vin2" in text
    assert "alter vin1" not in text  # constant input: a plain DC source
    assert not any(line.strip().lower() == ".op" for line in text.splitlines())
    with pytest.raises(ValueError, match="sense"):
        mv.multi_vector_netlist(xbar, v, sense=object())
    with pytest.raises(ValueError, match="voltages"):
        mv.multi_vector_netlist(xbar, np.ones((4, 2)))


@pytest.mark.parametrize("cell", ["1R", "1S1R"])
def test_one_run_equals_per_vector_solver(cell):
    _ngspice()
    rng = np.random.default_rng(1)
    xbar = Crossbar(rng.uniform(1e-6, 1e-4, (6, 5)), r_word=1.0, r_bit=2.0, cell=cell)
    v = rng.uniform(0, 1.0, (7, 6))
    v[:, 2] = 0.3
    got = mv.read_many_ngspice(xbar, v, timeout=120)
    ref = solve_dc(xbar, v).output_currents
    assert got.shape == (7, 5)
    assert _rel(got, ref) < 1e-6


def test_long_vectors_built_in_pieces(monkeypatch):
    _ngspice()
    monkeypatch.setattr(mv, "VALUES_PER_LINE", 3)  # pieces of 3, 3 and 1 values
    rng = np.random.default_rng(2)
    xbar = Crossbar(rng.uniform(1e-6, 1e-4, (3, 2)), r_word=1.0, r_bit=1.0)
    v = rng.uniform(0, 1.0, (7, 3))
    got = mv.read_many_ngspice(xbar, v, timeout=120)
    assert _rel(got, solve_dc(xbar, v).output_currents) < 1e-6


def test_single_vector():
    _ngspice()
    xbar = Crossbar(np.full((2, 3), 2e-5), r_word=0.5, r_bit=0.5)
    v = np.array([0.2, 0.4])
    assert _rel(mv.read_many_ngspice(xbar, v, timeout=60), solve_dc(xbar, v).output_currents) < 1e-6


def test_shared_mode_one_run():
    _ngspice()
    rng = np.random.default_rng(3)
    xbar = Crossbar(rng.uniform(1e-6, 1e-4, (3, 4)), r_word=1.0, r_bit=1.0)
    v = rng.uniform(0, 0.5, (5, 3))
    got = mv.read_many_ngspice(xbar, v, timeout=120, mode="shared")
    assert _rel(got, solve_dc(xbar, v).output_currents) < 1e-6
