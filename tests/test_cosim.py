"""SPICE-coupled co-simulation end to end: libngspice periphery + memspice arrays vs ngspice alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from memspice.cli import main as cli_main
from memspice.cosim import CosimNetlistError, cosimulate, monolithic_netlist, parse, state_node
from memspice.cosim.coupling import ArraySpec, Coupling
from memspice.cosim.designs import write_design
from memspice.cosim.device import compiler
from memspice.spice import run
from memspice.spice.capabilities import ngspice_info
from memspice.spice.errors import UnsafeNetlistError

DESIGNER = Path(__file__).parent / "data" / "cosim_designer"

needs_cosim = pytest.mark.skipif(
    not ngspice_info().shared_library or compiler() is None,
    reason="co-simulation needs libngspice and a C compiler (for its OSDI port device)",
)


def _rel_err(w, ref, name) -> float:
    """max |cosim - ngspice| over the co-simulation's time points, relative to the signal's full scale."""
    b = np.interp(w.time, ref.time, ref[name])
    return float(np.max(np.abs(w[name] - b)) / max(np.max(np.abs(ref[name])), 1e-30))


def _crossings(t, v, level):
    above = v > level
    k = np.nonzero(above[1:] != above[:-1])[0]
    return t[k] + (level - v[k]) * (t[k + 1] - t[k]) / (v[k + 1] - v[k])


@needs_cosim
def test_16x16_tiox_agrees_with_monolithic_ngspice(tmp_path):
    """CI check: a V/2 write through op-amp drivers, then a read through op-amp TIAs (16 x 16 TiOx)."""
    n = 16
    path = write_design(tmp_path, n, cell="tiox", writes=1, t_write=0.25e-6, t_read=0.2e-6, neurons=False)
    res = cosimulate(path, progress=False)
    w = res.waveforms
    design = parse(path.read_text(), tmp_path)
    periphery = [k for k in w.names if k.startswith("v(") and "." not in k]
    states = [f"v({state_node('xarr', i, j)})" for i in range(n) for j in range(n)]
    ref = run(monolithic_netlist(design, save=periphery + states), timeout=1200).waveforms
    for group in ("wl", "bl", "out"):
        names = [k for k in periphery if k.startswith(f"v({group}")]
        assert len(names) == n
        worst = max(_rel_err(w, ref, k) for k in names)
        assert worst < 1e-3, (group, worst)
    x0 = np.load(tmp_path / "weights.npy")
    x_ref = np.array([[ref[states[i * n + j]][-1] for j in range(n)] for i in range(n)]) + x0
    assert np.max(np.abs(res.states["xarr"] - x_ref)) < 1e-4
    assert np.max(np.abs(res.states["xarr"] - x0)) > 1e-3  # the write pulse did program a cell
    # the arrays' own signals: each bit-line port's current is what the TIA's feedback resistor brings to it
    rf = design.params["rf"]
    for j in range(n):
        feedback = (w[f"v(out{j})"] - w[f"v(bl{j})"]) / rf
        assert np.max(np.abs(w[f"i(xarr.bl{j})"] - feedback)) < 1e-4 * np.max(np.abs(feedback))


@needs_cosim
def test_a_designers_netlist_runs_unmodified_through_the_cli(tmp_path, capsys):
    """tests/data/cosim_designer: written by hand (own op-amp and comparator models in included files, .param,
    upper-case names, a CSV of states); only the array line is memspice's."""
    folder = tmp_path / "designer"
    shutil.copytree(DESIGNER, folder)
    out = tmp_path / "cosim.npz"
    assert cli_main(["cosim", str(folder / "tile.cir"), "--npz", str(out), "--no-progress"]) == 0
    assert "states of xtile: 8 x 6" in capsys.readouterr().out
    mono = tmp_path / "mono.cir"
    assert cli_main(["cosim", str(folder / "tile.cir"), "--write-monolithic", str(mono)]) == 0
    # its .tran runs an operating point, which cannot hold the Verilog-A cells' states: refused, not drifted
    va = ["cosim", str(folder / "tile.cir"), "--write-monolithic", str(tmp_path / "va.cir"), "--face", "veriloga"]
    assert cli_main(va) == 2 and "XTILE (line 36)" in capsys.readouterr().err
    from memspice.core.waveforms import Waveforms

    w = Waveforms.from_npz(out)
    ref = run(mono, base_dir=folder, timeout=1200).waveforms
    for col in "abcdef":
        assert _rel_err(w, ref, f"v(to_{col})") < 1e-3
        assert _rel_err(w, ref, f"v(bl_{col})") < 1e-3
        t_co, t_ref = _crossings(w.time, w[f"v(q_{col})"], 0.6), _crossings(ref.time, ref[f"v(q_{col})"], 0.6)
        assert len(t_co) == len(t_ref) and np.all(np.abs(t_co - t_ref) < 2e-9)  # comparator decisions
    for i in range(8):
        assert _rel_err(w, ref, f"v(wl_{i})") < 1e-3


