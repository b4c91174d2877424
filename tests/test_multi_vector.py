"""All input vectors of a crossbar read in one ngspice run (memspice.netlists.multi_vector)."""

import json
from pathlib import Path

import numpy as np
import pytest

from memspice.circuits.crossbar import Crossbar
from memspice.netlists import multi_vector as mv
from memspice.simulate import simulate_crossbar
from memspice.solver import solve_dc

from .conftest import needs_shared


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
    assert "\nop\n" in text and "let mv_p = 4" in text and "while mv_k < mv_p" in text
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


# ---- signed inputs: ngspice's control language must not read "0.1 -0.05" as one expression (issue 20) ----

SIGNED = np.array([[0.1, 0.2], [-0.05, 0.2], [0.2, 0.2]])  # the 2x2 case: vector 1 was read as 0.05 V


@pytest.mark.parametrize("mode", ["batch", pytest.param("shared", marks=needs_shared)])
def test_signed_inputs_read_right_in_one_run(mode):
    _ngspice()
    xbar = Crossbar(np.full((2, 2), 1e-4), r_word=1.0, r_bit=1.0)
    ref = solve_dc(xbar, SIGNED, method="direct").output_currents
    got = mv.read_many_ngspice(xbar, SIGNED, mode=mode)
    np.testing.assert_allclose(got, ref, rtol=1e-9)
    assert got[1, 0] == pytest.approx(1.4995e-5, rel=1e-3)  # not 4.0e-5 (0.05 + 0.2 V)
    sol = simulate_crossbar(xbar, SIGNED, mode=mode)  # the default backend for small arrays
    assert sol.backend == "ngspice"
    np.testing.assert_allclose(sol.output_currents, ref, rtol=1e-9)


def test_every_sign_magnitude_and_format_reaches_ngspice_exactly():
    """Values that print as -x, x e-y, subnormals, -0.0 and 17 digits all arrive as the same double."""
    _ngspice()
    xbar = Crossbar(np.full((3, 1), 1e-4))
    col = np.array([0.1, -0.05, -1e-300, 5e-324, -0.0, 1 / 3, -2e5, 123456.789, -1e-17, 0.30000000000000004])
    v = np.stack([col, -col[::-1], np.roll(col, 3)], axis=1)  # 10 vectors x 3 word lines
    got = mv.read_many_ngspice(xbar, v)
    np.testing.assert_allclose(got[:, 0], v @ np.full(3, 1e-4), rtol=1e-12, atol=1e-30)


def test_control_numbers_are_parenthesised_exact_literals():
    assert mv.control_number(-0.05) == "(-0.05)"
    assert float(mv.control_number(1 / 3)[1:-1]) == 1 / 3
    with pytest.raises(ValueError, match="finite"):
        mv.control_number(float("nan"))
    text = mv.multi_vector_netlist(Crossbar(np.full((1, 1), 1e-4)), [[0.1], [-0.05], [2e-7]])
    assert "compose mv_in0 values (0.1) (-0.05) (2e-07)" in text


@pytest.mark.parametrize("bad", ["bare", "scaled"])
def test_a_misread_control_block_is_an_error_not_wrong_numbers(monkeypatch, bad):
    """The read path checks itself: a wrong count of values or other applied voltages raise SpiceError."""
    _ngspice()
    from memspice.spice import SpiceError

    # "bare" is the writer before issue 20 (a minus joins two values into one expression); "scaled" writes
    # the right count of wrong values, which only the read-back of the applied driver voltages can catch
    fake = {"bare": lambda z: repr(float(z)), "scaled": lambda z: f"({float(z) * 1.0000001!r})"}[bad]
    monkeypatch.setattr(mv, "control_number", fake)
    xbar = Crossbar(np.full((2, 2), 1e-4), r_word=1.0, r_bit=1.0)
    with pytest.raises(SpiceError, match="wrong number of values" if bad == "bare" else "applied"):
        mv.read_many_ngspice(xbar, SIGNED)
    with pytest.raises(SpiceError, match="wrong number of values" if bad == "bare" else "applied"):
        simulate_crossbar(xbar, SIGNED, backend="ngspice")


def _badcrossbar_fixtures():
    path = Path(__file__).parent / "data" / "badcrossbar" / "qucs_fixtures.json"
    return json.loads(path.read_text())


@pytest.mark.parametrize("name", sorted(_badcrossbar_fixtures()))
def test_badcrossbar_qucs_fixtures_in_groups_of_three_vectors(name):
    """badcrossbar's own Qucs fixtures (tests/data/badcrossbar), each crossbar's 3 input vectors in one run."""
    _ngspice()
    case = _badcrossbar_fixtures()[name]
    r = np.array([[np.inf if x == "inf" else x for x in row] for row in case["resistances"]], float)
    xbar = Crossbar(1.0 / r, r_word=case["r_word"], r_bit=case["r_bit"])
    v, expected = np.array(case["voltages"]), np.array(case["output_currents"])
    got = simulate_crossbar(xbar, v, backend="ngspice").output_currents
    # Qucs wrote ~10 significant digits; open cells and 0 V vectors give exact zeros
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-12 * max(1.0, np.max(np.abs(expected))))
    np.testing.assert_allclose(mv.read_many_ngspice(xbar, v), got, rtol=1e-12, atol=1e-15)
