"""Out-of-process ngspice: ``ngspice -b`` on a netlist file, results from a raw file.

Safest mode: a crash, hang or runaway run only ever kills the child
process.  The child runs in its own process group so a timeout stops
everything it started.  Every run has its own private folder (also inside a
given ``workdir``), which is ngspice's working directory: files the
netlist's ``.control`` block writes land there, and ``.spiceinit`` files next
to a netlist are never read.  The folder is removed on every way out
(:mod:`memspice.spice.rundir`).

Unless the netlist is trusted (``allow_shell=True``), the child confines
itself with the kernel sandbox before it becomes ngspice
(:mod:`memspice.spice.sandbox`): it can run no program and write only inside
its folder; what it tried anyway is named in a
:class:`~memspice.spice.errors.SandboxViolation`.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import stat
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..core.progress import enabled as progress_enabled
from . import limits, sandbox
from .capabilities import require_ngspice
from .errors import SpiceCrashError, SpiceOutputError, SpiceTimeoutError, UnsafeNetlistError, killed_message
from .job import DEFAULT_TIMEOUT, check_timeout, finish, prepare_job, raise_for_sandbox
from .log import OutputCapture, raise_for_log
from .netlist_text import RESULTS_FILE
from .progress import SpiceBar, analysis_span
from .raw import read_raw_plots
from .result import SimulationResult
from .rundir import run_folder


def run_batch(
    netlist,
    timeout: float = DEFAULT_TIMEOUT,
    osdi=(),
    workdir=None,
    klu: bool | None = None,
    keep_files: bool = False,
    allow_shell: bool = False,
    base_dir=None,
    progress: bool | None = None,
) -> SimulationResult:
    """Run ``netlist`` in a child ``ngspice -b`` process; see :func:`memspice.spice.run` for the arguments.

    Raises a :class:`~memspice.spice.errors.SpiceError` subclass on any failure.
    """
    timeout = check_timeout(timeout)
    info = require_ngspice()
    obstacle = None
    if not allow_shell:
        try:
            sandbox.executables_for(info.executable)
        except sandbox.SandboxError as exc:
            obstacle = exc.strerror
    job = prepare_job(netlist, osdi, klu, allow_shell, base_dir, info.klu, RESULTS_FILE, "batch", obstacle)
    keep = keep_files or workdir is not None
    with run_folder("memspice-run-", workdir, keep) as work:
        (work / "circuit.cir").write_bytes(job.text.encode(job.encoding, errors="replace"))
        bar = SpiceBar(progress_enabled(progress), analysis_span(job.text))
        try:
            log = _spawn([info.executable, "-b", "circuit.cir"], work, timeout, bar, job.confine, job.trusted)
        finally:
            bar.close()
            if keep and job.confine:
                sandbox.tidy(work)
        raw = work / job.results  # a name the netlist could not know: it cannot have written it itself
        plots = {}
        if os.path.lexists(raw):
            if not stat.S_ISREG(os.lstat(raw).st_mode):  # a link or FIFO would lead elsewhere or wait forever
                raise SpiceOutputError(f"ngspice's results {raw} are not a regular file: not read", log)
            waves = read_raw_plots(raw)
            names = re.findall(rf"^{re.escape(job.marker)}\s+(\S+)\s*$", log, re.M)
            if len(names) != len(waves):
                names = [f"plot{k + 1}" for k in range(len(waves))]
            plots = dict(zip(names, waves))
            if keep:  # kept under the name people know (replacing any file of that name the netlist wrote)
                os.replace(raw, work / RESULTS_FILE)
        return finish(job, plots, log, "batch", str(work) if keep else None)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _read_output(stream, chunks: OutputCapture, bar: SpiceBar) -> None:
    """Collect the child's output as it comes (bounded: :class:`OutputCapture`), feeding progress lines to ``bar``."""
    tail = b""
    while True:
        data = stream.read1(65536)
        if not data:
            return
        chunks.add(data)
        if bar.active:
            text = (tail + data).decode("utf-8", errors="replace")
            bar.feed(text)
            tail = (tail + data)[-64:]  # a progress line cut between two reads


