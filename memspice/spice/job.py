"""One run's inputs and outputs, shared by the batch and shared drivers.

:func:`prepare_job` reads the netlist (text or path), refuses unsafe control
commands unless allowed, and builds the text ngspice runs;
:func:`finish` turns the plots and the log into a :class:`SimulationResult`
or the :class:`~memspice.spice.errors.SpiceError` that describes the failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..core.waveforms import Waveforms
from .errors import SpiceError
from .log import measurement_names, measurements, raise_for_log, warning_lines
from .netlist_text import (
    PLOT_MARKER,
    RESULTS_FILE,
    USER_BEGIN,
    USER_END,
    directives,
    prepare_netlist,
    printed_output,
    read_netlist,
    split_control,
)
from .progress import warn_if_slow
from .result import SimulationResult
from .safety import check_netlist

#: seconds before an ngspice (or VACASK) run is stopped, the one default of every caller: the Python API
#: (:func:`memspice.spice.run`, crossbar reads, read latency) and the command line.  Assumed: 10 minutes
#: covers the largest netlists memspice writes for ngspice (a 64x64 1S1R array with a few hundred
#: input vectors in one run) on a slow machine, and is short enough to notice a hung simulator.
DEFAULT_TIMEOUT = 600.0


@dataclass(frozen=True)
class Job:
    """A netlist ready to run: ``text`` (what ngspice reads) plus what is needed to read its results."""

    text: str
    encoding: str
    base_dir: Path
    user_control: str
    measurement_names: tuple[str, ...]
    origin: str


def check_timeout(timeout) -> float:
    """``timeout`` as seconds; a ValueError naming it unless it is a positive number (``inf``: no limit)."""
    try:
        t = float(timeout)
    except (TypeError, ValueError):
        t = float("nan")
    if not t > 0:  # also false for NaN
        raise ValueError(f"timeout must be a positive number of seconds (inf for no limit), got {timeout!r}")
    return t


def prepare_job(
    netlist,
    osdi=(),
    klu=None,
    allow_shell: bool = False,
    base_dir=None,
    default_klu: bool = False,
    raw_path: str | None = None,
) -> Job:
    """Read, check and prepare ``netlist`` (text or path); see :func:`memspice.spice.run` for the arguments."""
    src = read_netlist(netlist, base_dir)
    # ngspice runs in a private folder: libraries named relative to the caller's directory must be absolute
    osdi = [str(Path(p).expanduser().resolve()) for p in osdi]
    if not allow_shell:
        check_netlist(src.text, src.base_dir, osdi, origin=str(src.path or "netlist"))
    text = prepare_netlist(
        src.text, osdi=osdi, klu=klu, raw_path=raw_path, base_dir=src.base_dir, default_klu=default_klu
    )
    _, control = split_control(src.text)
    warn_if_slow(src.text)
    return Job(
        text,
        src.encoding,
        src.base_dir,
        control,
        tuple(measurement_names(directives(src.text) + "\n" + control)),
        str(src.path or "netlist"),
    )


def finish(job: Job, plots: dict[str, Waveforms], log: str, mode: str, workdir=None) -> SimulationResult:
    """Result of a run that made ``plots`` (ngspice plot name -> waveforms), or the matching error."""
    plots = {k: v for k, v in plots.items() if k != "const" and v.title.lower() != "constants"}
    printed = printed_output(log)
    own = (PLOT_MARKER, USER_BEGIN, USER_END)
    log = "\n".join(
        ln for ln in log.splitlines() if not ln.strip().startswith(own) and RESULTS_FILE not in ln
    )  # the collector's own lines
    produced = bool(plots)
    raise_for_log(log, produced)
    if not produced:
        why = "its .control block ran no analysis that made a plot" if job.user_control.strip() else "no analysis ran"
        raise SpiceError(f"ngspice finished without results: {why}", log)
    last = list(plots.values())[-1]
    return SimulationResult(
        last, log, job.text, mode, workdir, plots, measurements(log, job.measurement_names), warning_lines(log), printed
    )
