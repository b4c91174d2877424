"""Netlists for LTspice and Xyce, and .save of the outputs only (issue 14).

LTspice and Xyce are not installed here: their netlists are checked for the constructs those
simulators do not read, compared number by number with the ngspice netlist they come from, and the
LTspice one is run in ngspice's LTspice-compatible mode (``ngbehavior=ltpsa``, which reads LTspice's
``if()`` and ``&``), where it must give the ngspice netlist's results.
"""

import itertools
import re

import numpy as np
import pytest

from memspice.circuits.crossbar import Crossbar
from memspice.circuits.periphery import IdealTIA, OpAmpTIA
from memspice.core.faces import Face
from memspice.netlists import crossbar_netlist
from memspice.netlists.builders import build_crossbar, build_lif, build_solver, build_write
from memspice.netlists.compare import netlist_differences
from memspice.netlists.crossbar import crossbar_outputs
from memspice.netlists.dialects import (
    SAVE_OUTPUTS_ABOVE,
    Dialect,
    Save,
    convert_expression,
    output_vectors,
    rewrite_ternaries,
    to_dialect,
)
from memspice.netlists.multi_vector import multi_vector_netlist
from memspice.spice import run

from .conftest import needs_ngspice

OTHERS = [Dialect.LTSPICE, Dialect.XYCE]
#: the builders' 1T1R example uses the default, deliberately undersized access transistor
pytestmark = pytest.mark.filterwarnings("ignore:1T1R. the access transistor")


# --- the expression rewriter -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("a ? b : c", "if(a, b, c)"),
        ("(x > 1) ? (x - 1) : 0", "if((x > 1), (x - 1), 0)"),
        ("a ? b : c ? d : e", "if(a, b, if(c, d, e))"),  # right-associative
        ("a ? b ? c : d : e", "if(a, if(b, c, d), e)"),
        ("k*(a > 0 ? a : -a) + 1", "k*(if(a > 0, a, -a)) + 1"),
        ("f(a ? b : c, d)", "f(if(a, b, c), d)"),  # the ternary ends at the argument's comma
        ("x + y*sinh(z)", "x + y*sinh(z)"),  # nothing to rewrite
    ],
)
def test_ternary_rewrite(expr, expected):
    assert rewrite_ternaries(expr) == expected


@pytest.mark.parametrize("bad", ["(a ? b : c", "a ? b", "a : b", "a ? b : c)"])
def test_ternary_rewrite_refuses_malformed_expressions(bad):
    with pytest.raises(ValueError):
        rewrite_ternaries(bad)


def _py(expr: str) -> str:
    """A Python expression with ``if(c, a, b)`` calls (``c ? a : b`` rewritten) evaluated as ``_if``."""
    return expr.replace("if(", "_if(")


def _ternary_to_python(expr: str) -> str:
    """Independent reference: C ternary to Python's conditional expression, by a tiny recursive parser."""
    tokens = re.findall(r"[A-Za-z_]\w*|\d+\.?\d*|[()?:<>+*-]", expr)
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def ternary():
        cond = comparison()
        if peek() == "?":
            take()
            yes = ternary()
            assert take() == ":"
            no = ternary()
            return f"(({yes}) if ({cond}) else ({no}))"
        return cond

    def comparison():
        left = additive()
        while peek() in ("<", ">"):
            left = f"({left} {take()} {additive()})"
        return left

    def additive():
        left = product()
        while peek() in ("+", "-"):
            left = f"({left} {take()} {product()})"
        return left

    def product():
        left = atom()
        while peek() == "*":
            left = f"({left} {take()} {atom()})"
        return left

    def atom():
        tok = take()
        if tok == "(":
            inner = ternary()
            assert take() == ")"
            return f"({inner})"
        return tok

    out = ternary()
    assert pos == len(tokens)
    return out


def _random_ternary(rng, depth):
    if depth == 0 or rng.random() < 0.25:
        return str(rng.choice(["x", "y", "z", "1", "2"]))
    kind = rng.integers(3)
    a, b, c = (_random_ternary(rng, depth - 1) for _ in range(3))
    # comparison operands in parentheses (C and Python chain comparisons differently); branches bare
    if kind == 0:
        return f"({a}) > ({b}) ? {c} : {_random_ternary(rng, depth - 1)}"
    if kind == 1:
        return f"(({a}) < ({b}) ? {c} : {a}) + {b}"
    return f"({a}) * (({b}) > 1 ? {c} : ({b}))"


