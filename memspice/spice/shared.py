"""In-process ngspice through PySpice's libngspice binding.

PySpice 1.5 flags every stderr line as an error, but ngspice >= 40 prints
informational lines there ("Using SPARSE 1.3 as Direct Linear Solver",
"Using KLU ...").  :class:`_MemspiceNgSpice` replaces that callback: it
keeps every line and leaves the verdict to :mod:`memspice.spice.log`.

``isolate=True`` (default) runs the shared library in a worker process (a
fresh ``python -I`` started with :func:`memspice.spice.sandbox.worker_command`,
which never re-imports the caller's script), so a segfault or
``controlled_exit`` inside libngspice can never kill the caller's Python
process.  The worker works in a private folder and, unless the netlist is
trusted (``allow_shell=True``), confines itself with the kernel sandbox
before it loads libngspice: no programs, writes only in that folder.
``isolate=False`` runs truly in-process (fastest, for notebooks) with a
timeout through ``bg_run``/``bg_halt``; the caller's own process cannot be
sandboxed, so it accepts only plain circuit descriptions
(:mod:`memspice.spice.plain`) unless the netlist is trusted.

A netlist's ``.control`` blocks run as in batch mode (libngspice executes
them when the circuit is loaded, in the foreground: with ``isolate=False``
the timeout cannot stop them; the isolated worker is killed instead).
Every plot is read from memory, complex AC results stay complex.
``run FILE`` (results to a raw file) is refused: libngspice 46 crashes on it
(its shared-mode plot is missing while it writes the file).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

from ..core.progress import enabled as progress_enabled
from ..core.waveforms import Waveforms
from . import sandbox
from .capabilities import ngspice_info, require_ngspice
from .errors import (
    NgspiceNotFound,
    SpiceCrashError,
    SpiceError,
    SpiceNetlistError,
    SpiceTimeoutError,
    UnsafeNetlistError,
)
from .job import DEFAULT_TIMEOUT, Job, check_timeout, finish, prepare_job
from .log import OutputCapture, is_informational
from .netlist_text import control_commands, netlist_files, read_bytes, split_control, without_pre_osdi
from .progress import SpiceBar
from .result import SimulationResult
from .rundir import run_folder
from .shared_vectors import read_vectors
from .wire import WireError
from .worker_run import run_in_worker

_LOCK = threading.Lock()
#: why this process's libngspice can run nothing more (a control block that never ended), or None
_STUCK: str | None = None
#: seconds a worker may take to start (a fresh Python importing NumPy and PySpice) before its run's timeout
#: counts; assumed: ample on a loaded machine, where the start-up takes a few seconds
_STARTUP = 30.0
_INSTANCE = None


def _ngspice_class():
    # PySpice logs "Unsupported Ngspice version" for every release newer than it knows; that is expected.
    logging.getLogger("PySpice").setLevel(logging.CRITICAL)
    from PySpice.Spice.NgSpice.Shared import NgSpiceShared, ffi

    class _MemspiceNgSpice(NgSpiceShared):
        @staticmethod
        def _send_char(message_c, ngspice_id, user_data):
            self = ffi.from_handle(user_data)
            message = ffi.string(message_c).decode("utf8", errors="replace")
            prefix, _, content = message.partition(" ")
            log = self.__dict__.get("memspice_log")
            if log is None:
                log = self.__dict__["memspice_log"] = OutputCapture()
            log.add(content)  # at most OUTPUT_LIMIT kept: a netlist may print without end
            if not log.full:
                (self._stderr if prefix == "stderr" else self._stdout).append(content)
                if prefix == "stderr" and not is_informational(content):
                    self.__dict__.setdefault("memspice_stderr_errors", []).append(content)
            return 0

        @staticmethod
        def _send_stat(message_c, ngspice_id, user_data):
            self = ffi.from_handle(user_data)
            self.__dict__["memspice_status"] = ffi.string(message_c).decode("utf8", errors="replace")
            return 0

        @staticmethod
        def _background_thread_running(exited, ngspice_id, user_data):
            # ngspice calls this from its background thread with fl_exited: False when the thread starts,
            # True when it has finished (PySpice names the flag the other way round)
            self = ffi.from_handle(user_data)
            self._is_running = bool(exited)
            if exited:
                self.__dict__["memspice_bg_exits"] = self.__dict__.get("memspice_bg_exits", 0) + 1
            return 0

        def vectors(self, plot_name: str) -> dict[str, np.ndarray]:
            return read_vectors(ffi, self._ngspice_shared, plot_name)

    return _MemspiceNgSpice


def _instance(library: str | None = None):
    """The process's libngspice (loaded once); ``library``: its path (default: found by :func:`ngspice_info`)."""
    global _INSTANCE
    if _INSTANCE is None:
        library = library or ngspice_info().shared_library
        if not library:
            raise NgspiceNotFound(
                "libngspice shared library not found (install libngspice0, or set MEMSPICE_LIBNGSPICE)"
            )
        os.environ.setdefault("NGSPICE_LIBRARY_PATH", library)
        cls = _ngspice_class()
        cls.LIBRARY_PATH = library
        inst = cls(ngspice_id=0, send_data=False)
        inst.__dict__.setdefault("memspice_log", OutputCapture())
        inst.__dict__.setdefault("memspice_stderr_errors", [])
        _INSTANCE = inst
    return _INSTANCE


