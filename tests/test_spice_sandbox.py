"""Untrusted netlists: the escape suite and the kernel sandbox (issue 20).

Every attack in :mod:`tests.escape_attacks` runs in batch, shared (isolated
worker) and in-process mode, first through the whole stack (deny-list, then
sandbox), then with the deny-list switched off so that only the kernel
stands in the way.  Each run asserts that nothing under the watched folder
changed (a canary file, a watch folder, the attacker's own folder, the
folder the run folders live in) and that no marker file was created (no
program ran).  A check of the suite itself runs the attacks on an
unconfined ngspice and asserts that they do escape there.
"""

import os
import subprocess
import sys
import tempfile
import textwrap

import pytest

from memspice.spice import SandboxViolation, SpiceError, SpiceNetlistError, UnsafeNetlistError, run, sandbox
from memspice.spice.capabilities import ngspice_info

from .conftest import needs_ngspice, needs_shared
from .escape_attacks import ATTACKS, CIRCUIT, Arena

SUPPORT = sandbox.support()
needs_batch_sandbox = pytest.mark.skipif(not SUPPORT.batch, reason="no kernel sandbox: " + SUPPORT.why_not(True))
needs_worker_sandbox = pytest.mark.skipif(not SUPPORT.worker, reason="no kernel sandbox: " + SUPPORT.why_not(False))
MODES = ["batch", pytest.param("shared", marks=needs_shared), pytest.param("in-process", marks=needs_shared)]
#: attacks that escape an unconfined ngspice 46 (checked by test_the_attacks_escape_an_unconfined_ngspice)
EFFECTIVE = """
shell backquotes pre_shell unixcom option_unixcom escaped_name escaped_middle mixed_case_tab semicolon_from_variable
alias star_hash_line control_with_comment controlx_prefix control_without_endc text_after_endc_line
include_with_control inc_prefix_include include_with_star_hash lib_section_with_control nested_include
include_path_with_space script_file_as_command source ng_script_title gnuplot hardcopy crlf_line_endings
pre_prefix_upper_case redirect_absolute redirect_append redirect_from_variable redirect_relative_parent print_redirect
write_absolute wrdata_parent run_rawfile snsave measoutfile cd_then_write cd_parent_then_write
""".split()
#: attacks memspice's own preparation refuses before any ngspice starts (no analysis line: nothing to run)
PREPARE_REFUSES = {"ng_script_title"}
DIVIDER = "divider\n" + CIRCUIT + ".op\n.end\n"


@pytest.fixture
def arena(tmp_path, monkeypatch, request):
    """A watched folder; run folders are made in its ``tmp`` so that ``..`` from a run folder lands in it."""
    runs = tmp_path / "tmp"
    runs.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(runs))
    params = getattr(getattr(request.node, "callspec", None), "params", {})
    a = Arena(tmp_path, params.get("attack", "x"))
    monkeypatch.chdir(a.netlist_dir)
    a.runs = runs
    return a


def _attempt(a: Arena, text: str, mode: str, **kw):
    """Run ``text``; assert nothing outside the run folder changed and no program ran; return the exception."""
    before = a.snapshot()
    error = None
    try:
        run(
            text,
            mode="shared" if mode == "in-process" else mode,
            isolate=mode != "in-process",
            timeout=30,
            base_dir=a.netlist_dir,
            **kw,
        )
    except SpiceError as exc:
        error = exc
    after = a.snapshot()
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not a.marker.exists(), f"a program ran ({error})"
    assert changed == [], f"written outside the run folder: {changed} ({error})"
    assert list(a.runs.iterdir()) == [], "the run folder was left behind"
    return error


@needs_ngspice
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_escape_attempt_is_stopped(arena, attack, mode):
    error = _attempt(arena, ATTACKS[attack](arena), mode)
    if mode == "in-process" or attack in EFFECTIVE:
        assert isinstance(error, UnsafeNetlistError) or (mode != "batch" and attack == "run_rawfile"), error
    if isinstance(error, UnsafeNetlistError):
        assert "allow_shell=True" in str(error)


