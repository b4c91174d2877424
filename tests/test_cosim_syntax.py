"""Co-simulation input: the crossbar mark, its errors, .param expressions and the two netlists it makes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memspice.cosim import CosimNetlistError, cosim_netlist, monolithic_netlist, parse
from memspice.cosim.partition import has_uic, monolithic_osdi, state_node
from memspice.cosim.syntax import evaluate, logical_lines


def _weights(tmp_path, m=3, n=2, kind="state", name="w.npy"):
    data = np.full((m, n), 0.4) if kind == "state" else np.full((m, n), 20e-6)
    np.save(tmp_path / name, data)
    return tmp_path / name


def _netlist(line: str, extra: str = "") -> str:
    return f"* test\n.param rw=10 two=2\n{extra}R1 a 0 1k\n{line}\n.tran 1n 10n\n.end\n"


def test_mark_with_continuations_params_and_comments(tmp_path):
    _weights(tmp_path)
    text = _netlist(
        "X1 a b c ; three word lines\n+ d e memspice_crossbar weights=w.npy\n* a comment between\n"
        "+ cell=TiOx r_word={rw*two} r_bit = rw c_word=1f $ line capacitance"
    )
    design = parse(text, tmp_path)
    (mark,) = design.marked
    assert mark.name == "X1" and mark.line == 4 and mark.nodes == ("a", "b", "c", "d", "e")
    assert mark.xbar.shape == (3, 2) and mark.xbar.cell.name == "tiox"
    assert mark.xbar.r_word == 20.0 and mark.xbar.r_bit == 10.0 and mark.xbar.c_word == 1e-15
    assert mark.label == "X1 (line 4)"


def test_cosim_netlist_replaces_only_the_mark_and_keeps_line_numbers(tmp_path):
    _weights(tmp_path)
    text = _netlist("X1 a b c\n+ d e memspice_crossbar weights=w.npy cell=tiox")
    out = cosim_netlist(parse(text, tmp_path))
    lines = out.splitlines()
    assert lines[3] == "NX1 a b c d e memspice_cosim5 cosim_id=0"
    assert lines[4].startswith("*")  # the continuation line, now a comment: line numbers kept
    assert ".model memspice_cosim5 memspice_port5" in out
    assert "R1 a 0 1k" in out and out.rstrip().endswith(".end")


def test_monolithic_netlist_expands_the_array_and_holds_states(tmp_path):
    _weights(tmp_path)
    text = _netlist("X1 a b c d e memspice_crossbar weights=w.npy cell=tiox r_word=1 r_bit=1")
    out = monolithic_netlist(parse(text, tmp_path))
    assert "X1 a b c d e memspice_xbar0" in out
    assert ".subckt memspice_xbar0 in0 in1 in2 s0 s1" in out
    assert out.count("ms_tiox x0=") == 6
    assert f"v({state_node('X1', 2, 1)})=0" in out  # states held at their marked values during the OP
    uic = monolithic_netlist(parse(text.replace(".tran 1n 10n", ".tran 1n 10n uic"), tmp_path))
    assert ".ic" not in uic and has_uic(uic)


def test_monolithic_verilog_a_face_names_its_state_nodes_and_needs_uic(tmp_path):
    """The Verilog-A face's states are OSDI internal nodes, ``n.x1.nc2_1#u``; ngspice's .ic does not hold
    them, so a netlist that runs an operating point is refused instead of giving a drifted reference."""
    _weights(tmp_path)
    text = _netlist("X1 a b c d e memspice_crossbar weights=w.npy cell=tiox r_word=1 r_bit=1")
    assert state_node("X1", 2, 1, "veriloga") == "n.x1.nc2_1#u"
    with pytest.raises(ValueError, match="X1.*Verilog-A.*uic"):
        monolithic_netlist(parse(text, tmp_path), face="veriloga")
    design = parse(text.replace(".tran 1n 10n", ".tran 1n 10n uic"), tmp_path)
    out = monolithic_netlist(design, face="veriloga")
    assert "memspice-osdi" not in monolithic_netlist(design)
    assert out.count("Nc") == 6 and ".ic" not in out
    assert monolithic_osdi(design) == []
    from memspice.spice.capabilities import ngspice_info

    if ngspice_info().osdi:  # compiling needs openvaf-r (the runs against ngspice skip without it)
        (library,) = monolithic_osdi(design, "veriloga")
        assert Path(library).suffix == ".osdi"
        assert f"* memspice-osdi: {Path(library).name}" in out  # memspice run loads it from the header


@pytest.mark.parametrize(
    "line, message",
    [
        ("X7 a b c d memspice_crossbar weights=w.npy cell=tiox", "X7.*4 nodes.*3 x 2.*5"),
        ("X7 a b c d e memspice_crossbar weights=missing.npy", "X7.*weights file not found.*missing.npy"),
        ("X7 a b c d e memspice_crossbar weights=w.npy cell=unobtainium", "X7.*unobtainium"),
        ("X7 a b c d e memspice_crossbar weights=w.npy color=red", "X7.*unknown parameter 'color'"),
        ("X7 a b c d e memspice_crossbar cell=tiox", "X7.*needs weights=FILE"),
        ("X7 a b c d e memspice_crossbar weights=w.npy r_word={nope*2}", "X7.*r_word.*unknown parameter 'nope'"),
        ("X7 a b c d e memspice_crossbar weights=w.npy cell=1t1r", "X7.*three-terminal"),
        ("X7 a b c d e memspice_crossbar weights=w.npy save=everything", "X7.*save='everything'"),
    ],
)
def test_bad_marks_name_the_instance_and_line(tmp_path, line, message):
    _weights(tmp_path)
    with pytest.raises(CosimNetlistError, match=f"line 4.*{message}"):
        parse(_netlist(line), tmp_path)


def test_conductance_cells_check_their_data(tmp_path):
    _weights(tmp_path)  # states in [0, 1] are fine conductances (S) too; negative ones are not
    np.save(tmp_path / "neg.npy", -np.ones((3, 2)))
    with pytest.raises(CosimNetlistError, match="line 4.*X2.*conductances must be >= 0"):
        parse(_netlist("X2 a b c d e memspice_crossbar weights=neg.npy cell=1s1r"), tmp_path)
    np.save(tmp_path / "big.npy", np.full((3, 2), 2.0))
    with pytest.raises(CosimNetlistError, match="line 4.*X2.*state must be"):
        parse(_netlist("X2 a b c d e memspice_crossbar weights=big.npy cell=tiox"), tmp_path)


def test_reserved_name_cannot_be_defined(tmp_path):
    with pytest.raises(CosimNetlistError, match="line 2.*reserved"):
        parse("* t\n.subckt memspice_crossbar a b\nR1 a b 1\n.ends\n.end\n", tmp_path)


def test_marks_in_subcircuits_and_control_blocks(tmp_path):
    _weights(tmp_path)
    text = (
        "* t\n.subckt tile p q r s t\nXa p q r s t memspice_crossbar weights=w.npy cell=1s1r\n.ends tile\n"
        "X1 a b c d e tile\nX2 f g h i j tile\n.control\n* X9 a memspice_crossbar\necho hi\n.endc\n.tran 1n 2n\n.end\n"
    )
    design = parse(text, tmp_path)
    assert [m.in_subckt for m in design.marked] == ["tile"]
    with pytest.raises(ValueError, match="inside .subckt tile needs"):
        monolithic_netlist(parse(text.replace("1s1r", "tiox"), tmp_path))


def test_two_marks_with_one_name_in_one_scope(tmp_path):
    _weights(tmp_path)
    line = "X1 a b c d e memspice_crossbar weights=w.npy"
    with pytest.raises(CosimNetlistError, match="second marked instance named X1"):
        parse(_netlist(line + "\n" + line), tmp_path)


def test_logical_lines_skip_title_comments_and_control():
    text = "title X1 memspice_crossbar\n* c\nR1 a b\n+ 1k\n.control\nrun\n.endc\nC1 a 0 1p ; cap\n"
    got = [(ln.text, ln.first, ln.last) for ln in logical_lines(text)]
    assert got == [("R1 a b 1k", 2, 3), ("C1 a 0 1p", 7, 7)]


# -- expressions (untrusted text: only arithmetic) ----------------------------------------------------------
@pytest.mark.parametrize(
    "text, value",
    [("10", 10.0), ("2.5k", 2500.0), ("1f", 1e-15), ("{rw*2}", 20.0), ("'rw/4+1meg'", 1e6 + 2.5), ("rw", 10.0)],
)
def test_evaluate_numbers_and_params(text, value):
    assert evaluate(text, {"rw": 10.0}) == pytest.approx(value)


@pytest.mark.parametrize(
    "text",
    ["{__import__('os')}", "{rw.__class__}", "{open('x')}", "{[1,2]}", "{lambda: 1}", "{9**9**9}", "{1/0}"],
)
def test_evaluate_refuses_everything_but_arithmetic(text):
    with pytest.raises(ValueError):
        evaluate(text, {"rw": 10.0})


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.5, 1e3, allow_nan=False), min_size=3, max_size=3),
    st.sampled_from(["+", "-", "*", "/"]),
    st.sampled_from(["+", "-", "*", "/"]),
)
def test_evaluate_matches_python_arithmetic(values, op1, op2):
    a, b, c = values
    expr = f"{a!r} {op1} ({b!r} {op2} p)"
    try:
        expected = eval(expr.replace("p", repr(c)))  # noqa: S307 - test oracle on generated arithmetic
    except ZeroDivisionError:
        with pytest.raises(ValueError, match="cannot evaluate"):
            evaluate("{" + expr + "}", {"p": c})
        return
    got = evaluate("{" + expr + "}", {"p": c})
    assert math.isclose(got, expected, rel_tol=1e-12, abs_tol=1e-12)


def test_write_design_sizes_the_neurons_on_the_read_currents_with_ir_drop(tmp_path):
    """sizing="wires": gm from memspice's DC read with the line and driver resistances (IR drop lowers the
    column currents, so gm rises by the ratio of the mean currents); without line resistance only the
    drivers' 100 Ohm is left, so gm lies between; the default design is today's (ideal wires)."""
    import re

    from memspice.cosim.designs import write_design

    def gm(path) -> float:
        return evaluate(re.search(r"gm=(\S+)", path.read_text()).group(1), {})

    for cell in ("1s1r", "tiox"):
        ideal = write_design(tmp_path / f"{cell}i", 24, cell=cell)
        wires = write_design(tmp_path / f"{cell}w", 24, cell=cell, sizing="wires")
        assert gm(ideal) == gm(write_design(tmp_path / f"{cell}d", 24, cell=cell, sizing="ideal"))
        assert 1.0 < gm(wires) / gm(ideal) < 3  # 24 x 24, 10 Ohm segments: TiOx 2.5 %, 1S1R tens of % IR drop
        flat = write_design(tmp_path / f"{cell}f", 24, cell=cell, sizing="wires", r_line=0.0)
        assert 1.0 <= gm(flat) / gm(ideal) < gm(wires) / gm(ideal)  # only the drivers' 100 Ohm is left
    with pytest.raises(ValueError, match="sizing|ideal|wires"):
        write_design(tmp_path / "bad", 4, sizing="everything")