def _run_here(job: Job, osdi, timeout: float, report=None, library: str | None = None, caller: bool = False):
    """Run in this process; returns ({plot name: vectors}, log).

    ``report(message)`` receives libngspice's status messages (``tran: 45.3%``) while a run goes on;
    ``library``: the libngspice to load (the worker gets it from its parent: it may not run ``ngspice -v``);
    ``caller``: this is the caller's own process (``isolate=False``), not a worker its parent can kill.
    """
    if _STUCK:
        raise SpiceError(_STUCK)
    ng = _instance(library)
    lib = ng._ngspice_shared
    _cleanup(lib)  # a previous run that raised may have left its circuit
    ng.memspice_log = OutputCapture()
    ng.memspice_stderr_errors.clear()
    ng.clear_output()
    for path in osdi:
        lib.ngSpice_Command(f"osdi {path}".encode())
    circuit, control = split_control(job.text)
    if job.user_control.strip():  # libngspice runs the control block now, in the foreground
        if caller:
            _load_in_time(ng, job.text, timeout)
        else:
            _load(ng, job.text)  # a worker: its parent kills it at the time limit
    else:
        _load(ng, circuit)
        # wait for the background thread to say it has finished: ngSpice_running() is still False between
        # bg_run and the thread's first instruction, which on a busy machine lasts long enough to read the
        # plots before the analysis ran (no results) or while it runs (cut-short vectors)
        exits = ng.__dict__.get("memspice_bg_exits", 0)
        ng.__dict__["memspice_status"] = ""
        lib.ngSpice_Command(b"bg_run")
        t0 = last = time.monotonic()
        while ng.__dict__.get("memspice_bg_exits", 0) == exits:
            if report is not None and time.monotonic() - last > 0.2:
                last = time.monotonic()
                report(ng.__dict__.get("memspice_status", ""))
            if time.monotonic() - t0 > timeout:
                lib.ngSpice_Command(b"bg_halt")
                _cleanup(lib)
                raise SpiceTimeoutError(
                    f"ngspice exceeded the {timeout} s time limit and was halted", ng.memspice_log.text("\n")
                )
            time.sleep(0.002)
    log = ng.memspice_log.text("\n")
    plots = {}
    for name in reversed(ng.plot_names):  # libngspice lists the newest plot first
        if name != "const":
            plots[name] = ng.vectors(name)
    _cleanup(lib)
    return plots, log