def test_ternary_rewrite_keeps_the_value_of_random_nested_expressions():
    rng = np.random.default_rng(0)
    scope = {"_if": lambda c, a, b: a if c else b}
    for _ in range(200):
        expr = _random_ternary(rng, 3)
        rewritten = rewrite_ternaries(expr)
        assert "?" not in rewritten and ":" not in rewritten
        for x, y, z in itertools.product((-1.5, 2.5), repeat=3):
            env = scope | {"x": x, "y": y, "z": z}
            assert eval(_py(rewritten), env) == eval(_ternary_to_python(expr), env), expr  # noqa: S307


def test_expression_conversion_per_dialect():
    expr = "a^2 + (b && !c || d != 0 ? log(e) : log10(f))"
    lt = convert_expression(expr, Dialect.LTSPICE)
    assert lt == "a**2 + (if(b & !c | d != 0, log(e), log10(f)))"  # LTspice's log is natural, ^ is XOR
    xy = convert_expression(expr, "xyce")
    assert xy == "a**2 + (IF(b & ~c | d != 0, ln(e), log10(f)))"  # Xyce's log is base 10, ! is ~
    assert convert_expression(expr, Dialect.NGSPICE) == expr


def test_enums_parse_and_name_the_bad_value():
    assert Dialect.parse("LTspice") is Dialect.LTSPICE and Save.parse("outputs") is Save.OUTPUTS
    with pytest.raises(ValueError, match="dialect"):
        Dialect.parse("spectre")
    with pytest.raises(ValueError, match="save"):
        Save.parse("some")


# --- whole netlists --------------------------------------------------------------------------------
def _netlists(dialect):
    """Every builder, every cell kind, both read-outs: the constructs memspice writes."""
    out = {
        f"crossbar {cell}": build_crossbar(4, 3, cell, v_read=1.0, dialect=dialect)
        for cell in ("1R", "1S1R", "1T1R", "tiox", "memristor")
    }
    out["crossbar opamp"] = build_crossbar(4, 3, "1S1R", tia="opamp", dialect=dialect)
    out["crossbar signed ideal"] = build_crossbar(4, 3, "1R", signed=True, tia="ideal", dialect=dialect)
    out["lif"] = build_lif(dialect=dialect)
    out["solver"] = build_solver(dialect=dialect)
    out["write"] = build_write(4, 4, "1S1R", row=1, col=2, dialect=dialect)
    return out


def _code(text):
    return [ln for ln in text.splitlines()[1:] if ln.strip() and not ln.lstrip().startswith("*")]


@pytest.mark.parametrize("dialect", OTHERS)
def test_other_dialects_have_no_ngspice_only_constructs(dialect):
    ng = _netlists(Dialect.NGSPICE)
    assert any("?" in t for t in ng.values())  # the models do write C-style conditionals
    for name, text in _netlists(dialect).items():
        code = _code(text)
        assert text.splitlines()[1].startswith(f"* written for {'LTspice' if dialect is Dialect.LTSPICE else 'Xyce'}")
        for line in code:
            assert "?" not in line and "&&" not in line and "||" not in line, (name, line)
            assert not line.lower().startswith((".control", ".endc", "n")), (name, line)
            if line[0] in "Bb":
                assert "^" not in line, (name, line)  # XOR in both
        assert not any("klu" in ln.lower() for ln in code), name
        if dialect is Dialect.XYCE:
            for line in code:
                low = line.lower()
                if low.startswith("b"):
                    assert re.search(r"\b[IV]=\{.*\}$", line), (name, line)  # Xyce needs braces
                    assert not re.search(r"\blog\(", low), (name, line)
                if low.startswith("x") and "=" in line:
                    assert " PARAMS: " in line, (name, line)
                assert not low.startswith((".save", ".options")), (name, line)
            assert any(ln.startswith(".PRINT ") for ln in code), name
            analysis = "TRAN" if name == "lif" else "DC"
            assert all(ln.startswith(f".PRINT {analysis} ") for ln in code if ln.startswith(".PRINT")), name


