"""Native code inside the sandboxed ngspice: what holds when a netlist gets a library loaded (issue 20).

The deny-list refuses ``codemodel`` and ``osdi`` of libraries the caller did
not name, but a list of words is never complete (two routes around it were
found: tests/escape_attacks.py), and a fault in ngspice gives the same.  So
these tests switch the deny-list off, load ``tests/data/hostile_codemodel.c``
(compiled here) with ``codemodel``, and check that the kernel sandbox and
memspice's side of it still hold against code that runs inside ngspice:

* the shared-mode worker's connection: a forged pickle would run code in the
  unconfined parent (it did: ``touch`` ran outside the sandbox);
* io_uring, which creates sockets without the ``socket`` call seccomp refuses
  (a UDP datagram left the worker, a unix socket of the host was reached);
* ``chmod``/``utimes`` of a file outside the run folder (Landlock governs
  writes, not a file's mode and times);
* a FIFO and a link where memspice reads the results (memspice waited forever);
* a child that leaves ngspice's session, so the process group memspice
  kills at the end misses it.
"""

import os
import shutil
import socket
import subprocess
import threading
import time

import pytest

from memspice.spice import SpiceError, UnsafeNetlistError, run, sandbox

from .conftest import needs_ngspice, needs_shared
from .escape_attacks import CIRCUIT

SOURCE = os.path.join(os.path.dirname(__file__), "data", "hostile_codemodel.c")
SUPPORT = sandbox.support()
MODES = [
    pytest.param("batch", marks=pytest.mark.skipif(not SUPPORT.batch, reason=SUPPORT.why_not(True))),
    pytest.param("shared", marks=[needs_shared, pytest.mark.skipif(not SUPPORT.worker, reason=SUPPORT.why_not(False))]),
]
pytestmark = needs_ngspice


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    """The hostile library, compiled with the system's C compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the hostile code model")
    out = tmp_path_factory.mktemp("hostile") / "hostile.cm"
    proc = subprocess.run([cc, "-shared", "-fPIC", "-o", str(out), SOURCE], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"the hostile code model does not build here: {proc.stderr.strip()[:300]}")
    return out


def _attack(library, what: str, target, mode: str, monkeypatch, timeout: float = 30):
    """Load the library with its attack ``what`` aimed at ``target``; the deny-list switched off."""
    monkeypatch.setattr("memspice.spice.job.check_netlist", lambda *a, **k: None)
    monkeypatch.setenv("MEMSPICE_HOSTILE", what)
    monkeypatch.setenv("MEMSPICE_HOSTILE_TARGET", str(target))
    text = "hostile\n" + CIRCUIT + f".op\n.control\ncodemodel {library}\nrun\n.endc\n.end\n"
    try:
        return run(text, mode=mode, timeout=timeout), None
    except SpiceError as exc:
        return None, exc


@pytest.mark.parametrize("mode", MODES)
def test_a_forged_message_from_the_worker_runs_nothing_in_memspice(library, tmp_path, mode, monkeypatch):
    marker = tmp_path / "ran-in-the-parent"
    _, error = _attack(library, "pickle", marker, mode, monkeypatch)
    assert not marker.exists(), "code sent by the sandboxed worker ran in memspice's own process"
    if mode == "shared":
        assert isinstance(error, UnsafeNetlistError) and "not plain data" in str(error), error


@pytest.mark.parametrize("mode", MODES)
def test_io_uring_makes_no_socket(library, mode, monkeypatch):
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(0.5)
    with listener:
        _attack(library, "uring", listener.getsockname()[1], mode, monkeypatch)
        with pytest.raises(OSError):  # socket.timeout: nothing arrived
            listener.recv(64)


@pytest.mark.parametrize("mode", MODES)
def test_the_mode_and_times_of_files_outside_stay(library, tmp_path, mode, monkeypatch):
    canary = tmp_path / "canary.txt"
    canary.write_text("canary")
    canary.chmod(0o600)
    before = canary.stat()
    _attack(library, "chmod", canary, mode, monkeypatch)
    after = canary.stat()
    assert (after.st_mode, after.st_mtime_ns) == (before.st_mode, before.st_mtime_ns)


def _in_time(attempt, limit: float = 90.0):
    """``attempt()``'s value, or a failed test when it has not returned after ``limit`` s (memspice hung)."""
    done: list = []
    thread = threading.Thread(target=lambda: done.append(attempt()), daemon=True)
    thread.start()
    thread.join(limit)
    assert done, f"memspice did not return within {limit} s"
    return done[0]


@pytest.mark.parametrize("mode", MODES)
def test_a_fifo_where_the_results_are_read_does_not_hang_memspice(library, tmp_path, mode, monkeypatch):
    result, error = _in_time(lambda: _attack(library, "fifo", tmp_path / "secret", mode, monkeypatch, timeout=10))
    assert result is not None and result.waveforms["v(b)"][0] == pytest.approx(0.5), error


def _orphans() -> list[int]:
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/comm") as fh:
                if fh.read().strip() == "memspice-orphan":
                    found.append(int(pid))
        except (OSError, ValueError):
            pass
    return found


@pytest.mark.parametrize("mode", MODES)
def test_no_process_outlives_the_run(library, mode, monkeypatch):
    """The orphan sleeps 600 s holding ngspice's output pipe: the run must neither wait for it nor leave it."""
    _in_time(lambda: _attack(library, "orphan", "-", mode, monkeypatch))
    deadline = time.monotonic() + 5
    while _orphans() and time.monotonic() < deadline:
        time.sleep(0.1)
    left = _orphans()
    for pid in left:
        os.kill(pid, 9)
    assert not left, "a child of the sandboxed ngspice left its process group and outlived the run"
