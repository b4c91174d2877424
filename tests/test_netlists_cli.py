"""Example netlists, netlist size, and the command line."""

import numpy as np
import pytest

from memspice.circuits.crossbar import Crossbar
from memspice.cli import main
from memspice.netlists import crossbar_netlist
from memspice.netlists.compare import netlist_differences
from memspice.netlists.examples import EXAMPLES_DIR, rendered
from memspice.spice import run

from .conftest import needs_ngspice, needs_osdi


def test_examples_are_up_to_date():
    expected = rendered()
    on_disk = {p.name: p.read_text() for p in EXAMPLES_DIR.iterdir()}
    assert set(on_disk) == set(expected), "regenerate: python -m memspice.netlists.examples"
    for name, text in expected.items():
        diffs = netlist_differences(text, on_disk[name], rtol=1e-9)
        assert not diffs, f"{name} is stale (python -m memspice.netlists.examples): " + "; ".join(diffs)


def test_netlist_comparison_is_number_aware_but_not_blind():
    assert netlist_differences("R1 a b 1.0928e-4\n", "R1 a b 109.28u\n") == []
    assert netlist_differences("R1 a b 0.30000000000000004\n", "R1 a b 0.3\n") == []
    assert netlist_differences("R1 a b 1k\n", "R1 a b 1.001k\n")  # a changed value
    assert netlist_differences("R1 a b 1k\n", "R1 a c 1k\n")  # a changed node
    assert netlist_differences("R1 a b 1k\n", "R1 a b 1k\nR2 b 0 1k\n")  # an added line


#: examples written for LTspice and Xyce (memspice.netlists.dialects): checked in tests/test_dialects.py
OTHER_SIMULATORS = (".ltspice.cir", ".xyce.cir")


@needs_ngspice
@pytest.mark.parametrize(
    "name", sorted(n for n in rendered() if n.endswith(".cir") and not n.endswith(OTHER_SIMULATORS))
)
def test_example_runs_in_ngspice(name):
    res = run((EXAMPLES_DIR / name).read_text(), mode="batch", timeout=120)
    w = res.waveforms
    assert w.names, name
    for sig in w.names:
        assert np.all(np.isfinite(np.asarray(w[sig]))), (name, sig)
    if name.startswith("crossbar_"):
        cols = int(name.split("_")[1].split("x")[1])
        outs = [s for s in w.names if s.startswith("i(vsense") or s.startswith("v(out")]
        assert len(outs) >= cols, (name, outs)  # one output per column (two per signed weight pair)
        assert max(float(np.max(np.abs(w[s]))) for s in outs) > 1e-9, name  # the read produced a signal
    if name == "lif_neuron.cir":
        from memspice.analysis.metrics import spike_times
        from memspice.circuits.lif import LIFNeuron

        assert len(spike_times(w.time, w["v(spk0)"], LIFNeuron().spike_level)) >= 1  # the neuron spikes


def test_netlist_grows_linearly_and_defines_models_once():
    sizes = {}
    for n in (32, 128):
        text = crossbar_netlist(Crossbar(np.full((n, n), 1e-5), cell="1S1R", r_word=1.0, r_bit=1.0), np.ones(n))
        sizes[n] = len(text) / (n * n)
        assert text.count(".subckt ms_selector") == 1 and text.count(".subckt cell_1s1r") == 1
    assert sizes[128] / sizes[32] < 1.2  # bytes per cell stay flat: O(cells)


@needs_ngspice
def test_cli_netlist_and_run(tmp_path, capsys):
    cir = tmp_path / "x.cir"
    assert main(["netlist", "crossbar", "--rows", "4", "--cols", "3", "--tia", "ideal", "-o", str(cir)]) == 0
    csv, npz = tmp_path / "x.csv", tmp_path / "x.npz"
    assert main(["run", str(cir), "--csv", str(csv), "--npz", str(npz)]) == 0
    out = capsys.readouterr().out
    assert "v(out0)" in out and csv.read_text().startswith("index")
    from memspice.analysis import Waveforms

    w = Waveforms.from_npz(npz)
    assert "v(out2)" in w and w.units["v(out2)"] == "V"


def test_cli_reports_errors_without_traceback(tmp_path, capsys):
    assert main(["run", str(tmp_path / "missing.cir")]) == 2
    assert "missing.cir" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["netlist", "crossbar", "--cell", "2R"])


@needs_osdi
def test_cli_verilog_a_face_runs_and_matches_behavioural(tmp_path, capsys):
    values = {}
    for face in ("behavioural", "veriloga"):
        cir = tmp_path / f"{face}.cir"
        assert (
            main(
                [
                    "netlist",
                    "crossbar",
                    "--rows",
                    "4",
                    "--cols",
                    "4",
                    "--cell",
                    "1S1R",
                    "--v-read",
                    "1.0",
                    "--face",
                    face,
                    "-o",
                    str(cir),
                ]
            )
            == 0
        )
        assert ("memspice-osdi" in cir.read_text()) == (face == "veriloga")
        npz = tmp_path / f"{face}.npz"
        assert main(["run", str(cir), "--npz", str(npz)]) == 0
        from memspice.analysis import Waveforms

        values[face] = Waveforms.from_npz(npz)["i(vsense0)"][0]
    assert abs(values["veriloga"] - values["behavioural"]) <= 1e-9 * abs(values["behavioural"])


