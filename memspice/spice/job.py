"""One run's inputs and outputs, shared by the batch and shared drivers.

:func:`prepare_job` reads the netlist (text or path), checks its includes
and libraries, refuses known escapes unless allowed, decides whether the
run is confined by the kernel sandbox (:func:`~memspice.spice.safety.run_policy`)
and builds the text ngspice runs; :func:`finish` turns the plots and the
log into a :class:`SimulationResult` or the
:class:`~memspice.spice.errors.SpiceError` that describes the failure.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..core.elf import NotElf, dynamic_symbols, read_header
from ..core.waveforms import Waveforms
from .errors import OsdiUnavailable, SandboxViolation, SpiceError
from .log import measurement_names, measurements, raise_for_log, warning_lines
from .netlist_text import (
    PLOT_MARKER,
    RESULTS_FILE,
    USER_BEGIN,
    USER_END,
    check_includes,
    control_commands,
    directives,
    plot_marker,
    prepare_netlist,
    printed_output,
    read_netlist,
    results_name,
    run_token,
    split_control,
)
from .progress import warn_if_slow
from .result import SimulationResult
from .safety import check_netlist, run_policy

#: names every OSDI library exports (OSDI 0.3, the interface OpenVAF compiles to)
OSDI_SYMBOLS = ("OSDI_DESCRIPTORS", "OSDI_NUM_DESCRIPTORS")

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
    confine: bool = False
    #: the results file the collector writes (batch), a name the netlist cannot know (:func:`results_name`)
    results: str = RESULTS_FILE
    #: what the collector echoes before each plot it writes
    marker: str = PLOT_MARKER
    #: the caller trusts the netlist (``allow_shell=True``): no sandbox and no resource limits
    trusted: bool = False


def check_timeout(timeout) -> float:
    """``timeout`` as seconds; a ValueError naming it unless it is a positive number (``inf``: no limit)."""
    try:
        t = float(timeout)
    except (TypeError, ValueError):
        t = float("nan")
    if not t > 0:  # also false for NaN
        raise ValueError(f"timeout must be a positive number of seconds (inf for no limit), got {timeout!r}")
    return t


def check_osdi_library(path) -> Path:
    """``path`` as an absolute path if it is a compiled Verilog-A (OSDI) library, else an error naming the problem.

    Raises
    ------
    OsdiUnavailable
        The file is missing, not an ELF shared library, or exports no OSDI
        descriptors (ngspice would only warn and simulate without the model).
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise OsdiUnavailable(f"OSDI library {str(path)!r}: no such file")
    try:
        data = p.read_bytes()
        header = read_header(data)
        if not header.is_shared_object:
            raise NotElf("an ELF file but not a shared library")
        missing = [n for n in OSDI_SYMBOLS if n not in dynamic_symbols(data)]
    except (NotElf, OSError) as exc:
        raise OsdiUnavailable(
            f"OSDI library {str(path)!r} is not a compiled Verilog-A model: {exc} "
            "(compile the .va file with memspice.spice.compile_veriloga or openvaf-r)"
        ) from None
    if missing:
        raise OsdiUnavailable(
            f"OSDI library {str(path)!r} is a shared library without OSDI descriptors (no {', '.join(missing)}); "
            "it was not compiled by OpenVAF from Verilog-A"
        )
    return p.resolve()


def prepare_job(
    netlist,
    osdi=(),
    klu=None,
    allow_shell: bool = False,
    base_dir=None,
    default_klu: bool = False,
    raw_path: str | None = None,
    where: str = "batch",
    obstacle: str | None = None,
) -> Job:
    """Read, check and prepare ``netlist`` (text or path); see :func:`memspice.spice.run` for the arguments.

    ``where`` (``"batch"``, ``"worker"``, ``"in-process"``) and ``obstacle``
    go to :func:`~memspice.spice.safety.run_policy`; ``Job.confine`` is its answer.
    """
    src = read_netlist(netlist, base_dir)
    origin = str(src.path or "netlist")
    # ngspice runs in a private folder: libraries named relative to the caller's directory must be absolute
    osdi = [str(check_osdi_library(p)) for p in osdi]
    check_includes(src.text, src.base_dir, origin)
    if not allow_shell:
        check_netlist(src.text, src.base_dir, osdi, origin=origin)
    confine = run_policy(src.text, src.base_dir, allow_shell, where, origin, obstacle)
    token = run_token() if raw_path else ""
    results, marker = (results_name(token), plot_marker(token)) if raw_path else (RESULTS_FILE, PLOT_MARKER)
    text = prepare_netlist(
        src.text,
        osdi=osdi,
        klu=klu,
        raw_path=results if raw_path else None,
        base_dir=src.base_dir,
        default_klu=default_klu,
        marker=marker,
    )
    _, control = split_control(src.text)
    warn_if_slow(src.text)
    return Job(
        text,
        src.encoding,
        src.base_dir,
        control,
        tuple(measurement_names(directives(src.text) + "\n" + control)),
        origin,
        confine,
        results,
        marker,
        allow_shell,
    )


def raise_for_sandbox(programs, writes, log: str, run_dir) -> None:
    """Raise :class:`SandboxViolation` naming what the sandbox refused, if anything."""
    if not programs and not writes:
        return
    parts = []
    if programs:
        parts.append("run a program: " + "; ".join(repr(p) for p in programs[:5]))
    if writes:
        parts.append("write outside its run folder: " + ", ".join(writes[:5]))
    more = len(programs) + len(writes) - min(len(programs), 5) - min(len(writes), 5)
    raise SandboxViolation(
        f"memspice's sandbox stopped ngspice: the netlist tried to {' and to '.join(parts)}"
        + (f" (and {more} more)" if more > 0 else "")
        + f". ngspice may only write inside its run folder ({os.fspath(run_dir)}) and run no programs; "
        "pass allow_shell=True (memspice run --allow-shell) only if you trust this netlist",
        log,
        programs,
        writes,
    )


def finish(job: Job, plots: dict[str, Waveforms], log: str, mode: str, workdir=None) -> SimulationResult:
    """Result of a run that made ``plots`` (ngspice plot name -> waveforms), or the matching error."""
    plots = {k: v for k, v in plots.items() if k != "const" and v.title.lower() != "constants"}
    printed = printed_output(log)
    own = (PLOT_MARKER, USER_BEGIN, USER_END)
    files = (RESULTS_FILE, job.results)
    log = "\n".join(
        ln for ln in log.splitlines() if not ln.strip().startswith(own) and not any(f in ln for f in files)
    )  # the collector's own lines
    produced = bool(plots)
    raise_for_log(log, produced)
    if not produced:
        why = "its .control block ran no analysis that made a plot" if job.user_control.strip() else "no analysis ran"
        if any(word in ("quit", "exit") for word, _ in control_commands(job.user_control)):
            why = "its .control block quits ngspice before memspice collects the plots (remove the 'quit')"
        raise SpiceError(f"ngspice finished without results: {why}", log)
    last = list(plots.values())[-1]
    return SimulationResult(
        last, log, job.text, mode, workdir, plots, measurements(log, job.measurement_names), warning_lines(log), printed
    )