@needs_cosim
def test_arrays_in_subcircuits_and_two_marks(tmp_path):
    """A marked array inside a .subckt used twice plus one at the top: three arrays, each read exactly."""
    g = np.random.default_rng(3).uniform(10e-6, 90e-6, (3, 2))
    np.save(tmp_path / "g.npy", g)
    text = """* two tiles and a lone array, 1R cells, ideal read
.subckt tile r0 r1 r2 c0 c1
Xa r0 r1 r2 c0 c1 memspice_crossbar weights=g.npy cell=1R r_word=2 r_bit=2
.ends tile
V0 a 0 0.3
V1 b 0 0.5
V2 c 0 0.7
X1 a b c s0 s1 tile
X2 c b a s2 s3 tile
Xlone a c b s4 s5 memspice_crossbar weights=g.npy cell=1S1R
Vs0 s0 0 0
Vs1 s1 0 0
Vs2 s2 0 0
Vs3 s3 0 0
Vs4 s4 0 0
Vs5 s5 0 0
.tran 1n 4n
.end
"""
    (tmp_path / "two.cir").write_text(text)
    res = cosimulate(tmp_path / "two.cir", progress=False)
    w = res.waveforms
    from memspice.circuits.crossbar import Crossbar
    from memspice.solver.dc import solve_dc

    for path, volts, cell, wires in (
        ("x1.xa", [0.3, 0.5, 0.7], "1R", {"r_word": 2.0, "r_bit": 2.0}),
        ("x2.xa", [0.7, 0.5, 0.3], "1R", {"r_word": 2.0, "r_bit": 2.0}),
        ("xlone", [0.3, 0.7, 0.5], "1S1R", {}),
    ):
        expect = solve_dc(Crossbar(conductances=g, cell=cell, **wires), volts).output_currents[0]
        got = -np.array([w[f"i({path}.bl{j})"][-1] for j in range(2)])
        np.testing.assert_allclose(got, expect, rtol=1e-6)
    np.testing.assert_allclose(w["i(vs2)"][-1], -w["i(x2.xa.bl0)"][-1], rtol=1e-6)  # SPICE: into the + node


@needs_cosim
def test_bad_input_is_refused_before_anything_runs(tmp_path, capsys):
    np.save(tmp_path / "w.npy", np.full((2, 2), 0.5))
    base = "* t\nV1 a 0 1\n{mark}\n.tran 1n 2n\n.end\n"
    (tmp_path / "ports.cir").write_text(base.format(mark="Xbad a b c memspice_crossbar weights=w.npy cell=tiox"))
    assert cli_main(["cosim", str(tmp_path / "ports.cir"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "Xbad" in err and "3 nodes" in err and "needs 4" in err
    (tmp_path / "none.cir").write_text(base.format(mark="R1 a 0 1k"))
    with pytest.raises(CosimNetlistError, match="no crossbar is marked"):
        cosimulate(tmp_path / "none.cir", progress=False)
    mark = "X1 a b c d memspice_crossbar weights=w.npy cell=tiox"
    unsafe = base.format(mark=mark).replace(".end\n", ".control\nshell rm -rf /\n.endc\n.end\n")
    (tmp_path / "unsafe.cir").write_text(unsafe)
    with pytest.raises(UnsafeNetlistError, match="shell"):
        cosimulate(tmp_path / "unsafe.cir", progress=False)


def test_failure_report_names_the_ports_that_did_not_converge():
    """What the user reads when the coupling gives up: instance, time and the worst ports."""
    from memspice.circuits.crossbar import Crossbar

    xbar = Crossbar(state=np.full((2, 3), 0.5), cell="tiox", r_word=1.0, r_bit=1.0)
    c = Coupling([ArraySpec("Xarr (line 7)", xbar)])
    v = np.array([1.0, 1.0, 0.0, 0.0, 0.0])
    c.evaluate(0, "nxarr", 0.0, v, 1e-3, 1e-12)
    c.evaluate(0, "nxarr", 0.0, v + np.array([0.5, 0.0, 0.0, 0.2, 0.0]), 1e-3, 1e-12)
    text = c.failure_report()
    assert "Xarr (line 7)" in text and "t = 0 s" in text and "wl0" in text and "bl" in text


def test_the_netlists_reltol_and_abstol_reach_the_coupling():
    """Regression: OSDI passes the simulator parameters' names as C strings; read as cdata keys they never
    matched, so the coupling's convergence test ran at ngspice's defaults whatever the netlist's .options."""
    from cffi import FFI

    ffi = FFI()
    keep = [ffi.new("char[]", name) for name in (b"gmin", b"reltol", b"vntol", b"abstol")]
    names = ffi.new("char *[]", keep + [ffi.NULL])
    values = ffi.new("double[]", [1e-12, 1e-5, 1e-8, 1e-13])
    assert Coupling([]).tolerances(names, values) == (1e-5, 1e-13)
    assert Coupling([]).tolerances(ffi.new("char *[]", [ffi.NULL]), values) == (1e-3, 1e-12)  # none: defaults
