"""Run a co-simulation: :func:`cosimulate` (Python) and the worker process that does the work.

The user's netlist is untrusted text.  As in ``memspice.spice.run``, its control commands pass the
deny-list of :mod:`memspice.spice.safety` first (``allow_shell=True`` to trust it).  libngspice and the
array solvers then run together in a spawned worker process in a private folder, which is confined by the
OS sandbox where memspice has one (:func:`_start_worker`: the one place it is applied, before libngspice
is loaded); the parent only reads the netlist and the weights, compiles the port device and collects the
result.  A crash inside libngspice ends the worker, never the caller.
"""

from __future__ import annotations

import os
import pickle
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.progress import Bar
from ..core.progress import enabled as progress_enabled
from ..core.units import parse_spice_number
from ..core.waveforms import Waveforms
from ..spice.capabilities import require_ngspice
from ..spice.errors import SpiceCrashError
from ..spice.job import DEFAULT_TIMEOUT, Job, check_timeout, finish, prepare_job
from ..spice.netlist_text import read_netlist, without_pre_osdi
from ..spice.progress import analysis_span
from ..spice.rundir import run_folder
from . import device
from .array import ArrayPorts
from .coupling import ArraySpec, CouplingError
from .partition import cosim_netlist
from .syntax import SAVE_CHOICES, CosimNetlistError, parse

#: default local error tolerance of the arrays (states, line-capacitor voltages relative to the largest
#: port voltage); assumed: ten times below the 1e-4 state agreement asked of co-simulation, since the local
#: errors of many steps add up
TOL = 1e-5


@dataclass
class CosimResult:
    """A co-simulation's results.

    Attributes
    ----------
    waveforms : Waveforms
        Every signal on ngspice's time axis: the periphery's vectors as ngspice names them (``v(out0)``,
        ``i(vdd)`` ...) and the arrays' signals, ``i(<path>.wl<i>)`` / ``i(<path>.bl<j>)`` (A, current into
        the array at word-line port i / bit-line port j) and, with ``save="states"``,
        ``x(<path>.c<i>_<j>)`` (state of cell (i, j)); ``<path>`` is the marked instance's name with its
        subcircuit path, lower case (``x1``, ``xtile.x1``).
    states : dict of str to ndarray
        Final state (m x n) of every stateful array instance, by path.
    statistics : dict
        Accepted and rejected time points, port-device evaluations (Newton iterations), array solves,
        wall seconds in the array solvers (``array_seconds``), in the port device's Python callback with
        the array solves (``callback_seconds``; the rest of it is the coupling's own overhead), in ngspice
        and the coupling outside the arrays (``ngspice_seconds``), in ngspice's own work on the periphery
        (``periphery_seconds``: the worker's time outside the callback; ngspice alone spends it too, so it
        bounds the speed-up any array solver can give) and in all.
    log : str
        Everything ngspice printed.
    netlist : str
        The netlist ngspice ran (marked lines replaced by port devices).
    warnings : list of str
        ngspice's non-fatal warnings.
    """

    waveforms: Waveforms
    states: dict[str, np.ndarray] = field(default_factory=dict)
    statistics: dict[str, float] = field(default_factory=dict)
    log: str = ""
    netlist: str = ""
    warnings: list[str] = field(default_factory=list)
    measurements: dict[str, float] = field(default_factory=dict)

    def __getitem__(self, name):
        return self.waveforms[name]

    def __repr__(self) -> str:
        w = self.waveforms
        return (
            f"CosimResult({len(w)} time points x {len(w.names)} signals; arrays {', '.join(self.states) or '-'}; "
            f"{int(self.statistics.get('accepted', 0))} accepted steps)"
        )


