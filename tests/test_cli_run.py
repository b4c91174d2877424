"""Command line: bad input named, outputs saved atomically and before printing, untrusted netlists (issue 9)."""

import io
import os

import numpy as np
import pytest

from memspice.analysis import Waveforms
from memspice.cli import main

from .conftest import needs_ngspice

DIVIDER = "divider\nV1 a 0 1\nR1 a b 1k\nR2 b 0 1k\n.op\n.end\n"


@pytest.mark.parametrize(
    "argv, option",
    [
        (["netlist", "crossbar", "--rows", "-3"], "--rows"),
        (["netlist", "crossbar", "--cols", "0"], "--cols"),
        (["netlist", "crossbar", "--v-read", "inf"], "--v-read"),
        (["netlist", "crossbar", "--v-read", "nan"], "--v-read"),
        (["netlist", "crossbar", "--seed", "-1"], "--seed"),
        (["netlist", "crossbar", "--g-min", "0"], "--g-min"),
        (["netlist", "crossbar", "--stuck-on", "1.5"], "--stuck-on"),
        (["netlist", "lif", "--t-stop", "0"], "--t-stop"),
        (["run", "x.cir", "--timeout", "-1"], "--timeout"),
        (["run", "x.cir", "--timeout", "nan"], "--timeout"),
        (["run", "x.cir", "--max-print", "-2"], "--max-print"),
    ],
)
def test_bad_option_values_name_the_option(argv, option, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}" in err and "Traceback" not in err


def test_too_large_arrays_are_refused_before_allocation(capsys):
    assert main(["netlist", "crossbar", "--rows", "1000000", "--cols", "1000000"]) == 2
    err = capsys.readouterr().err
    assert "--rows 1000000 --cols 1000000" in err and "GB" in err


def test_row_outside_the_array_is_named(capsys):
    assert main(["netlist", "write", "--rows", "4", "--cols", "4", "--row", "7"]) == 2
    assert "--row 7" in capsys.readouterr().err


@pytest.fixture
def netlist(tmp_path):
    path = tmp_path / "divider.cir"
    path.write_text(DIVIDER)
    return path


@needs_ngspice
def test_unknown_signal_lists_the_available_ones(netlist, capsys):
    assert main(["run", str(netlist), "--signals", "v(nosuch)"]) == 2
    err = capsys.readouterr().err
    assert "v(nosuch)" in err and "v(b)" in err and "available" in err


@needs_ngspice
def test_broken_pipe_does_not_lose_the_csv(netlist, tmp_path, monkeypatch):
    class ClosedPipe(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    csv, npz = tmp_path / "out.csv", tmp_path / "out.npz"
    monkeypatch.setattr("sys.stdout", ClosedPipe())
    assert main(["run", str(netlist), "--csv", str(csv), "--npz", str(npz)]) == 141
    monkeypatch.undo()
    assert "v(b)_V" in csv.read_text() and Waveforms.from_npz(npz)["v(b)"][0] == pytest.approx(0.5)


@needs_ngspice
def test_outputs_are_atomic_a_failed_write_keeps_the_old_file(netlist, tmp_path, monkeypatch, capsys):
    csv = tmp_path / "out.csv"
    csv.write_text("previous good results\n")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    assert main(["run", str(netlist), "--csv", str(csv)]) == 2
    assert "No space left" in capsys.readouterr().err
    assert csv.read_text() == "previous good results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["divider.cir", "out.csv"]  # no temp file left


def test_netlist_output_is_atomic(tmp_path, monkeypatch, capsys):
    out = tmp_path / "x.cir"
    out.write_text("old netlist\n")
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    assert main(["netlist", "crossbar", "--rows", "2", "--cols", "2", "-o", str(out)]) == 2
    assert out.read_text() == "old netlist\n"


@needs_ngspice
def test_header_osdi_lines_do_not_load_libraries(tmp_path, capsys):
    evil = tmp_path / "evil.so"
    evil.write_bytes(b"\x7fELF not really")
    net = tmp_path / "tagged.cir"
    net.write_text(f"tagged\n* memspice-osdi: {evil}\n" + DIVIDER.split("\n", 1)[1])
    assert main(["run", str(net)]) == 2
    err = capsys.readouterr().err
    assert "--trust-header-osdi" in err and "--osdi" in err and str(evil) in err


@needs_ngspice
def test_shell_needs_allow_shell(tmp_path, capsys):
    marker = tmp_path / "ran"
    net = tmp_path / "shell.cir"
    net.write_text(DIVIDER.replace(".end\n", f".control\nrun\nshell touch {marker}\n.endc\n.end\n"))
    assert main(["run", str(net)]) == 2
    assert "--allow-shell" in capsys.readouterr().err and not marker.exists()
    assert main(["run", str(net), "--allow-shell"]) == 0 and marker.exists()


@needs_ngspice
def test_latin1_netlist_and_ac_csv(tmp_path, capsys):
    net = tmp_path / "ac.cir"
    net.write_bytes(
        "Tiefpass für Jürgen\nV1 in 0 DC 0 AC 1\nR1 in out 1k\nC1 out 0 1u\n.ac dec 10 1 100k\n.end\n".encode("latin-1")
    )
    csv = tmp_path / "ac.csv"
    assert main(["run", str(net), "--csv", str(csv), "--solver", "sparse"]) == 0
    header = csv.read_text().splitlines()[0]
    assert header.startswith("frequency_Hz") and "re(v(out))_V" in header and "im(v(out))_V" in header
    data = np.loadtxt(csv, delimiter=",", skiprows=1)
    cols = header.split(",")
    h = data[:, cols.index("re(v(out))_V")] + 1j * data[:, cols.index("im(v(out))_V")]
    f = data[:, 0]
    np.testing.assert_allclose(np.abs(h), 1 / np.abs(1 + 2j * np.pi * f * 1e-3), rtol=1e-6)
