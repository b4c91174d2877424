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

from memspice.spice import (
    SandboxViolation,
    SpiceCrashError,
    SpiceError,
    SpiceNetlistError,
    SpiceOutputError,
    UnsafeNetlistError,
    read_raw_plots,
    run,
    sandbox,
)
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
endc_after_vertical_tab endc_after_lone_carriage_return endc_after_file_separator endc_after_line_separator
include_after_vertical_tab inc_with_punctuation include_with_star lib_with_punctuation include_through_linked_folder
nul_in_include_path
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


#: prints 3 x 100 000 lines: several MB of output from a few lines of netlist
PRINTS = (
    "prints\n" + CIRCUIT + ".op\n.control\nrun\nlet v = vector(1e5)\nlet k = 0\nwhile k < 3\nprint v v\n"
    "let k = k + 1\nend\n.endc\n.end\n"
)


@needs_ngspice
@pytest.mark.parametrize("mode", ["batch", pytest.param("in-process", marks=needs_shared)])
def test_memspice_keeps_a_bounded_part_of_what_ngspice_prints(mode, monkeypatch):
    """A netlist printing without end filled memspice's memory (~23 MB/s, 1 GB in 15 s) and its log took 8x the
    timeout to read; memspice keeps the first and the last part, and says what it cut."""
    monkeypatch.setattr("memspice.spice.log.OUTPUT_LIMIT", 1 << 20)
    res = run(PRINTS, mode="shared" if mode == "in-process" else mode, isolate=mode != "in-process")
    assert res.waveforms["v(b)"][0] == pytest.approx(0.5)
    assert len(res.log) < 1.5 * (1 << 20), len(res.log)
    assert any("memspice cut" in w for w in res.warnings), res.warnings


def _in_a_fresh_python(tmp_path, code: str, timeout: float = 180) -> subprocess.CompletedProcess:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(code))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), MEMSPICE_PROGRESS="0")
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=timeout, cwd=tmp_path, env=env
    )


