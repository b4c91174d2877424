"""Drive ngspice: batch (child process, raw file) or shared (PySpice libngspice)."""

from ..core.choices import Choice
from ..core.osdi import compile_veriloga
from ..core.waveforms import Waveforms
from .batch import run_batch
from .capabilities import NgspiceInfo, ngspice_info, require_ngspice
from .errors import (
    NgspiceNotFound,
    OsdiUnavailable,
    SharedModeBootstrapError,
    SpiceConvergenceError,
    SpiceCrashError,
    SpiceError,
    SpiceNetlistError,
    SpiceOutputError,
    SpiceTimeoutError,
    UnsafeNetlistError,
)
from .job import DEFAULT_TIMEOUT
from .origin import cite_origin
from .progress import SlowSimulationWarning
from .raw import read_raw, read_raw_plots
from .result import SimulationResult


class Mode(Choice):
    """How ngspice runs: ``BATCH`` (child ``ngspice -b`` process, raw file) or ``SHARED`` (libngspice).

    A ``str`` enum: ``Mode.BATCH == "batch"``, so string arguments keep working.
    """

    BATCH = "batch"
    SHARED = "shared"


MODES = tuple(m.value for m in Mode)


def run(
    netlist,
    mode: Mode | str = Mode.BATCH,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    osdi=(),
    klu: bool | None = None,
    allow_shell: bool = False,
    base_dir=None,
    workdir=None,
    keep_files: bool = False,
    isolate: bool = True,
    progress: bool | None = None,
) -> SimulationResult:
    """Run an ngspice netlist as ``ngspice -b`` would and return every plot, measurement and warning.

    Parameters
    ----------
    netlist : str or os.PathLike
        Netlist text, or the path of a netlist file (a ``str`` without a
        newline is taken as a path).  Files are read as UTF-8, else Latin-1
        (ngspice reads bytes).
    mode : Mode or {"batch", "shared"}
        ``Mode.BATCH``: a child ``ngspice -b`` process and a raw file (safest).
        ``Mode.SHARED``: libngspice through PySpice, in a spawned worker process
        unless ``isolate=False``.
    timeout : float
        Seconds before ngspice is stopped (default
        :data:`~memspice.spice.job.DEFAULT_TIMEOUT`, 600 s, the one default of the
        Python API and the command line); ``inf`` for no limit.
    osdi : sequence of path
        Compiled Verilog-A (``.osdi``) libraries to load before the circuit.
        ``pre_osdi`` / ``osdi`` commands in the netlist may load these (and
        memspice's own compiled models) without ``allow_shell``.
    klu : bool or None
        ``True``: ``.options klu``; ``False``: ``.options sparse`` (overrides a
        ``.options klu`` in the netlist); ``None`` (default): KLU when this
        ngspice has it and the netlist names no solver.
    allow_shell : bool
        Trust the netlist: allow control commands that run programs (``shell``,
        backquotes, ``gnuplot`` ...), load libraries or write outside the run's
        folder.  Default False: such a netlist raises :class:`UnsafeNetlistError`.
    base_dir : path, optional
        Folder that relative ``.include`` / ``.lib`` paths resolve against;
        default the netlist file's folder, or the current directory for text.
    workdir : path, optional
        Batch mode: folder in which the run makes (and keeps) its own private
        subfolder; default a temporary folder that is removed afterwards.
        Concurrent runs with the same ``workdir`` never share files.
    keep_files : bool
        Batch mode: keep the private folder (``result.workdir``).
    isolate : bool
        Shared mode: run libngspice in a spawned worker (default) so a crash
        cannot kill Python; ``False`` runs in this process.
    progress : bool or None
        Show a progress bar with the time left on stderr (tqdm) while
        ngspice runs a transient or DC sweep; ``None`` (default): only when
        stderr is a terminal.  ``MEMSPICE_PROGRESS=0`` turns bars off.
        A :class:`~memspice.spice.progress.SlowSimulationWarning` is issued
        for netlists that ngspice will be slow on (with the hint to use the
        sparse solver for crossbars).

    Returns
    -------
    SimulationResult
        ``.waveforms`` (last plot), ``.plots`` (every plot by ngspice name),
        ``.measurements``, ``.warnings``, ``.log``.

    Raises
    ------
    SpiceError
        A subclass naming the failure: :class:`NgspiceNotFound`,
        :class:`SpiceNetlistError`, :class:`SpiceConvergenceError`,
        :class:`SpiceTimeoutError`, :class:`SpiceCrashError`,
        :class:`SpiceOutputError` (also an ``OSError``: results could not be
        written), :class:`UnsafeNetlistError`, :class:`SharedModeBootstrapError`.
        Errors about a line of the netlist cite the user's ``file:line`` (also in
        included files), not memspice's prepared copy
        (:func:`memspice.spice.origin.cite_origin`).
    """
    mode = Mode.parse(mode)
    try:
        if mode is Mode.BATCH:
            return run_batch(
                netlist,
                timeout=timeout,
                osdi=osdi,
                workdir=workdir,
                klu=klu,
                keep_files=keep_files,
                allow_shell=allow_shell,
                base_dir=base_dir,
                progress=progress,
            )
        from .shared import run_shared

        return run_shared(
            netlist,
            timeout=timeout,
            osdi=osdi,
            klu=klu,
            isolate=isolate,
            allow_shell=allow_shell,
            base_dir=base_dir,
            progress=progress,
        )
    except SpiceError as exc:  # cite the user's file and line, not memspice's prepared copy
        raise cite_origin(exc, netlist, base_dir) from None


__all__ = [
    "run",
    "DEFAULT_TIMEOUT",
    "run_batch",
    "ngspice_info",
    "require_ngspice",
    "NgspiceInfo",
    "compile_veriloga",
    "SimulationResult",
    "read_raw",
    "read_raw_plots",
    "Mode",
    "MODES",
    "Waveforms",
    "SlowSimulationWarning",
    "SpiceError",
    "NgspiceNotFound",
    "SpiceNetlistError",
    "SpiceConvergenceError",
    "SpiceCrashError",
    "SpiceTimeoutError",
    "OsdiUnavailable",
    "SpiceOutputError",
    "UnsafeNetlistError",
    "SharedModeBootstrapError",
]
