"""Issue 13: one cell object per kind; solver, transient and netlists ask the cell, never its name."""

import re
from pathlib import Path

import numpy as np
import pytest

import memspice
from memspice.circuits.cells import (
    Cell,
    Face,
    ModelCell,
    Resistor,
    SelectorResistor,
    TransistorResistor,
    register,
)
from memspice.circuits.crossbar import Crossbar
from memspice.models import Selector, TiOx
from memspice.netlists import crossbar_netlist
from memspice.solver import simulate_transient, solve_dc

from .conftest import needs_ngspice


class CubicCell(Cell):
    """A user-defined kind: i = g u + k u^3 (a soft nonlinearity), with its own behavioural subckt."""

    name = "cubic"
    k = 2e-5

    def current(self, u, arrays):
        return arrays.g * u + self.k * u**3, arrays.g + 3 * self.k * u**2

    def library(self, face, transient):
        return (
            ".subckt cell_cubic wl bl params: g=1e-6\n"
            f"B1 wl bl I = {{g}}*V(wl,bl) + {self.k}*V(wl,bl)*V(wl,bl)*V(wl,bl)\n.ends cell_cubic\n"
        )

    def instance(self, ref, wl, bl, i, j, xbar, face, transient):
        return f"X{ref} {wl} {bl} cell_cubic g={float(xbar.conductances[i, j])!r}\n"

    def probe(self, ref, face):
        return f"@b.x{ref}.b1[i]", 1.0


@pytest.mark.parametrize(
    "name, kind",
    [
        ("1R", Resistor),
        ("1r", Resistor),
        ("1S1R", SelectorResistor),
        ("1s1r", SelectorResistor),
        ("1T1R", TransistorResistor),
        ("TiOx", ModelCell),
        ("memristor", ModelCell),
    ],
)
def test_string_shorthands_are_case_insensitive_and_build_one_cell_object(name, kind):
    kw = dict(state=np.full((2, 3), 0.5)) if kind is ModelCell else dict(conductances=np.full((2, 3), 1e-5))
    xbar = Crossbar(cell=name, **kw)
    assert isinstance(xbar.cell, kind)
    assert xbar.cell == name.upper() and xbar.cell == name.lower()  # the name still compares equal
    with pytest.raises(ValueError, match="cell must be a Cell or one of"):
        Crossbar(cell="2R", **kw)


def test_cell_objects_carry_their_devices():
    sel = Selector(v0=0.1)
    xbar = Crossbar(np.full((3, 3), 1e-4), cell=SelectorResistor(sel))
    assert xbar.cell.selector is sel
    with pytest.warns(DeprecationWarning, match="xbar.cell.selector"):
        assert xbar.selector is sel
    model = TiOx(on_off_ratio=20.0)
    tiox = Crossbar(state=np.full((3, 3), 0.3), cell=ModelCell(model, "tiox"))
    assert tiox.cell.model is model and tiox.cell.stateful and tiox.cell.data == "state"
    with pytest.raises(ValueError, match="stateful CompactModel"):
        ModelCell(Selector(), "sel")


def test_a_user_defined_cell_runs_in_the_solver_on_every_path():
    rng = np.random.default_rng(3)
    xbar = Crossbar(rng.uniform(1e-6, 1e-4, (110, 100)), cell=CubicCell(), r_word=2.0, r_bit=2.0)
    v = rng.uniform(0, 1, (2, 110))
    ref = solve_dc(xbar, v, method="direct")
    for method in ("cg", "auto"):
        np.testing.assert_allclose(solve_dc(xbar, v, method=method).output_currents, ref.output_currents, rtol=1e-9)
    u = ref.word_line_voltages - ref.bit_line_voltages
    np.testing.assert_allclose(ref.device_currents, xbar.conductances * u + CubicCell.k * u**3, rtol=1e-12)
    linear = solve_dc(Crossbar(xbar.conductances, r_word=2.0, r_bit=2.0), v, method="direct")
    assert np.all(ref.output_currents > linear.output_currents)  # the cubic term conducts extra current


class ScaledResistor(CubicCell):
    """A user-defined linear kind without a ``linear_conductance`` of its own: i = 2 g u (netlist face
    borrowed, unused here)."""

    name = "scaled"
    linear = True

    def current(self, u, arrays):
        return 2.0 * arrays.g * u, np.broadcast_to(2.0 * arrays.g, np.shape(u))


def test_a_user_defined_linear_cell_is_read_with_its_slope_on_both_paths():
    rng = np.random.default_rng(5)
    g = rng.uniform(1e-6, 1e-4, (120, 90))
    xbar = Crossbar(g, cell=ScaledResistor(), r_word=2.0, r_bit=2.0)
    np.testing.assert_array_equal(xbar.cell.linear_conductance(xbar.cell_arrays(), g.size), 2.0 * g.ravel())
    v = rng.uniform(0, 1, (1, 120))
    ref = solve_dc(Crossbar(2.0 * g, r_word=2.0, r_bit=2.0), v, method="direct").output_currents
    for method in ("direct", "structured"):
        np.testing.assert_allclose(solve_dc(xbar, v, method=method).output_currents, ref, rtol=1e-9)


