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


@needs_ngspice
@pytest.mark.parametrize("name", sorted(n for n in rendered() if n.endswith(".cir")))
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