# -- the worker process ------------------------------------------------------------------------------
def _start_worker(work: str, confine: bool):
    """THE place co-simulation's worker gets the OS sandbox: the one call site.

    With the kernel sandbox of :mod:`memspice.spice.sandbox` (``Worker``: a fresh interpreter that confines
    itself, single-threaded, before it imports anything but the standard library, then loads libngspice
    and the array solvers) the worker may write only ``work`` and execute nothing; ``confine=False``
    (``allow_shell=True``, a trusted netlist) runs the same worker unconfined.  It reads a copy of the numba
    kernels :func:`warm_up` compiled here, inside its run folder (:mod:`memspice.solver.worker_cache`); its
    messages are data (:mod:`memspice.cosim.worker`).
    """
    from ..solver.worker_cache import export_kernels
    from ..spice import sandbox
    from .worker import ERROR_MODULES

    path = [str(Path(__file__).resolve().parents[2])] + [os.path.abspath(p) if p else os.getcwd() for p in sys.path]
    env = export_kernels(Path(work) / "numba")  # the kernels warm_up compiled, readable inside the run folder
    return sandbox.Worker(
        work, "memspice.cosim.worker", confine=confine, path=path, env=env, exception_modules=ERROR_MODULES
    )


def _is_array(value, optional: bool = False) -> bool:
    return isinstance(value, np.ndarray) or (optional and value is None)


def _checked(message):
    """A worker's message if it has the shape :func:`memspice.cosim.worker.serve` sends, else WireError."""
    from ..spice.wire import WireError

    if not (isinstance(message, tuple) and len(message) == 2 and message[0] in ("started", "progress", "ok", "error")):
        raise WireError("not a (status, payload) pair")
    status, payload = message
    if status == "started" and isinstance(payload, str):
        return message
    if status == "progress" and isinstance(payload, (int, float)):
        return message
    if status == "error" and isinstance(payload, Exception):
        return message
    if status == "ok" and isinstance(payload, tuple) and len(payload) == 7:
        plots, log, records, states, stats, failure, exited = payload
        if (
            isinstance(plots, dict)
            and all(
                isinstance(name, str)
                and isinstance(vectors, dict)
                and all(isinstance(k, str) and _is_array(v) for k, v in vectors.items())
                for name, vectors in plots.items()
            )
            and isinstance(log, str)
            and isinstance(records, dict)
            and all(
                isinstance(path, str)
                and isinstance(r, tuple)
                and len(r) == 4
                and _is_array(r[0])
                and _is_array(r[1], True)
                and _is_array(r[2], True)
                and isinstance(r[3], int)
                and r[3] > 0
                for path, r in records.items()
            )
            and isinstance(states, dict)
            and all(isinstance(k, str) and _is_array(v) for k, v in states.items())
            and isinstance(stats, dict)
            and all(isinstance(k, str) and isinstance(v, (int, float)) for k, v in stats.items())
            and isinstance(failure, str)
            and (exited is None or (isinstance(exited, tuple) and len(exited) == 2))
        ):
            return message
    raise WireError(f"a {status!r} message of an unexpected shape")


def _run_worker(job: dict, work: str, confine: bool, trusted: bool, timeout: float, bar: Bar, progress):
    """Run ``job`` in a worker in ``work`` (``trusted``: ``allow_shell``, no resource limits); returns the
    worker's (status, payload) and whether it was confined."""
    from ..spice.worker_run import run_in_worker

    try:
        worker = _start_worker(work, confine)
    except OSError as exc:
        raise SpiceCrashError(f"could not start the co-simulation worker: {exc}") from exc

    def on_progress(t: float) -> None:
        if callable(progress):
            progress(t)
        bar.reference(t)

    result = run_in_worker(
        worker, job, _checked, timeout=timeout, trusted=trusted, what="the co-simulation worker",
        on_progress=on_progress,
    )  # fmt: skip
    return result, worker.confined


def warm_up(specs) -> None:
    """Compile (or load) the arrays' numba kernels here, where their caches may be written: the worker may
    be confined to its run folder and then only reads them."""
    from ..circuits.crossbar import Crossbar

    done = set()
    for spec in specs:
        cell = spec.xbar.cell
        key = (type(cell), getattr(cell, "name", None), cell.stateful)
        if key in done:
            continue
        done.add(key)
        stateful = cell.data == "state"
        small = Crossbar(
            conductances=None if stateful else np.full((3, 3), 1e-5),
            state=np.full((3, 3), 0.5) if stateful else None,
            cell=cell, r_word=1.0, r_bit=1.0, c_word=1e-15, c_bit=1e-15,
        )  # fmt: skip
        arr = ArrayPorts(small, method=spec.method)
        v = np.array([0.5, 0.5, 0.5, 0.0, 0.0, 0.0])
        arr.dc(v)
        for k in range(1, 5):  # accepted points enough for the line capacitors' truncation test (compiled)
            point = arr.step(k * 1e-9, v * (1 + 0.1 * k))
            if point is None:  # pragma: no cover - a 3 x 3 array at half a volt converges
                break
            arr.step_bound(point)
            arr.commit(point.t)