@needs_ngspice
@pytest.mark.parametrize(
    "mode",
    [
        pytest.param("batch", marks=needs_batch_sandbox),
        pytest.param("shared", marks=[needs_shared, needs_worker_sandbox]),
    ],
)
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_the_kernel_alone_stops_every_attempt(arena, attack, mode, monkeypatch):
    """With the deny-list switched off, only Landlock, seccomp and the namespaces stand in the way."""
    monkeypatch.setattr("memspice.spice.job.check_netlist", lambda *a, **k: None)
    error = _attempt(arena, ATTACKS[attack](arena), mode)
    if attack in PREPARE_REFUSES or (mode == "shared" and attack == "run_rawfile"):
        assert isinstance(error, SpiceNetlistError), error
    elif attack in EFFECTIVE:
        assert isinstance(error, SandboxViolation), error
        assert error.programs or error.writes
        named = " ".join(error.programs + error.writes)
        assert str(arena.root) in named or "touch" in named or "sh" in named, named
        assert "allow_shell=True" in str(error)


@needs_ngspice
@pytest.mark.parametrize("attack", EFFECTIVE)
def test_the_attacks_escape_an_unconfined_ngspice(tmp_path, attack):
    """The suite tests something: each attack in EFFECTIVE does escape ngspice 46 run without memspice."""
    a = Arena(tmp_path, attack)
    run_dir = tmp_path / "tmp" / "memspice-run-raw"
    run_dir.mkdir(parents=True)
    (run_dir / "circuit.cir").write_text(ATTACKS[attack](a))
    before = a.snapshot()
    subprocess.run(
        [ngspice_info().executable, "-b", "circuit.cir"],
        cwd=run_dir,
        capture_output=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    after = a.snapshot()
    assert a.marker.exists() or before != after


@needs_ngspice
@pytest.mark.parametrize(
    "mode",
    [
        pytest.param("batch", marks=needs_batch_sandbox),
        pytest.param("shared", marks=[needs_shared, needs_worker_sandbox]),
    ],
)
def test_a_link_placed_in_the_run_folder_does_not_lead_outside(arena, mode, monkeypatch):
    """A symbolic link in the run folder pointing outside: the kernel follows it and refuses."""
    real = tempfile.mkdtemp

    def with_link(*args, **kwargs):
        folder = real(*args, **kwargs)
        os.symlink(arena.canary, os.path.join(folder, "out.raw"))
        return folder

    monkeypatch.setattr("memspice.spice.rundir.tempfile.mkdtemp", with_link)
    text = "link\n" + CIRCUIT + ".op\n.control\nrun\nwrite out.raw\n.endc\n.end\n"
    error = _attempt(arena, text, mode)
    assert isinstance(error, SandboxViolation) and error.writes, error


@needs_ngspice
@pytest.mark.parametrize("mode", MODES)
def test_including_a_fifo_or_stdin_is_refused_before_running(arena, mode):
    fifo = arena.watch / "fifo"
    os.mkfifo(fifo)
    for target in (fifo, "/dev/stdin"):
        with pytest.raises(SpiceNetlistError, match="not a regular file"):
            run(_include(target), mode="shared" if mode == "in-process" else mode, isolate=mode != "in-process")
        with pytest.raises(SpiceNetlistError, match="not a regular file"):
            run(_include(target), allow_shell=True)


def _include(path) -> str:
    return "inc\n" + CIRCUIT + f".include {path}\n.op\n.end\n"


@needs_ngspice
@pytest.mark.parametrize("mode", MODES)
def test_harmless_netlists_run_in_every_mode(tmp_path, mode, monkeypatch):
    """The sandbox lets ordinary work through: control blocks that compute, print and write in the run folder."""
    monkeypatch.chdir(tmp_path)
    text = CIRCUIT.join(["ok\n", ".op\n.control\nrun\nprint v(b)\nlet x = v(b) * 2\necho done\n.endc\n.end\n"])
    res = run(text, mode="shared" if mode == "in-process" else mode, isolate=mode != "in-process")
    assert res.waveforms["v(b)"][0] == pytest.approx(0.5)
    if mode != "in-process":  # bare names in the run's folder: fine sandboxed, and plain where no sandbox is
        more = "set filetype=ascii\nwrite out.raw\nwrdata table.txt v(b)\necho x > note.txt"
        res = run(text.replace("echo done", more), mode=mode)
        assert res.waveforms["v(b)"][0] == pytest.approx(0.5)


@needs_shared
def test_in_process_runs_refuse_control_language_and_point_at_the_sandbox(tmp_path):
    text = "t\n" + CIRCUIT + ".op\n.control\nrun\nset x = 1\n.endc\n.end\n"
    with pytest.raises(UnsafeNetlistError, match="isolate=True") as info:
        run(text, mode="shared", isolate=False)
    assert "set" in str(info.value) and "allow_shell=True" in str(info.value)
    assert run(text, mode="shared", isolate=False, allow_shell=True).waveforms["v(b)"][0] == pytest.approx(0.5)
    assert run(DIVIDER, mode="shared", isolate=False).waveforms["v(b)"][0] == pytest.approx(0.5)


@needs_shared
@pytest.mark.parametrize("isolate", [True, False])
def test_run_to_a_file_in_shared_mode_is_an_error_not_a_crash(tmp_path, isolate):
    """libngspice 46 segfaults on 'run FILE' (it killed Python in-process): memspice refuses it, even trusted."""
    script = tmp_path / "run_file.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from memspice.spice import run, SpiceNetlistError
            text = "t\\nV1 a 0 1\\nR1 a b 1k\\nR2 b 0 1k\\n.op\\n.control\\nrun out.raw\\n.endc\\n.end\\n"
            try:
                run(text, mode="shared", isolate={isolate}, allow_shell=True)
            except SpiceNetlistError as exc:
                print("refused:", exc)
            """
        )
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert "refused:" in proc.stdout and "run FILE" in proc.stdout and "mode='batch'" in proc.stdout


@needs_ngspice
@pytest.mark.parametrize("mode", ["batch", pytest.param("shared", marks=needs_shared)])
def test_allow_shell_lifts_the_sandbox(tmp_path, mode):
    marker = tmp_path / "ran"
    text = "t\n" + CIRCUIT + f".op\n.control\nrun\nshell touch {marker}\n.endc\n.end\n"
    run(text, mode=mode, allow_shell=True)
    assert marker.exists()


@needs_ngspice
@pytest.mark.parametrize("mode", ["batch", pytest.param("shared", marks=needs_shared)])
def test_without_kernel_support_only_plain_netlists_run(tmp_path, mode, monkeypatch):
    """No Landlock (simulated): plain circuits, and memspice's own multi-vector blocks, run; the rest is refused."""
    monkeypatch.setattr(sandbox, "_SUPPORT", [sandbox.Support(0, False, False, ["the kernel has no Landlock (test)"])])
    monkeypatch.chdir(tmp_path)
    assert run(DIVIDER, mode=mode).waveforms["v(b)"][0] == pytest.approx(0.5)
    compute = (
        "t\n"
        + CIRCUIT
        + ".op\n.control\nlet k = 0\nwhile k < 2\nalter v1 dc = 2\nop\nlet k = k + 1\nend\n.endc\n.end\n"
    )
    assert len(run(compute, mode=mode).plots) == 2
    writes = "t\n" + CIRCUIT + ".op\n.control\nrun\nwrdata t.txt v(b)\necho x > note.txt\n.endc\n.end\n"
    assert run(writes, mode=mode).waveforms["v(b)"][0] == pytest.approx(0.5)
    with pytest.raises(UnsafeNetlistError, match="no private folder"):
        run(writes, mode="shared", isolate=False)
    marker = tmp_path / "ran"
    for text in (  # beyond plain circuits, though the deny-list has nothing against them
        "t\n" + CIRCUIT + ".op\n.control\nrun\nset x = 1\n.endc\n.end\n",
        "t\n" + CIRCUIT + ".options noise_model=3\n.op\n.end\n",
        "t\n" + CIRCUIT + ".hdl model.va\n.op\n.end\n",
    ):
        with pytest.raises(UnsafeNetlistError, match="no Landlock \\(test\\)") as info:
            run(text, mode=mode)
        assert "allow_shell=True" in str(info.value) and "kernel sandbox" in str(info.value)
    assert not marker.exists()
    run("t\n" + CIRCUIT + f".op\n.control\nrun\nshell touch {marker}\n.endc\n.end\n", mode=mode, allow_shell=True)
    assert marker.exists()


#: what a confined process tries, run inside it; prints "name:allowed" or "name:<errno>" for each
ATTEMPTS = """
import os, socket, subprocess
def attempts(outside, canary):
    open("inside.txt", "w").write("ok")
    results = []
    for name, attempt in [
        ("write", lambda: open(outside, "w")),
        ("exec", lambda: subprocess.run(["true"])),
        ("socket", lambda: socket.socket()),
        ("truncate", lambda: open(canary, "r+").truncate(0)),
        ("remove", lambda: os.unlink(canary)),
    ]:
        try:
            attempt()
            results.append(name + ":allowed")
        except OSError as exc:
            results.append(name + ":" + str(exc.errno))
    return " ".join(results)
"""


def _check_confined(report: str, tmp_path, work) -> None:
    assert "allowed" not in report, report
    assert (work / "inside.txt").read_text() == "ok" and not (tmp_path / "outside.txt").exists()
    assert (tmp_path / "canary").read_text() == "canary"


@needs_worker_sandbox
def test_confine_is_a_public_api_for_worker_processes(tmp_path):
    """confine() in a fresh single-threaded process: no programs, no sockets, writes only in its folder."""
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "canary").write_text("canary")
    child = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('sandbox', {sandbox.__file__!r})\n"
        "sb = importlib.util.module_from_spec(spec); spec.loader.exec_module(sb)\n"
        f"sb.confine({str(work)!r})\n" + ATTEMPTS + f"print(attempts({str(tmp_path / 'outside.txt')!r}, "
        f"{str(tmp_path / 'canary')!r}))\n"
    )
    proc = subprocess.run([sys.executable, "-I", "-c", child], capture_output=True, text=True, cwd=work, timeout=60)
    assert proc.returncode == 0, proc.stderr
    _check_confined(proc.stdout, tmp_path, work)


@needs_worker_sandbox
def test_a_sandboxed_worker_runs_any_module_and_reports_what_it_tried(tmp_path):
    """sandbox.Worker: the API a co-simulation worker uses; the parent learns the refused program and path."""
    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "canary").write_text("canary")
    (tmp_path / "probe_worker.py").write_text(
        ATTEMPTS + f"def serve(conn):\n    conn.send(attempts({str(tmp_path / 'outside.txt')!r}, "
        f"{str(tmp_path / 'canary')!r}))\n"
    )
    worker = sandbox.Worker(work, "probe_worker", path=[str(tmp_path), *sys.path])
    report = worker.conn.recv()
    programs, writes = worker.close()
    _check_confined(report, tmp_path, work)
    assert any("true" in p for p in programs) and str(tmp_path / "outside.txt") in writes


def test_sandbox_probe_reports_what_is_missing(monkeypatch):
    monkeypatch.setattr(sandbox, "landlock_abi", lambda: 0)
    monkeypatch.setattr(sandbox, "_SUPPORT", [])
    s = sandbox.support()
    assert not s.worker and not s.batch and not sandbox.sandbox_available()
    assert "Landlock" in s.why_not(True)
