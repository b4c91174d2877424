"""Out-of-process ngspice: ``ngspice -b`` on a netlist file, results from a raw file.

Safest mode: a crash, hang or runaway run only ever kills the child
process.  The child runs in its own process group so a timeout stops
everything it started.  Every run has its own private folder (also inside a
given ``workdir``), which is ngspice's working directory: files the
netlist's ``.control`` block writes land there, and ``.spiceinit`` files next
to a netlist are never read.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from ..core.progress import enabled as progress_enabled
from .capabilities import require_ngspice
from .errors import SpiceCrashError, SpiceOutputError, SpiceTimeoutError
from .job import DEFAULT_TIMEOUT, check_timeout, finish, prepare_job
from .log import raise_for_log
from .netlist_text import PLOT_MARKER, RESULTS_FILE
from .progress import SpiceBar, analysis_span
from .raw import read_raw_plots
from .result import SimulationResult


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
    osdi = [str(p) for p in osdi]
    job = prepare_job(netlist, osdi, klu, allow_shell, base_dir, info.klu, RESULTS_FILE)
    root = None
    if workdir is not None:
        root = Path(workdir)
        root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="memspice-run-", dir=root))
    keep = keep_files or workdir is not None
    try:
        (work / "circuit.cir").write_bytes(job.text.encode(job.encoding, errors="replace"))
        bar = SpiceBar(progress_enabled(progress), analysis_span(job.text))
        try:
            log = _spawn([info.executable, "-b", "circuit.cir"], work, timeout, bar)
        finally:
            bar.close()
        raw = work / RESULTS_FILE
        plots = {}
        if raw.exists():
            waves = read_raw_plots(raw)
            names = re.findall(rf"^{re.escape(PLOT_MARKER)}\s*(\S+)\s*$", log, re.M)
            if len(names) != len(waves):
                names = [f"plot{k + 1}" for k in range(len(waves))]
            plots = dict(zip(names, waves))
        return finish(job, plots, log, "batch", str(work) if keep else None)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def _read_output(stream, chunks: list, bar: SpiceBar) -> None:
    """Collect the child's output as it comes, feeding ngspice's progress lines to ``bar``."""
    tail = b""
    while True:
        data = stream.read1(65536)
        if not data:
            return
        chunks.append(data)
        if bar.active:
            text = (tail + data).decode("utf-8", errors="replace")
            bar.feed(text)
            tail = (tail + data)[-64:]  # a progress line cut between two reads


def _spawn(cmd, cwd: Path, timeout: float, bar: SpiceBar | None = None) -> str:
    env = dict(os.environ, SPICE_ASCIIRAWFILE="0")
    bar = bar or SpiceBar(False, None)
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )
    except OSError as exc:
        raise SpiceCrashError(f"could not start {cmd[0]}: {exc}") from exc
    chunks: list[bytes] = []
    reader = threading.Thread(target=_read_output, args=(proc.stdout, chunks, bar), daemon=True)
    reader.start()

    def output() -> str:
        reader.join()
        if proc.stdout is not None:
            proc.stdout.close()
        text = b"".join(chunks).decode("utf-8", errors="replace")
        return text.replace("\r\n", "\n").replace("\r", "\n")  # as text mode's universal newlines

    try:
        proc.wait(timeout=None if timeout == float("inf") else timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise SpiceTimeoutError(f"ngspice exceeded the {timeout} s time limit and was stopped", output()) from None
    out = output()
    if proc.returncode < 0:
        sig = signal.Signals(-proc.returncode).name
        if sig == "SIGXFSZ":
            raise SpiceOutputError(
                "ngspice was stopped by the file-size limit (SIGXFSZ) while writing results; "
                "raise 'ulimit -f' or free disk space",
                out,
            )
        raise SpiceCrashError(f"ngspice crashed ({sig}); the netlist or a model triggered a simulator fault", out)
    if proc.returncode != 0:
        raise_for_log(out, produced_data=False)
        raise SpiceCrashError(f"ngspice exited with status {proc.returncode}", out)
    return out