def test_examples_for_other_simulators_come_from_the_ngspice_ones():
    examples = rendered()
    for suffix in OTHER_SIMULATORS:
        for name in [n for n in examples if n.endswith(suffix)]:
            text, ngspice = examples[name], examples[name.replace(suffix, ".cir")]
            assert "?" not in text and ".control" not in text.lower(), name
            assert len(text.splitlines()) >= len(ngspice.splitlines()), name  # nothing dropped


def test_cli_refuses_to_run_a_netlist_for_another_simulator(capsys):
    assert main(["run", str(EXAMPLES_DIR / "crossbar_8x8_1s1r_tia.ltspice.cir")]) == 2
    err = capsys.readouterr().err
    assert "written for LTspice" in err and "--dialect" in err


def test_cli_dialects_and_their_refusals(tmp_path, capsys):
    for dialect, mark in (("ltspice", "if("), ("xyce", "IF(")):
        cir = tmp_path / f"{dialect}.cir"
        assert main(["netlist", "crossbar", "--cell", "1S1R", "--dialect", dialect, "-o", str(cir)]) == 0
        text = cir.read_text()
        assert mark in text and "?" not in text
    assert main(["netlist", "crossbar", "--dialect", "xyce", "--face", "veriloga"]) == 2
    assert "--dialect xyce --face veriloga" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:  # each target has its own options: --save is crossbar's
        main(["netlist", "lif", "--save", "outputs"])
    assert info.value.code == 2
    refusal = "--save does not apply to 'netlist lif' (it is an option of: cosim, netlist crossbar)"
    assert refusal in capsys.readouterr().err
    weights, inputs = tmp_path / "w.csv", tmp_path / "x.csv"
    weights.write_text("1,2\n3,4\n5,6\n")
    inputs.write_text("0.1,0.2,0.3\n0.3,0.2,0.1\n")
    own = ["netlist", "crossbar", "--weights", str(weights), "--inputs", str(inputs)]
    assert main([*own, "--dialect", "ltspice"]) == 2  # two vectors: an ngspice .control loop
    assert "--dialect ltspice" in capsys.readouterr().err
    cir = tmp_path / "own.cir"
    assert main([*own, "--vector", "1", "--dialect", "xyce", "--save", "outputs", "-o", str(cir)]) == 0
    prints = [ln for ln in cir.read_text().splitlines() if ln.startswith(".PRINT")]
    assert prints and "I(vsense0)".lower() in prints[0].lower() and "V(*)" not in prints[0]


@needs_ngspice
def test_cli_save_outputs_runs_and_prints_only_outputs(tmp_path, capsys):
    cir = tmp_path / "x.cir"
    assert main(["netlist", "crossbar", "--rows", "20", "--cols", "20", "--save", "outputs", "-o", str(cir)]) == 0
    npz = tmp_path / "x.npz"
    assert main(["run", str(cir), "--npz", str(npz)]) == 0
    from memspice.analysis import Waveforms

    w = Waveforms.from_npz(npz)
    assert sorted(w.names) == sorted(
        [f"v(in{i})" for i in range(20)] + [f"v(s{j})" for j in range(20)] + [f"i(vsense{j})" for j in range(20)]
    )


def test_cli_threads(tmp_path, capsys, monkeypatch):
    from memspice.solver import get_threads, set_threads
    from memspice.solver.threads import ENV, max_threads

    monkeypatch.setenv(ENV, str(get_threads()))  # restored (unset) after the test
    weights, inputs = tmp_path / "w.csv", tmp_path / "x.csv"
    weights.write_text("1,2\n3,4\n")
    inputs.write_text("0.1,0.2\n")
    read = ["read", "--weights", str(weights), "--inputs", str(inputs), "--backend", "sparse", "-o"]
    before = get_threads()
    try:
        assert main([*read, str(tmp_path / "o.csv"), "--threads", "1"]) == 0
        assert get_threads() == 1
        import os

        assert os.environ[ENV] == "1"  # worker processes (memspice sweep) inherit it
        assert main([*read, str(tmp_path / "o2.csv"), "--threads", str(max_threads() + 1)]) == 2
        assert "--threads" in capsys.readouterr().err and not (tmp_path / "o2.csv").exists()
        with pytest.raises(SystemExit):
            main([*read, str(tmp_path / "o3.csv"), "--threads", "0"])
        assert "--threads" in capsys.readouterr().err
    finally:
        set_threads(before)


def test_verilog_a_header_names_the_library_by_file_name(monkeypatch, tmp_path):
    from memspice.core import osdi
    from memspice.netlists.builders import OSDI_TAG, osdi_tags, with_osdi

    monkeypatch.setenv("MEMSPICE_CACHE", str(tmp_path / "cache"))
    cached = osdi.cache_dir() / "ms_selector_va-0123456789abcdef.osdi"
    cached.write_bytes(b"not a real library")
    other = tmp_path / "theirs.osdi"
    text = with_osdi("title\nR1 a 0 1\n.op\n.end\n", [cached, other])
    assert osdi_tags(text) == ["ms_selector_va-0123456789abcdef.osdi", str(other)]
    assert str(osdi.cache_dir()) not in text and str(tmp_path / "cache") not in text  # no home-folder path
    assert "pre_osdi" in text and "memspice run" in text  # how to load it by hand
    assert text.splitlines()[1].startswith(OSDI_TAG) and osdi.find_cached(osdi_tags(text)[0]) == cached