def _load_in_time(ng, text: str, timeout: float) -> None:
    """:func:`_load` in this process, giving up after ``timeout`` s.

    A control block runs in the foreground and nothing can stop it (ngspice's
    loops never look for an interrupt): it runs on a thread of its own, and
    past the time limit the caller gets :class:`SpiceTimeoutError` while the
    thread goes on; libngspice is then busy for good, so later in-process runs
    in this process are refused (``isolate=True`` runs still work).
    """
    global _STUCK
    done = threading.Event()
    failure: list[BaseException] = []

    def load() -> None:
        try:
            _load(ng, text)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            failure.append(exc)
        finally:
            done.set()

    threading.Thread(target=load, name="memspice-libngspice-control", daemon=True).start()
    try:
        finished = done.wait(None if timeout == float("inf") else timeout)
    except BaseException:  # Ctrl-C while the control block runs
        _STUCK = "libngspice in this process is still running a control block that was interrupted"
        raise
    if not finished:
        _STUCK = (
            f"libngspice in this process is still running a control block that exceeded its {timeout} s time limit "
            "(in-process, nothing can stop it): restart Python to run in-process again, or use isolate=True"
        )
        raise SpiceTimeoutError(
            f"the netlist's control block ran past the {timeout} s time limit in this process (isolate=False), where "
            "ngspice cannot be stopped: it goes on in the background, and this process can run no more in-process "
            "simulations. Run netlists whose control blocks may loop with isolate=True (the default), where the "
            "worker is stopped at the time limit",
            ng.memspice_log.text("\n"),
        )
    if failure:
        raise failure[0]


def _load(ng, text: str) -> None:
    """``ng.load_circuit(text)``; PySpice's bare NameError for a refused circuit becomes a SpiceNetlistError."""
    try:
        ng.load_circuit(text)
    except NameError as exc:  # PySpice: "ngSpice_Circ returned 1"
        log = ng.memspice_log.text("\n")
        raise SpiceNetlistError(f"libngspice refused the circuit ({exc})", log) from None


def _cleanup(lib):
    for cmd in (b"destroy all", b"remcirc"):
        lib.ngSpice_Command(cmd)


_AXES = ("time", "frequency", "v-sweep", "i-sweep", "temp-sweep", "res-sweep")


def _to_waveforms(plot: str, vectors: dict) -> Waveforms:
    """Waveforms of one plot; vectors not as long as the axis (``let`` scalars, measurements) are left out."""
    vectors = dict(vectors)
    if plot.startswith("op"):
        return Waveforms(np.zeros(1), {k: v[:1] for k, v in vectors.items() if v.size >= 1}, "index", title=plot)
    axis_name = next((a for a in _AXES if a in vectors), None)
    if axis_name is None:
        axis_name = next((k for k in vectors if k.endswith("-sweep")), None)
    if axis_name is None:
        raise SpiceError(f"cannot find the sweep axis of plot {plot!r}")
    axis = vectors.pop(axis_name)
    if np.iscomplexobj(axis):
        axis = axis.real
    return Waveforms(axis, {k: v for k, v in vectors.items() if v.shape == axis.shape}, axis_name, title=plot)


def _waves(plots: dict) -> dict:
    return {name: _to_waveforms(name, vectors) for name, vectors in plots.items()}