@dataclass
class _Confinement:
    """The parent's end of a confined child: the socket it reports on and the monitor of what it tried."""

    sock: socket.socket | None = None
    child_fd: int | None = None
    monitor: sandbox.Monitor | None = None
    pass_fds: tuple = field(default_factory=tuple)


def _spawn(
    cmd, cwd: Path, timeout: float, bar: SpiceBar | None = None, confine: bool = False, trusted: bool = True
) -> str:
    """Run ``cmd`` in ``cwd``; its output.  Untrusted (``trusted=False``): memory and disk limits
    (:mod:`memspice.spice.limits`); ``confine``: in the kernel sandbox."""
    env = dict(os.environ, SPICE_ASCIIRAWFILE="0")
    bar = bar or SpiceBar(False, None)
    c = _Confinement()
    if confine:
        c.sock, child = socket.socketpair()
        c.child_fd = child.detach()
        cmd = sandbox.launcher_command(cwd, cmd, c.child_fd)
        c.pass_fds = (c.child_fd,)
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
            pass_fds=c.pass_fds,
        )
    except OSError as exc:
        raise SpiceCrashError(f"could not start {cmd[0]}: {exc}") from exc
    finally:
        if c.child_fd is not None:
            os.close(c.child_fd)
    memory = None if trusted else limits.memory_limit()
    limits.limit_memory(proc.pid, memory)
    guard = limits.FolderGuard(cwd, None if trusted else limits.disk_limit(cwd), lambda: _kill_group(proc.pid))
    chunks = OutputCapture()
    reader = threading.Thread(target=_read_output, args=(proc.stdout, chunks, bar), daemon=True)
    reader.start()

    def output() -> str:
        reader.join()
        if proc.stdout is not None:
            proc.stdout.close()
        return chunks.text().replace("\r\n", "\n").replace("\r", "\n")  # as text mode's universal newlines

    timed_out = False
    try:
        with guard:
            if c.sock is not None:
                c.monitor = sandbox.Monitor(c.sock)
            proc.wait(timeout=None if timeout == float("inf") else timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        # timeout, Ctrl-C, SIGTERM: stop the child; and in every case whatever it started (a child left
        # behind would hold the output pipe open, and the run would wait for it)
        _kill_group(proc.pid)
        proc.wait()
        if c.monitor is not None:
            c.monitor.close()
        if c.sock is not None:
            c.sock.close()
    out = output()
    if confine:
        reason = sandbox.setup_failure(out) if proc.returncode == sandbox.SETUP_FAILED else None
        if reason:
            raise UnsafeNetlistError(
                f"the kernel sandbox could not be set up for ngspice ({reason}); nothing was run. "
                "Pass allow_shell=True only if you trust this netlist",
                out,
            )
        programs = c.monitor.programs if c.monitor else []
        writes = sandbox.refused_writes(c.monitor.writes, cwd, private_tmp=True) if c.monitor else []
        raise_for_sandbox(programs, writes, out, cwd)
    if guard.exceeded is not None:
        raise SpiceOutputError(guard.message(), out)
    if timed_out:
        raise SpiceTimeoutError(f"ngspice exceeded the {timeout} s time limit and was stopped", out)
    if proc.returncode != 0 and memory is not None and limits.out_of_memory(out):
        raise SpiceCrashError(limits.memory_message(memory), out)
    if proc.returncode < 0:
        if -proc.returncode == signal.SIGXFSZ:
            raise SpiceOutputError(
                "ngspice was stopped by the file-size limit (SIGXFSZ) while writing results; "
                "raise 'ulimit -f' or free disk space",
                out,
            )
        raise SpiceCrashError(killed_message("ngspice", -proc.returncode), out)
    if proc.returncode != 0:
        raise_for_log(out, produced_data=False)
        raise SpiceCrashError(f"ngspice exited with status {proc.returncode}", out)
    return out
