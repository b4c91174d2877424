"""Out-of-process ngspice: ``ngspice -b`` on a netlist file, results from a raw file.

Safest mode: a crash, hang or runaway run only ever kills the child
process.  The child runs in its own process group so a timeout stops
everything it started.
"""
from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from pathlib import Path

from .capabilities import require_ngspice
from .errors import SpiceCrashError, SpiceError, SpiceTimeoutError
from .log import raise_for_log
from .netlist_text import prepare_netlist
from .raw import read_raw
from .result import SimulationResult


def run_batch(netlist: str, timeout: float = 300.0, osdi: list = (), workdir=None, klu: bool | None = None,
              keep_files: bool = False) -> SimulationResult:
    """Run ``netlist`` (text with one analysis) in a child ngspice process.

    ``osdi``: compiled Verilog-A libraries to load first.  ``klu``: add
    ``.options klu`` (default: when this ngspice has KLU).  Raises a
    :class:`~memspice.spice.errors.SpiceError` subclass on any failure.
    """
    info = require_ngspice()
    text = prepare_netlist(netlist, osdi=osdi, klu=info.klu if klu is None else klu, raw_path="out.raw")
    tmp = tempfile.TemporaryDirectory(prefix="memspice-") if workdir is None else None
    work = Path(workdir or tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    try:
        (work / "circuit.cir").write_text(text)
        log = _spawn([info.executable, "-b", "circuit.cir"], work, timeout)
        raw = work / "out.raw"
        produced = raw.exists() and raw.stat().st_size > 0
        raise_for_log(log, produced)
        if not produced:
            raise SpiceError("ngspice finished without writing results (no analysis in the netlist?)", log)
        waves = read_raw(raw)
        return SimulationResult(waves, log, text, "batch", str(work) if keep_files or workdir else None)
    finally:
        if tmp is not None and not keep_files:
            tmp.cleanup()


def _spawn(cmd, cwd: Path, timeout: float) -> str:
    env = dict(os.environ, SPICE_ASCIIRAWFILE="0")
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, text=True, errors="replace", start_new_session=True,
                                env=env)
    except OSError as exc:
        raise SpiceCrashError(f"could not start {cmd[0]}: {exc}") from exc
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        raise SpiceTimeoutError(f"ngspice exceeded the {timeout} s time limit and was stopped", out or "")
    if proc.returncode < 0:
        sig = signal.Signals(-proc.returncode).name
        raise SpiceCrashError(f"ngspice crashed ({sig}); the netlist or a model triggered a simulator fault", out)
    if proc.returncode != 0:
        raise_for_log(out, produced_data=False)
        raise SpiceCrashError(f"ngspice exited with status {proc.returncode}", out)
    return out