def serve(conn) -> None:
    """The worker's side (see :func:`memspice.spice.sandbox.worker_command`): run one job received on ``conn``."""
    try:
        job, osdi, timeout, progress, library = conn.recv()
        conn.send(("started", ""))  # the parent's clock for ``timeout`` starts now, after the interpreter's start-up
        report = (lambda message: conn.send(("progress", message))) if progress else None
        conn.send(("ok", _run_here(job, osdi, timeout, report, library)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        conn.send(("error", exc))
    finally:
        conn.close()


def _refuse_untrusted_startup_file() -> None:
    """libngspice runs ``./.spiceinit`` when it starts in a process: in-process, only a plain one (unless trusted).

    Batch ngspice and the worker start in their private run folder, where no
    ``.spiceinit`` is; in this process libngspice would run the one in the
    current folder, which may belong to the netlists being run.
    """
    from .plain import script_problem

    if _INSTANCE is not None:
        return  # started already: libngspice reads its start-up files once
    user_dir = os.environ.get("SPICE_USERINIT_DIR")
    if user_dir and os.path.isfile(os.path.join(user_dir, ".spiceinit")):
        return  # the file the user chose is read instead
    path = Path.cwd() / ".spiceinit"
    if not path.is_file():
        return
    problem = script_problem(read_bytes(path, "start-up file").decode("latin-1"), str(path))
    if problem:
        raise UnsafeNetlistError(
            f"{problem}. libngspice runs the commands of ./.spiceinit when it starts in this process, and an "
            "in-process run (isolate=False) accepts only plain ones: run in memspice's sandboxed worker with "
            "isolate=True (the default; it never reads this file), start Python in another folder, or pass "
            "allow_shell=True if you trust this file"
        )


def _refuse_run_to_file(job: Job) -> None:
    """``run FILE`` crashes libngspice 46 (module docstring): say so instead of dying."""
    for where, body, _, is_netlist in netlist_files(job.text, job.base_dir, job.origin):
        for word, cmd in control_commands(split_control(body, title=is_netlist)[1]):
            if word.removeprefix("pre_") == "run" and len(cmd.split()) > 1:
                raise SpiceNetlistError(
                    f"{where}: '{cmd}': 'run FILE' (results to a raw file) crashes libngspice in shared mode; "
                    "use 'run' and then 'write FILE', or mode='batch'"
                )


def run_shared(
    netlist,
    timeout: float = DEFAULT_TIMEOUT,
    osdi=(),
    klu: bool | None = None,
    isolate: bool = True,
    allow_shell: bool = False,
    base_dir=None,
    progress: bool | None = None,
) -> SimulationResult:
    """Run ``netlist`` with libngspice (PySpice); see :func:`memspice.spice.run` and the module docstring."""
    timeout = check_timeout(timeout)
    info = require_ngspice()
    if not info.shared_library:
        raise NgspiceNotFound("libngspice shared library not found (install libngspice0, or set MEMSPICE_LIBNGSPICE)")
    where = "worker" if isolate else "in-process"
    job = prepare_job(netlist, osdi, klu, allow_shell, base_dir, info.klu, raw_path=None, where=where)
    osdi = [str(Path(p).expanduser().resolve()) for p in osdi]  # the worker runs in its own folder
    job = dataclasses.replace(job, text=without_pre_osdi(job.text))
    _refuse_run_to_file(job)
    bar = SpiceBar(progress_enabled(progress), None, "ngspice (shared)", percent=True)
    try:
        if not isolate:
            if not allow_shell:
                _refuse_untrusted_startup_file()
            with _LOCK:
                plots, log = _run_here(job, osdi, timeout, bar.status if bar.active else None, caller=True)
            return finish(job, _waves(plots), log, "shared")
        with run_folder("memspice-shared-") as work:
            status, payload = _run_isolated(job, osdi, timeout, work, bar, info.shared_library)
    finally:
        bar.close()
    if status == "error":
        raise payload
    plots, log = payload
    return finish(job, _waves(plots), log, "shared")


def _worker_path() -> list[str]:
    """``sys.path`` for the worker: this memspice first, the caller's entries made absolute."""
    here = str(Path(__file__).resolve().parents[2])
    return [here] + [os.path.abspath(p) if p else os.getcwd() for p in sys.path]


def _run_isolated(job: Job, osdi, timeout: float, work: Path, bar: SpiceBar | None = None, library: str | None = None):
    """Run in a :class:`~memspice.spice.sandbox.Worker` in ``work``; returns its (status, payload)."""
    try:
        worker = sandbox.Worker(work, __name__, confine=job.confine, path=_worker_path())
    except OSError as exc:
        raise SpiceCrashError(f"could not start the libngspice worker: {exc}") from exc
    show = bar is not None and bar.active
    return run_in_worker(
        worker,
        (job, osdi, timeout, show, library),
        _checked,
        timeout=timeout,
        trusted=job.trusted,
        what="the libngspice worker",
        on_progress=bar.status if bar is not None else None,
    )


def _checked(message):
    """A worker's message if it has the shape :func:`serve` sends, else :class:`WireError`."""
    import numpy as np

    if not (isinstance(message, tuple) and len(message) == 2 and message[0] in ("started", "progress", "ok", "error")):
        raise WireError("not a (status, payload) pair")
    status, payload = message
    if status in ("started", "progress") and isinstance(payload, str):
        return message
    if status == "error" and isinstance(payload, BaseException):
        return message
    if status == "ok" and isinstance(payload, tuple) and len(payload) == 2 and isinstance(payload[1], str):
        plots = payload[0]
        if isinstance(plots, dict) and all(
            isinstance(name, str)
            and isinstance(vectors, dict)
            and all(isinstance(k, str) and isinstance(v, np.ndarray) for k, v in vectors.items())
            for name, vectors in plots.items()
        ):
            return message
    raise WireError(f"a {status!r} message of an unexpected shape")
