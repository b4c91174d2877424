"""memspice.spice.run runs any ngspice netlist as ngspice -b would (issue 9)."""

import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from memspice.spice import (
    SharedModeBootstrapError,
    SpiceNetlistError,
    SpiceOutputError,
    capabilities,
    read_raw_plots,
    run,
)
from memspice.spice.errors import OsdiUnavailable

from .conftest import INFO, needs_ngspice, needs_shared

MODES = ["batch", pytest.param("shared", marks=needs_shared)]
DIVIDER = "divider\nV1 a 0 1\nR1 a b 1k\nR2 b 0 1k\n"
RC_AC = "rc low-pass\nV1 in 0 DC 0 AC 1\nR1 in out 1k\nC1 out 0 1u\n.ac dec 10 1 100k\n.end\n"


@needs_ngspice
@pytest.mark.parametrize("mode", MODES)
def test_path_input_resolves_relative_includes_against_the_netlist_folder(tmp_path, monkeypatch, mode):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "parts.inc").write_text(".subckt half a b\nR1 a b 1k\n.ends\n")
    net = tmp_path / "top.cir"
    net.write_text("top\n.include lib/parts.inc\nV1 a 0 1\nX1 a b half\nR2 b 0 3k\n.op\n.end\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for netlist in (net, str(net)):
        assert np.isclose(run(netlist, mode=mode).waveforms["v(b)"][0], 0.75)
    # text input: includes resolve against base_dir (default: the current directory)
    assert np.isclose(run(net.read_text(), mode=mode, base_dir=tmp_path).waveforms["v(b)"][0], 0.75)
    with pytest.raises(FileNotFoundError, match="nosuch.cir"):
        run(str(tmp_path / "nosuch.cir"), mode=mode)


@needs_ngspice
@pytest.mark.parametrize("mode", MODES)
def test_control_block_runs_and_every_plot_is_returned(mode):
    net = DIVIDER + ".control\nop\nalter R2 3k\nop\n.endc\n.end\n"
    res = run(net, mode=mode)
    assert list(res.plots) == ["op1", "op2"]
    assert np.isclose(res.plots["op1"]["v(b)"][0], 0.5)
    assert np.isclose(res.plots["op2"]["v(b)"][0], 0.75)
    assert np.isclose(res.waveforms["v(b)"][0], 0.75)  # the last plot


@needs_ngspice
@pytest.mark.parametrize("mode", MODES)
def test_op_and_tran_both_kept_and_meas_returned(mode):
    net = textwrap.dedent("""\
        rc
        V1 in 0 PULSE(0 1 0 1n 1n 1 2)
        R1 in out 1k
        C1 out 0 1u
        .op
        .tran 10u 2m
        .meas tran vhalf FIND v(out) AT=0.5m
        .meas tran never TRIG v(out) VAL=5 RISE=1 TARG v(out) VAL=6 RISE=1
        .end
    """)
    res = run(net, mode=mode)
    assert list(res.plots) == ["op1", "tran1"] and res.waveforms.axis_name == "time"
    assert res.measurements["vhalf"] == pytest.approx(1 - np.exp(-0.5), rel=2e-3)
    assert "never" not in res.measurements
    assert any("never" in w and "failed" in w for w in res.warnings)


@needs_ngspice
@pytest.mark.parametrize("mode", MODES)
def test_ac_results_stay_complex(mode):
    w = run(RC_AC, mode=mode).waveforms
    assert w.axis_name == "frequency" and np.iscomplexobj(w["v(out)"])
    h = w.at("v(out)", 1e4)
    expected = 1 / (1 + 2j * np.pi * 1e4 * 1e-3)
    assert abs(h) == pytest.approx(abs(expected), rel=1e-3)  # 0.0159, not the real part 2.5e-4
    assert np.angle(h) == pytest.approx(np.angle(expected), abs=1e-3)


@needs_ngspice
def test_ascii_raw_files_are_read_like_binary(tmp_path):
    body = (
        "rc\nV1 in 0 DC 1 AC 1\nR1 in out 1k\nC1 out 0 1u\n.control\nset filetype={kind}\nop\n"
        "ac dec 2 1 1k\nwrite {kind}_ac.raw\nsetplot op1\nwrite {kind}_op.raw\n.endc\n.end\n"
    )
    for kind in ("ascii", "binary"):  # write saves the current plot: write both explicitly
        (tmp_path / f"{kind}.cir").write_text(body.format(kind=kind))
        subprocess.run([INFO.executable, "-b", f"{kind}.cir"], cwd=tmp_path, capture_output=True, check=True)
    assert b"Values:" in (tmp_path / "ascii_ac.raw").read_bytes()
    for part in ("ac", "op"):
        (a,), (b,) = read_raw_plots(tmp_path / f"ascii_{part}.raw"), read_raw_plots(tmp_path / f"binary_{part}.raw")
        assert a.names == b.names and a.axis_name == b.axis_name
        for n in a.names:
            np.testing.assert_allclose(a[n], b[n], rtol=1e-12)
        assert np.iscomplexobj(a["v(out)"]) == (part == "ac")


@needs_ngspice
@pytest.mark.parametrize("mode", MODES)
def test_control_without_write_returns_results_and_print_errors_are_warnings(mode):
    res = run(DIVIDER + ".op\n.control\nrun\nprint v(nosuch)\n.endc\n.end\n", mode=mode)
    assert np.isclose(res.waveforms["v(b)"][0], 0.5)
    assert any("nosuch" in w for w in res.warnings)
    # a control block that runs nothing, with no analysis line either, is named as such
    with pytest.raises(SpiceNetlistError, match="no analysis"):
        run(DIVIDER + ".control\necho nothing to do\n.endc\n.end\n", mode=mode)


@needs_ngspice
@pytest.mark.parametrize("mode", MODES)
def test_control_block_without_analysis_runs_the_analysis_lines(mode):
    res = run(DIVIDER + ".op\n.control\nset noaskquit\n.endc\n.end\n", mode=mode)
    assert np.isclose(res.waveforms["v(b)"][0], 0.5)


@needs_ngspice
@pytest.mark.skipif(not INFO.klu, reason="this ngspice was built without KLU")
def test_klu_can_be_turned_off():
    net = DIVIDER + ".options klu\n.op\n.end\n"
    assert "using sparse" in run(net, klu=False).log.lower()
    assert "using klu" in run(net).log.lower()
    assert "using klu" in run(DIVIDER + ".op\n.end\n", klu=True).log.lower()


@needs_ngspice
def test_concurrent_runs_sharing_a_workdir_get_their_own_results(tmp_path):
    results, errors = {}, []

    def work(k):
        try:
            res = run(f"div {k}\nV1 a 0 1\nR1 a b 1k\nR2 b 0 {k + 1}k\n.op\n.end\n", workdir=tmp_path)
            results[k] = res.waveforms["v(b)"][0]
        except Exception as exc:  # noqa: BLE001 - collected and reported below
            errors.append(exc)

    for start in range(0, 20, 4):
        threads = [threading.Thread(target=work, args=(k,)) for k in range(start, start + 4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    for k in range(20):
        assert results[k] == pytest.approx((k + 1) / (k + 2), rel=1e-9), k
    assert len(list(tmp_path.iterdir())) == 20  # one private folder per run, kept because workdir was given


@needs_ngspice
def test_latin1_netlist_file_runs(tmp_path):
    net = tmp_path / "latin.cir"
    net.write_bytes(
        "Tiefpass für Jürgen (Latin-1)\n* Widerstände in kΩ? nein: Ohm\nV1 a 0 1\nR1 a b 1k\nR2 b 0 1k\n"
        ".op\n.end\n".replace("Ω", "O").encode("latin-1")
    )
    assert np.isclose(run(net).waveforms["v(b)"][0], 0.5)


@needs_ngspice
@pytest.mark.parametrize("bad", [-1, 0, float("nan"), "soon"])
def test_bad_timeout_is_named(bad):
    with pytest.raises(ValueError, match="timeout"):
        run(DIVIDER + ".op\n.end\n", timeout=bad)


def test_truncated_raw_file_is_an_os_error(tmp_path):
    header = (
        "Title: x\nDate: now\nPlotname: Transient Analysis\nFlags: real\nNo. Variables: 2\nNo. Points: 100\n"
        "Variables:\n\t0\ttime\ttime\n\t1\tv(a)\tvoltage\nBinary:\n"
    ).encode()
    raw = tmp_path / "r.raw"
    raw.write_bytes(header + np.zeros(200).tobytes())
    assert len(read_raw_plots(raw)[0]) == 100
    raw.write_bytes(header + np.zeros(37).tobytes())  # the disk filled up while ngspice wrote
    with pytest.raises(OSError, match="truncated"):
        read_raw_plots(raw)


@pytest.fixture
def fake_tool(tmp_path, monkeypatch):
    def install(env, body):
        exe = tmp_path / env.lower()
        exe.write_text("#!/bin/sh\n" + body)
        exe.chmod(0o755)
        monkeypatch.setenv(env, str(exe))
        capabilities.ngspice_info.cache_clear()
        return exe

    yield install
    capabilities.ngspice_info.cache_clear()


def test_full_disk_during_the_run_is_an_os_error_not_a_convergence_error(fake_tool):
    fake_tool(
        "MEMSPICE_NGSPICE",
        'case "$1" in -v) echo "** ngspice-46 : fake"; exit 0;; esac\n'
        # the results file the collector names (a random name per run), as ngspice would write it
        "out=$(sed -n 's/^write \\(memspice-results[^ ]*\\.raw\\)$/\\1/p' \"$2\" | head -n 1)\n"
        "printf 'Title: x\\nPlotname: Transient Analysis\\nFlags: real\\nNo. Variables: 2\\n"
        "No. Points: 100\\nVariables:\\n\\t0\\ttime\\ttime\\n\\t1\\tv(a)\\tvoltage\\nBinary:\\n' "
        '> "$out"\nhead -c 100 /dev/zero >> "$out"\n',
    )
    with pytest.raises(SpiceOutputError) as info:
        run(DIVIDER + ".tran 1u 1m\n.end\n")
    assert isinstance(info.value, OSError)


def test_openvaf_errors_have_no_colour_codes(fake_tool, tmp_path, monkeypatch):
    monkeypatch.setenv("MEMSPICE_CACHE", str(tmp_path / "cache"))
    fake_tool("MEMSPICE_NGSPICE", 'echo "** ngspice-46 : fake"\n')
    fake_tool(
        "MEMSPICE_OPENVAF", "printf '\\033[1;31merror\\033[0m: unexpected token \\033[1m;\\033[0m\\n' >&2\nexit 1\n"
    )
    from memspice.spice import compile_veriloga

    with pytest.raises(OsdiUnavailable) as info:
        compile_veriloga("module broken; endmodule", name="broken")
    assert "error: unexpected token ;" in str(info.value) and "\x1b" not in str(info.value)


UNGUARDED = """\
from memspice.spice import run
res = run("divider\\nV1 a 0 1\\nR1 a b 1k\\nR2 b 0 1k\\n.op\\n.end\\n", mode="shared", timeout=60)
print("v(b) =", res.waveforms["v(b)"][0])
"""


@needs_shared
def test_shared_mode_works_from_an_unguarded_script(tmp_path):
    """The worker is a fresh interpreter (issue 20), so it never re-imports the caller's script: no guard needed."""
    script = tmp_path / "unguarded.py"
    script.write_text(UNGUARDED)
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=dict(os.environ)
    )
    assert proc.returncode == 0 and "v(b) = 0.5" in proc.stdout, proc.stderr
    guarded = tmp_path / "guarded.py"
    guarded.write_text("if __name__ == '__main__':\n" + textwrap.indent(UNGUARDED, "    "))
    proc = subprocess.run([sys.executable, str(guarded)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0 and "v(b) = 0.5" in proc.stdout, proc.stderr
    assert SharedModeBootstrapError.__doc__


@needs_ngspice
def test_lib_sections_and_analysis_lines_in_included_files(tmp_path, monkeypatch):
    (tmp_path / "corners.lib").write_text(".lib typ\n.param rb=1k\n.endl typ\n.lib slow\n.param rb=3k\n.endl slow\n")
    (tmp_path / "analysis.inc").write_text(".op\n")
    net = tmp_path / "corner.cir"
    net.write_text("corner\n.lib corners.lib slow\nV1 a 0 1\nR1 a b 1k\nR2 b 0 {rb}\n.include analysis.inc\n.end\n")
    monkeypatch.chdir(tmp_path.parent)
    assert np.isclose(run(net).waveforms["v(b)"][0], 0.75)