def simulator_options(text: str) -> tuple[float, float]:
    """(chgtol, trtol) of the netlist's ``.options`` lines (the last wins), else ngspice's defaults."""
    values = {"chgtol": 1e-14, "trtol": 7.0}
    for line in re.findall(r"^\s*\.options?\b(.*)$", text, re.I | re.M):
        for key, value in re.findall(r"\b(chgtol|trtol)\s*=\s*(\S+)", line, re.I):
            try:
                values[key.lower()] = parse_spice_number(value)
            except ValueError:
                continue
    return values["chgtol"], values["trtol"]


# -- the public entry point ----------------------------------------------------------------------------
def _on_axis(times: np.ndarray, values: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Samples ``values`` (t, ...) at ``times`` interpolated onto ``axis`` (ngspice's time points), (axis, k)."""
    flat = values.reshape(times.size, -1)
    if times.size == 1:
        return np.repeat(flat, axis.size, axis=0)
    return np.stack([np.interp(axis, times, flat[:, k]) for k in range(flat.shape[1])], axis=1)


def _array_signals(records, axis: np.ndarray) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for path, (times, currents, states, m) in records.items():
        if times.size == 0:
            continue
        if currents is not None:
            table = _on_axis(times, currents, axis)
            for k in range(table.shape[1]):
                port = f"wl{k}" if k < m else f"bl{k - m}"
                out[f"i({path}.{port})"] = table[:, k]
        if states is not None:
            table = _on_axis(times, states, axis)
            n = table.shape[1] // m
            for k in range(table.shape[1]):
                out[f"x({path}.c{k // n}_{k % n})"] = table[:, k]
    return out


def cosimulate(
    netlist,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    tol: float = TOL,
    method: str = "trap",
    save: str | None = None,
    klu: bool | None = None,
    allow_shell: bool = False,
    base_dir=None,
    progress=None,
    reuse: bool = True,
) -> CosimResult:
    """Co-simulate a netlist whose crossbars are marked for memspice (:mod:`memspice.cosim.syntax`).

    The periphery runs in ngspice (libngspice), every marked crossbar in memspice's array solver, coupled
    at the array ports in one transient (:mod:`memspice.cosim.coupling`: the method, its convergence test
    and what happens when it fails).

    Parameters
    ----------
    netlist : str or os.PathLike
        Netlist text, or the path of a netlist file (a ``str`` without a newline is a path).
    timeout : float
        Seconds before the run is stopped (default :data:`memspice.spice.job.DEFAULT_TIMEOUT`, 600 s, the one
        default of every simulator run; arrays of 256 x 256 and up under full periphery can take longer:
        raise it); ``inf`` for no limit.
    tol : float
        Local error tolerance of the arrays' states and line-capacitor voltages per step (default
        :data:`TOL`); ngspice's own tolerances (``.options reltol`` ...) govern the periphery and the
        coupling's convergence test.
    method : {"trap", "be"}
        The arrays' integration rule (trapezoidal or backward Euler).
    save : {"ports", "states", "none"} or None
        Array signals to return for every marked crossbar (None: what each mark says, default ports).
    klu : bool or None
        ngspice's linear solver, as in :func:`memspice.spice.run`.
    allow_shell : bool
        Trust the netlist's control commands (see :func:`memspice.spice.run`); default False refuses
        commands that run programs, load libraries or write outside the run's folder.
    base_dir : path, optional
        Folder that relative includes and weights files resolve against (default: the netlist's folder,
        or the current directory for text).
    progress : None, bool or callable
        A bar with the simulated time and the time left on stderr (None: when stderr is a terminal;
        ``MEMSPICE_PROGRESS=0`` turns it off), or ``progress(t)`` called with the simulated time (s).
    reuse : bool
        Let quiet arrays answer from their last solved point when provably within a tenth of the
        coupling tolerance (:meth:`memspice.cosim.array.ArrayPorts.step`); False solves at every Newton
        iteration (slower, for checks).

    Raises
    ------
    CosimNetlistError
        A mark is wrong (port count, missing weights file, unknown cell kind or parameter ...): the
        message names the instance and its line.  Also when the netlist marks no crossbar.
    CouplingError
        The coupling did not converge even at ngspice's smallest step (names the ports), or the worker
        failed inside a callback.
    memspice.spice.SpiceError
        ngspice reported an error (a bad periphery netlist, no convergence of its own ...).
    """
    timeout = check_timeout(timeout)
    if save is not None and save not in SAVE_CHOICES:
        raise ValueError(f"save must be one of {', '.join(SAVE_CHOICES)} or None, got {save!r}")
    if not (np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    if method not in ("trap", "be"):
        raise ValueError(f"method must be 'trap' or 'be', got {method!r}")
    started = time.perf_counter()
    info = require_ngspice()
    src = read_netlist(netlist, base_dir)
    origin = str(src.path or "netlist")
    design = parse(src.text, src.base_dir, origin)
    if not design.marked:
        raise CosimNetlistError(
            f"{origin}: no crossbar is marked for memspice; mark one with a subcircuit call of "
            "'memspice_crossbar' (see memspice.cosim.syntax)"
        )
    library = str(device.build(sorted({m.xbar.m + m.xbar.n for m in design.marked})))
    job: Job = prepare_job(
        cosim_netlist(design),
        osdi=[library],
        klu=klu,
        allow_shell=allow_shell,
        base_dir=src.base_dir,
        default_klu=info.klu,
        raw_path=None,
        where="worker",  # the sandbox a worker needs (no user namespace); without it only plain netlists run
    )
    chgtol, trtol = simulator_options(src.text)
    specs = [ArraySpec(m.label, m.xbar, save or m.save, tol, method, chgtol, trtol, reuse) for m in design.marked]
    try:
        packed = pickle.dumps(specs)  # before the warm-up, which may leave unpicklable caches on the cells
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise ValueError(f"the marked arrays cannot be sent to the co-simulation worker: {exc}") from exc
    warm_up(specs)
    bar = Bar(progress_enabled(progress if isinstance(progress, bool) or progress is None else False),
              analysis_span(job.text), "memspice cosim")  # fmt: skip
    # removed on every way out, SIGTERM included, and swept after a SIGKILL (memspice.spice.rundir)
    with run_folder("memspice-cosim-") as folder:
        work = str(folder)
        try:
            task = {
                "text": without_pre_osdi(job.text),
                "library": library,
                "libngspice": info.shared_library,
                "specs": packed,
                "work": work,
                "progress": bar.active or callable(progress),
            }
            (status, payload), confined = _run_worker(
                task, work, job.confine, allow_shell, timeout, bar, progress if callable(progress) else None
            )
        finally:
            bar.close()
    if status == "error":
        raise payload
    plots, log, records, states, stats, failure, exited = payload
    failed = "timestep too small" in log.lower() or "timestep too small" in failure.lower()
    if failure and failed:
        raise CouplingError(f"the co-simulation did not converge (ngspice gave up at its smallest step):\n{failure}")
    waves = {name: _plot_waveforms(name, vectors) for name, vectors in plots.items()}
    result = finish(job, waves, log, "shared")
    main = result.waveforms
    if main.axis_name == "time":
        signals = dict(main.signals)
        signals.update(_array_signals(records, main.axis))
        main = Waveforms(main.axis, signals, main.axis_name, title=main.title)
    stats = dict(stats)
    stats["total_seconds"] = time.perf_counter() - started
    stats["ngspice_seconds"] = stats["worker_seconds"] - stats["array_seconds"]
    stats["periphery_seconds"] = stats["worker_seconds"] - stats.get("callback_seconds", 0.0)
    stats["confined"] = float(confined)
    return CosimResult(main, states, stats, result.log, job.text, result.warnings, result.measurements)


def _plot_waveforms(name: str, vectors: dict) -> Waveforms:
    from ..spice.shared import _to_waveforms  # ngspice plots as Waveforms: one rule, in the shared driver

    return _to_waveforms(name, vectors)
