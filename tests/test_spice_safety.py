"""Untrusted netlists: no shell commands, libraries or stray files unless the caller opts in (issue 9)."""

import pytest

from memspice.spice import UnsafeNetlistError, run
from memspice.spice.safety import check_netlist

from .conftest import needs_ngspice, needs_shared

MODES = ["batch", pytest.param("shared", marks=needs_shared)]
CIRCUIT = "divider\nV1 a 0 1\nR1 a b 1k\nR2 b 0 1k\n.op\n"


def _with_control(*commands):
    return CIRCUIT + ".control\nrun\n" + "\n".join(commands) + "\n.endc\n.end\n"


@needs_ngspice
@pytest.mark.parametrize("mode", MODES)
def test_shell_command_is_refused_and_not_run(tmp_path, mode):
    marker = tmp_path / "pwned"
    for cmd in (f"shell touch {marker}", f"echo `touch {marker}`", f"pre_shell touch {marker}"):
        with pytest.raises(UnsafeNetlistError, match="allow_shell"):
            run(_with_control(cmd), mode=mode)
        assert not marker.exists()


@needs_ngspice
def test_allow_shell_opts_in(tmp_path):
    marker = tmp_path / "ran"
    res = run(_with_control(f"shell touch {marker}"), allow_shell=True)
    assert marker.exists() and res.waveforms["v(b)"][0] == pytest.approx(0.5)


@needs_ngspice
def test_shell_in_an_included_file_is_refused(tmp_path):
    (tmp_path / "evil.inc").write_text("* looks like a model file\n.control\nshell touch pwned\n.endc\n")
    net = tmp_path / "top.cir"
    net.write_text("top\n.include evil.inc\n" + CIRCUIT.split("\n", 1)[1] + ".end\n")
    with pytest.raises(UnsafeNetlistError, match="evil.inc"):
        run(net)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    "cmd",
    [
        "pre_osdi /tmp/evil.osdi",
        "osdi /tmp/evil.so",
        "codemodel /tmp/evil.cm",
        "write /tmp/elsewhere.raw",
        "wrdata ../up.txt v(b)",
        "print v(b) > /tmp/x.txt",
        "gnuplot g v(b)",
        "source other.cir",
        "alias x shell",
        "set rawfile=/tmp/r.raw",
        "set c = sh\n$c rm -rf x",
    ],
)
def test_library_loads_program_runs_and_stray_writes_are_refused(tmp_path, cmd):
    with pytest.raises(UnsafeNetlistError):
        check_netlist(_with_control(cmd), tmp_path)


def test_harmless_control_commands_pass(tmp_path):
    check_netlist(
        _with_control(
            "write out.raw",
            "wrdata table.txt v(b)",
            "let x = v(b) > 0.1",
            "if v(b) > 0.1",
            "echo big",
            "end",
            "meas op vb find v(b)",
            "print v(b)",
        ),
        tmp_path,
    )


def test_libraries_named_by_the_caller_may_be_loaded(tmp_path):
    lib = tmp_path / "model.osdi"
    lib.write_bytes(b"")
    text = _with_control(f"pre_osdi {lib}")
    with pytest.raises(UnsafeNetlistError, match="--osdi"):
        check_netlist(text, tmp_path)
    check_netlist(text, tmp_path, allowed_libraries=[lib])
    check_netlist(_with_control("pre_osdi model.osdi"), tmp_path, allowed_libraries=[lib])  # relative to the netlist


@needs_ngspice
def test_control_writes_land_in_the_private_run_folder(tmp_path, monkeypatch):
    from pathlib import Path

    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    res = run(_with_control("wrdata table.txt v(b)"), workdir=tmp_path / "runs")
    assert list((tmp_path / "here").iterdir()) == []
    assert Path(res.workdir).parent == tmp_path / "runs" and (Path(res.workdir) / "table.txt").exists()


# --- '* memspice-osdi:' header lines naming libraries by bare file name (issue 14) ------------------
def test_bare_header_names_load_only_from_memspice_cache(tmp_path, monkeypatch):
    from memspice.core import osdi
    from memspice.netlists.headers import header_libraries as _header_libraries

    monkeypatch.setenv("MEMSPICE_CACHE", str(tmp_path / "cache"))
    cached = osdi.cache_dir() / "ms_selector_va-0123456789abcdef.osdi"
    cached.write_bytes(b"stand-in")
    net = tmp_path / "x.cir"

    def tags(*names):
        return "t\n" + "".join(f"* memspice-osdi: {n}\n" for n in names) + "R1 a 0 1\n.op\n.end\n"

    # a bare cache name resolves to the cache file, without --trust-header-osdi
    assert _header_libraries(net, tags(cached.name), trust=False) == [str(cached)]
    assert osdi.header_name(cached) == cached.name and osdi.is_cache_name(cached.name)
    # the same file name next to the netlist is not what a bare name means
    (tmp_path / "evil-0123456789abcdef.osdi").write_bytes(b"x")
    with pytest.raises(ValueError, match="OSDI cache"):
        _header_libraries(net, tags("evil-0123456789abcdef.osdi"), trust=False)
    # names with a folder are paths: outside the cache they need --trust-header-osdi
    for tag in ("../cache/osdi/x.osdi", str(tmp_path / "evil-0123456789abcdef.osdi"), "evil.osdi"):
        assert not osdi.is_cache_name(tag)
        with pytest.raises(UnsafeNetlistError, match="--trust-header-osdi"):
            _header_libraries(net, tags(tag), trust=False)
    assert osdi.find_cached("../osdi/" + cached.name) is None


def test_cli_run_reports_an_unknown_bare_header_name(tmp_path, capsys, monkeypatch):
    from memspice.cli import main

    monkeypatch.setenv("MEMSPICE_CACHE", str(tmp_path / "cache"))
    net = tmp_path / "x.cir"
    net.write_text("t\n* memspice-osdi: no_such_module_va-0123456789abcdef.osdi\nR1 a 0 1\n.op\n.end\n")
    assert main(["run", str(net)]) == 2
    err = capsys.readouterr().err
    assert "not in the OSDI cache" in err and "--osdi FILE" in err