@needs_ngspice
def test_a_user_defined_cell_matches_ngspice_and_registers_a_name():
    from memspice.simulate import simulate_crossbar

    register("Cubic", CubicCell)
    rng = np.random.default_rng(4)
    xbar = Crossbar(rng.uniform(1e-6, 1e-4, (6, 5)), cell="cubic", r_word=3.0, r_bit=3.0)
    assert isinstance(xbar.cell, CubicCell)
    v = rng.uniform(0, 1, 6)
    spice = simulate_crossbar(xbar, v, backend="ngspice")
    sparse = simulate_crossbar(xbar, v, backend="sparse")
    assert spice.info["device_currents"] == "ngspice device currents"
    np.testing.assert_allclose(sparse.output_currents, spice.output_currents, rtol=1e-7)
    np.testing.assert_allclose(sparse.device_currents, spice.device_currents, rtol=1e-6)


def test_netlist_faces_take_the_enum_and_the_old_strings():
    xbar = Crossbar(np.full((2, 2), 1e-4), cell="1S1R", r_word=1.0, r_bit=1.0)
    a = crossbar_netlist(xbar, [0.1, 0.2], face=Face.BEHAVIOURAL)
    assert a == crossbar_netlist(xbar, [0.1, 0.2], face="behavioural")
    assert "Xsel wl mid ms_selector" in a and a.count("cell_1s1r g=") == 4
    with pytest.raises(ValueError, match="face"):
        crossbar_netlist(xbar, [0.1, 0.2], face="spectre")
    t = Crossbar(np.full((2, 2), 1e-4), cell="1T1R")
    text = crossbar_netlist(t, [0.1, 0.2])
    assert "Vg1 g1 0 DC 1.5" in text and "is=0" in text  # supplies and the junction-free model card


def test_transient_needs_a_stateful_cell():
    with pytest.raises(ValueError, match="stateful"):
        simulate_transient(Crossbar(np.full((2, 2), 1e-4)), [lambda t: 0.0] * 2, 1e-6)


def test_no_cell_name_switches_left_in_circuits_netlists_and_solver():
    root = Path(memspice.__file__).parent
    files = (
        [root / "circuits" / "crossbar.py", root / "simulate.py"]
        + sorted((root / "solver").glob("*.py"))
        + sorted((root / "netlists").glob("*.py"))
    )
    pattern = re.compile(r"cell\s*(==|!=|not in|in)\s*[\(\[\"']|cell\.name\s*==")
    offenders = [
        f"{p.name}:{n}" for p in files for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)
    ]
    assert not offenders, offenders


def test_1t1r_with_an_undersized_transistor_warns_and_sized_for_fixes_it():
    import warnings

    from memspice.circuits.cells import DesignWarning, TransistorResistor

    g = np.full((4, 4), 1e-4)
    with pytest.warns(DesignWarning, match=r"takes 20% of the read current .*sized_for"):
        Crossbar(g, cell="1T1R")  # default W/L = 2 at v_gate = 1.5 V: a 4e-4 S channel
    cell = TransistorResistor.sized_for(1e-4, 1.5, max_loss=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DesignWarning)
        xbar = Crossbar(g, cell=cell)
    out = solve_dc(xbar, np.full(4, 0.01)).output_currents  # small signal: the loss the sizing promises
    assert out[0, 0] == pytest.approx(4 * 0.01 * 1e-4 * 0.95, rel=2e-3)
    with pytest.raises(ValueError, match="v_gate"):
        TransistorResistor.sized_for(1e-4, 0.2)
    with pytest.raises(ValueError, match="max_loss"):
        TransistorResistor.sized_for(1e-4, 1.5, max_loss=0)


def test_crossbars_compare_by_value_arrays_included():
    g = np.full((2, 3), 1e-5)
    a = Crossbar(g, r_word=1.0)
    assert a == Crossbar(g.copy(), r_word=1.0)
    assert a != Crossbar(g * 2, r_word=1.0)
    assert a != Crossbar(g, r_word=2.0)
    assert a != Crossbar(g, r_word=1.0, cell="1S1R")
    assert a != Crossbar(g, r_word=1.0, bit_bias=np.array([0.0, 0.0, 0.1]))
    assert a != "crossbar"
    with pytest.raises(TypeError):
        hash(a)


def test_crossbar_of_puts_the_values_where_the_cell_kind_takes_them():
    """Crossbar.of: conductances for conductance kinds, states for stateful ones; a wrong range is refused by
    the field it went to."""
    values = np.array([[0.2, 0.7], [0.5, 0.1]])
    tiox = Crossbar.of("tiox", values, r_word=3.0)
    assert tiox.conductances is None and np.array_equal(tiox.state, values) and tiox.r_word == 3.0
    g = Crossbar.of("1S1R", values * 1e-4)
    assert g.state is None and np.array_equal(g.conductances, values * 1e-4) and g.cell.name == "1S1R"
    with pytest.raises(ValueError, match="state"):
        Crossbar.of("tiox", values * 3)