@pytest.mark.parametrize("dialect", OTHERS)
def test_only_expressions_and_dialect_lines_change(dialect):
    """Read back with the number-aware comparison: every other line is the ngspice netlist's, numbers equal."""
    for (name, ng), other in zip(_netlists(Dialect.NGSPICE).items(), _netlists(dialect).values()):
        keep = lambda ln: (
            not ln.startswith(("B", "* written for"))  # noqa: E731
            and not (dialect is Dialect.XYCE and ln.startswith(("X", ".options", ".PRINT", "* .options")))
        )
        a = "\n".join(ln for ln in ng.splitlines() if keep(ln))
        b = "\n".join(ln for ln in other.splitlines() if keep(ln))
        assert netlist_differences(a, b, rtol=1e-12) == [], name
        if dialect is Dialect.XYCE:  # subcircuit calls: the same tokens and numbers once PARAMS: is dropped
            xa = [ln for ln in ng.splitlines() if ln.startswith("X")]
            xb = [ln.replace(" PARAMS:", "") for ln in other.splitlines() if ln.startswith("X")]
            assert netlist_differences("\n".join(xa), "\n".join(xb), rtol=1e-12) == [], name


#: functions with the same name and meaning in ngspice, LTspice and Xyce (their manuals' function tables)
PORTABLE = {"v", "i", "ln", "exp", "sqrt", "abs", "pow", "tanh", "sinh", "cosh", "sin", "cos", "min", "max"}


def test_models_and_circuits_use_only_functions_all_three_simulators_have():
    from memspice.models import MODELS

    texts = list(_netlists(Dialect.NGSPICE).values())
    texts += [t for cls in MODELS.values() for t in (cls().spice_subckt(), cls().spice_frozen_subckt())]
    used = set()
    for text in texts:
        for line in _code(text):
            expr = (
                re.sub(r"^\S+\s+\S+\s+\S+\s+[IV]\s*=", "", line)
                if line[0] in "Bb"
                else " ".join(re.findall(r"\{[^}]*\}", line))
            )
            used |= {f.lower() for f in re.findall(r"([A-Za-z_]\w*)\s*\(", expr)}
    assert {"ln", "exp", "pow", "tanh"} <= used  # the check sees the models' expressions
    assert used <= PORTABLE, used - PORTABLE  # a new function: check LTspice's and Xyce's tables, then add it


def test_verilog_a_face_and_control_blocks_are_refused_for_other_simulators():
    xbar = Crossbar(np.full((2, 2), 1e-5), cell="1S1R")
    for dialect in OTHERS:
        with pytest.raises(ValueError, match="behavioural"):
            crossbar_netlist(xbar, [0.1, 0.2], face=Face.VERILOG_A, dialect=dialect)
        with pytest.raises(ValueError, match="behavioural"):
            build_lif(face=Face.VERILOG_A, dialect=dialect)
        with pytest.raises(ValueError, match="vector"):
            multi_vector_netlist(xbar, np.array([[0.1, 0.2], [0.2, 0.1]]), dialect=dialect)
        text = multi_vector_netlist(xbar, np.array([[0.1, 0.2], [0.2, 0.1]]))
        with pytest.raises(ValueError, match=r"\.control"):
            to_dialect(text, dialect)
        with pytest.raises(ValueError, match="Verilog-A"):
            to_dialect("t\nNsel a b m\n.op\n.end\n", dialect)


# --- LTspice netlists in ngspice's LTspice-compatible mode -------------------------------------------
@pytest.fixture
def ltspice_mode(tmp_path, monkeypatch):
    """ngspice reads ``~/.spiceinit``: one with ``set ngbehavior=ltpsa`` makes it read LTspice syntax."""

    def run_lt(text):
        home = tmp_path / "home"
        home.mkdir(exist_ok=True)
        (home / ".spiceinit").write_text("set ngbehavior=ltpsa\n")
        with monkeypatch.context() as m:
            m.setenv("HOME", str(home))
            return run(text, timeout=120)

    return run_lt


def _max_rel(a, b, names):
    x = np.concatenate([np.real(np.asarray(a[n])) for n in names])
    y = np.concatenate([np.real(np.asarray(b[n])) for n in names])
    return float(np.max(np.abs(x - y)) / np.max(np.abs(x)))