@needs_shared
def test_an_endless_control_block_in_process_stops_at_the_timeout(tmp_path):
    """In-process, a plain control block that never ends hung Python for good (timeout ignored)."""
    proc = _in_a_fresh_python(
        tmp_path,
        """
        import time
        from memspice.spice import SpiceError, SpiceTimeoutError, run
        text = "t\\nV1 a 0 1\\nR1 a 0 1k\\n.op\\n.control\\nlet k = 0\\nwhile k < 1\\nlet j = 1\\nend\\n.endc\\n.end\\n"
        try:
            run(text, mode="shared", isolate=False, timeout=2)
        except SpiceTimeoutError as exc:
            print("timed out:", exc)
        try:
            run(text, mode="shared", isolate=False, timeout=2)
        except SpiceTimeoutError:
            print("waited again")
        except SpiceError as exc:
            print("refused:", exc)
        print("isolated:", run("t\\nV1 a 0 1\\nR1 a 0 1k\\n.op\\n.end\\n", mode="shared").waveforms["v(a)"][0])
        """,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "timed out:" in proc.stdout and "isolate=True" in proc.stdout
    assert "refused: libngspice in this process is still running" in proc.stdout
    assert "isolated: 1.0" in proc.stdout


@needs_shared
def test_a_spiceinit_in_the_working_folder_is_checked_before_libngspice_runs_it(tmp_path):
    """libngspice runs ./.spiceinit when it starts in the caller's process: it ran a shell command there."""
    marker = tmp_path / "ran"
    (tmp_path / ".spiceinit").write_text(f"* settings\nshell touch {marker}\n")
    code = f"""
        from memspice.spice import UnsafeNetlistError, run
        text = {DIVIDER!r}
        try:
            run(text, mode="shared", isolate=False)
            print("ran it")
        except UnsafeNetlistError as exc:
            print("refused:", exc)
        print("isolated:", run(text, mode="shared").waveforms["v(b)"][0])
        """
    proc = _in_a_fresh_python(tmp_path, code)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not marker.exists(), proc.stdout
    assert "refused:" in proc.stdout and ".spiceinit line 2: 'shell touch" in proc.stdout
    assert "isolated: 0.5" in proc.stdout  # the worker starts in its own folder: never reads it
    (tmp_path / ".spiceinit").write_text("* plain settings\nset filetype=ascii\n")
    proc = _in_a_fresh_python(tmp_path, code)
    assert "ran it" in proc.stdout, proc.stdout + proc.stderr[-2000:]


@needs_ngspice
def test_an_include_file_too_large_or_in_proc_is_refused_before_reading(tmp_path):
    """A sparse include claiming more than memspice reads (MemoryError, or the machine's memory) and /proc files."""
    from memspice.spice.netlist_text import MAX_FILE_BYTES

    huge = tmp_path / "huge.inc"
    with open(huge, "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(SpiceNetlistError, match="larger than"):
        run(_include(huge))
    for kernel in ("/proc/self/pagemap", "/proc/self/mem"):
        with pytest.raises(SpiceNetlistError, match="kernel file"):
            run(_include(kernel))


@needs_ngspice
def test_a_netlist_cannot_hand_memspice_its_own_results_file(tmp_path):
    """The control block wrote memspice-results.raw (v(b) = 42 from another circuit) and quit before memspice's
    collector: memspice reported those numbers as ngspice's results of this netlist, with exit status 0."""
    forge = (
        "forge\n" + CIRCUIT + ".op\n.control\nop\nalter v1 dc = 84\nop\necho memspice-plot: op1\n"
        "set filetype=binary\nwrite memspice-results.raw\nquit\n* the end\n.endc\n.end\n"
    )
    with pytest.raises(SpiceError, match="quits ngspice before memspice collects"):
        run(forge, mode="batch")
    res = run(forge.replace("quit\n", ""), mode="batch", workdir=tmp_path)
    assert list(res.plots) == ["op1", "op2"]
    assert res.plots["op1"]["v(b)"][0] == pytest.approx(0.5) and res.plots["op2"]["v(b)"][0] == pytest.approx(42)
    kept = read_raw_plots(os.path.join(res.workdir, "memspice-results.raw"))  # memspice's, not the netlist's
    assert [w["v(b)"][0] for w in kept if "v(b)" in w.names] == pytest.approx([0.5, 42])


#: plain lines that wrote 110 MB/s into the run folder: a full disk within the default timeout
WRITES_FOREVER = (
    "writes\n" + CIRCUIT + ".op\n.control\nrun\nset appendwrite\nlet v = vector(1e6)\nlet k = 0\nwhile k < 1e9\n"
    "write big.raw v\nlet k = k + 1\nend\n.endc\n.end\n"
)
#: 4 GB in one vector
ALLOCATES = "allocates\n" + CIRCUIT + ".op\n.control\nrun\nlet v = vector(5e8)\nlet w = v * 2\n.endc\n.end\n"


@needs_ngspice
@pytest.mark.parametrize("mode", ["batch", pytest.param("shared", marks=needs_shared)])
def test_an_untrusted_run_cannot_fill_the_disk_or_the_memory(mode, monkeypatch):
    monkeypatch.setenv("MEMSPICE_DISK_LIMIT", "50M")
    monkeypatch.setenv("MEMSPICE_MEMORY_LIMIT", "2G")
    with pytest.raises(SpiceOutputError, match="MEMSPICE_DISK_LIMIT"):
        run(WRITES_FOREVER, mode=mode, timeout=10)
    with pytest.raises(SpiceCrashError, match="ran out of memory.*MEMSPICE_MEMORY_LIMIT"):
        run(ALLOCATES, mode=mode, timeout=60)
    assert run(DIVIDER, mode=mode).waveforms["v(b)"][0] == pytest.approx(0.5)


def test_limit_sizes_parse():
    from memspice.spice.limits import parse_size

    assert parse_size("8G", "X") == 8 << 30 and parse_size("512m", "X") == 512 << 20 and parse_size("1000", "X") == 1000
    assert parse_size("0", "X") is None and parse_size("none", "X") is None
    with pytest.raises(ValueError, match="X='lots'"):
        parse_size("lots", "X")