@needs_ngspice
@pytest.mark.parametrize(("cell", "v_max"), [("1S1R", 3.2), ("tiox", 2.5), ("memristor", 1.0)])
def test_ltspice_netlist_gives_the_ngspice_results(ltspice_mode, cell, v_max):
    """Inputs of both signs past the models' linear-continuation voltages: every ?: branch is used."""
    rng = np.random.default_rng(1)
    if cell == "1S1R":
        xbar = Crossbar(rng.uniform(1e-5, 1e-4, (4, 3)), cell=cell, r_word=1.0, r_bit=1.0)
    else:
        xbar = Crossbar(state=rng.uniform(0, 1, (4, 3)), cell=cell, r_word=1.0, r_bit=1.0)
    v = np.array([1.0, -1.0, 0.3, -0.6]) * v_max
    ng = run(crossbar_netlist(xbar, v, sense=OpAmpTIA(r_f=1e3)), timeout=120).waveforms
    text = crossbar_netlist(xbar, v, sense=OpAmpTIA(r_f=1e3), dialect=Dialect.LTSPICE)
    assert ("if(" in text) == (cell != "memristor") and "?" not in text
    lt = ltspice_mode(text).waveforms
    names = [f"v(out{j})" for j in range(3)]
    assert min(abs(ng[n][0]) for n in names) > 1e-6  # a real read
    assert _max_rel(ng, lt, names) <= 1e-9


@needs_ngspice
def test_ltspice_lif_transient_gives_the_ngspice_waveform(ltspice_mode):
    ng = run(build_lif(t_stop=5e-6), timeout=120).waveforms
    lt = ltspice_mode(build_lif(t_stop=5e-6, dialect=Dialect.LTSPICE)).waveforms
    assert len(ng.time) == len(lt.time) and np.allclose(ng.time, lt.time, rtol=1e-12, atol=0)
    assert _max_rel(ng, lt, ["v(spk0)", "v(mem0)"]) <= 1e-9


# --- .save only the outputs ------------------------------------------------------------------------
def test_large_arrays_save_only_the_outputs():
    text = build_crossbar(100, 100, "1R")
    saved = [name for ln in text.splitlines() if ln.startswith(".save") for name in ln.split()[1:]]
    assert 100 * 100 > SAVE_OUTPUTS_ABOVE
    assert saved == crossbar_outputs(100, 100) == output_vectors(text)
    assert len(saved) == 100 + 100 + 100 and "i(vsense99)" in saved and "v(in99)" in saved
    assert not any(name.startswith(("v(w", "v(b")) for name in saved)  # no internal line nodes
    assert text.index(".save") < text.index("\n.op")
    assert ".save" not in build_crossbar(64, 64, "1R")  # the threshold: 64x64 keeps everything
    assert ".save" not in build_crossbar(100, 100, "1R", save=Save.ALL)
    opamp = build_crossbar(3, 2, "1R", tia="opamp", save="outputs")
    assert ".save v(in0) v(in1) v(in2) v(s0) v(s1) v(out0) v(out1)" in opamp  # no Vsense with an op-amp TIA
    assert crossbar_outputs(3, 2, IdealTIA()) == ["v(in0)", "v(in1)", "v(in2)", "v(s0)", "v(s1)"] + [
        "i(vsense0)",
        "i(vsense1)",
        "v(out0)",
        "v(out1)",
    ]


def test_xyce_prints_what_ngspice_saves():
    text = build_crossbar(3, 2, "1R", save=Save.OUTPUTS, dialect=Dialect.XYCE)
    prints = [ln for ln in text.splitlines() if ln.startswith(".PRINT")]
    names = [name for ln in prints for name in ln.split()[3:]]
    assert prints[0].startswith(".PRINT DC FORMAT=CSV") and names == crossbar_outputs(3, 2)
    assert ".PRINT DC FORMAT=CSV V(*) I(*)" in build_crossbar(3, 2, "1R", dialect=Dialect.XYCE)


@needs_ngspice
def test_saved_outputs_run_and_come_back():
    xbar = Crossbar(np.random.default_rng(2).uniform(1e-5, 1e-4, (20, 20)), r_word=1.0, r_bit=1.0)
    v = np.random.default_rng(3).uniform(0, 0.2, 20)
    full = run(crossbar_netlist(xbar, v), timeout=120).waveforms
    small = run(crossbar_netlist(xbar, v, save=Save.OUTPUTS), timeout=120).waveforms
    assert set(small.names) == set(crossbar_outputs(20, 20))
    assert len(full.names) > 3 * len(small.names)
    for name in small.names:
        assert small[name][0] == pytest.approx(full[name][0], rel=1e-12, abs=1e-18)
