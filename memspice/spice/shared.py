"""In-process ngspice through PySpice's libngspice binding.

PySpice 1.5 flags every stderr line as an error, but ngspice >= 40 prints
informational lines there ("Using SPARSE 1.3 as Direct Linear Solver",
"Using KLU ...").  :class:`_MemspiceNgSpice` replaces that callback: it
keeps every line and leaves the verdict to :mod:`memspice.spice.log`.

``isolate=True`` (default) runs the shared library in a spawned child
process, so a segfault or ``controlled_exit`` inside libngspice can never
kill the caller's Python process.  ``isolate=False`` runs truly in-process
(fastest, for notebooks) with a timeout through ``bg_run``/``bg_halt``.

A netlist's ``.control`` blocks run as in batch mode (libngspice executes
them when the circuit is loaded, in the foreground: with ``isolate=False``
the timeout cannot stop them; the isolated worker is killed instead).  The
isolated worker runs in a private folder, where files the block writes go;
with ``isolate=False`` they go to the current directory.
Every plot is read from memory, complex AC results stay complex.

The spawned worker re-imports the caller's main script.  A script that calls
``run(..., mode="shared")`` at top level, without an ``if __name__ ==
"__main__":`` guard, would start the run again inside the worker; memspice
detects this and raises :class:`SharedModeBootstrapError` saying what to do.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from ..core.progress import enabled as progress_enabled
from ..core.waveforms import Waveforms
from .capabilities import ngspice_info, require_ngspice
from .errors import NgspiceNotFound, SharedModeBootstrapError, SpiceCrashError, SpiceError, SpiceTimeoutError
from .job import DEFAULT_TIMEOUT, Job, check_timeout, finish, prepare_job
from .log import is_informational
from .netlist_text import split_control
from .progress import SpiceBar
from .result import SimulationResult

_LOCK = threading.Lock()
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
            target = self._stderr if prefix == "stderr" else self._stdout
            target.append(content)
            self.__dict__.setdefault("memspice_log", []).append(content)
            if prefix == "stderr" and not is_informational(content):
                self.__dict__.setdefault("memspice_stderr_errors", []).append(content)
            return 0

        @staticmethod
        def _send_stat(message_c, ngspice_id, user_data):
            self = ffi.from_handle(user_data)
            self.__dict__["memspice_status"] = ffi.string(message_c).decode("utf8", errors="replace")
            return 0

        @staticmethod
        def _background_thread_running(is_running, ngspice_id, user_data):
            ffi.from_handle(user_data)._is_running = bool(is_running)
            return 0

        def vectors(self, plot_name: str) -> dict[str, np.ndarray]:
            from PySpice.Spice.NgSpice.Shared import FFI

            lib = self._ngspice_shared
            names_c = lib.ngSpice_AllVecs(plot_name.encode())
            out, i = {}, 0
            while names_c[i] != FFI.NULL:
                name = ffi.string(names_c[i]).decode()
                info = lib.ngGet_Vec_Info(f"{plot_name}.{name}".encode())
                n = info.v_length
                arr: np.ndarray
                if n == 0:
                    arr = np.zeros(0)
                elif info.v_compdata == FFI.NULL:
                    arr = np.frombuffer(ffi.buffer(info.v_realdata, n * 8), dtype=np.float64).copy()
                else:
                    arr = np.frombuffer(ffi.buffer(info.v_compdata, n * 16), dtype=np.complex128).copy()
                out[_spice_name(name, info.v_type)] = arr
                i += 1
            return out

    return _MemspiceNgSpice


_SV_VOLTAGE, _SV_CURRENT = 3, 4  # ngspice sharedspice.h simulation_types


def _spice_name(name: str, v_type: int) -> str:
    """Name vectors as the raw file does: ``v(node)``, ``i(source)``."""
    low = name.lower()
    if "(" in low or low in ("time", "frequency") or low.endswith("-sweep"):
        return low
    if low.endswith("#branch"):
        return f"i({low[:-7]})"
    if v_type == _SV_VOLTAGE:
        return f"v({low})"
    return low


def _instance():
    global _INSTANCE
    if _INSTANCE is None:
        info = ngspice_info()
        if not info.shared_library:
            raise NgspiceNotFound(
                "libngspice shared library not found (install libngspice0, or set MEMSPICE_LIBNGSPICE)"
            )
        os.environ.setdefault("NGSPICE_LIBRARY_PATH", info.shared_library)
        cls = _ngspice_class()
        cls.LIBRARY_PATH = info.shared_library
        inst = cls(ngspice_id=0, send_data=False)
        inst.__dict__.setdefault("memspice_log", [])
        inst.__dict__.setdefault("memspice_stderr_errors", [])
        _INSTANCE = inst
    return _INSTANCE


def _run_here(job: Job, osdi, timeout: float, report=None):
    """Run in this process; returns ({plot name: vectors}, log).

    ``report(message)`` receives libngspice's status messages (``tran: 45.3%``) while a run goes on.
    """
    ng = _instance()
    lib = ng._ngspice_shared
    _cleanup(lib)  # a previous run that raised may have left its circuit
    ng.memspice_log.clear()
    ng.memspice_stderr_errors.clear()
    ng.clear_output()
    for path in osdi:
        lib.ngSpice_Command(f"osdi {path}".encode())
    circuit, control = split_control(job.text)
    if job.user_control.strip():
        ng.load_circuit(job.text)  # libngspice runs the control block now, in the foreground
    else:
        ng.load_circuit(circuit)
        lib.ngSpice_Command(b"bg_run")
        t0 = last = time.monotonic()
        ng.__dict__["memspice_status"] = ""
        time.sleep(0.005)
        while lib.ngSpice_running():
            if report is not None and time.monotonic() - last > 0.2:
                last = time.monotonic()
                report(ng.__dict__.get("memspice_status", ""))
            if time.monotonic() - t0 > timeout:
                lib.ngSpice_Command(b"bg_halt")
                _cleanup(lib)
                raise SpiceTimeoutError(
                    f"ngspice exceeded the {timeout} s time limit and was halted", "\n".join(ng.memspice_log)
                )
            time.sleep(0.002)
    log = "\n".join(ng.memspice_log)
    plots = {}
    for name in reversed(ng.plot_names):  # libngspice lists the newest plot first
        if name != "const":
            plots[name] = ng.vectors(name)
    _cleanup(lib)
    return plots, log


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


def _child(conn, job, osdi, timeout, work, progress=False):
    try:
        os.chdir(work)  # a private folder (the parent removes it): files the control block writes land there
        report = (lambda message: conn.send(("progress", message))) if progress else None
        conn.send(("ok", _run_here(job, osdi, timeout, report)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        conn.send(("error", exc))
    finally:
        conn.close()


_GUARD_HINT = (
    "the calling script runs memspice.spice.run(..., mode='shared') at top level. The isolated "
    "libngspice worker is a spawned process that re-imports the main script, so the run would start "
    "again inside it. Put the script's work under 'if __name__ == \"__main__\":', or pass "
    "isolate=False (in-process), or use mode='batch'."
)


def _bootstrapping() -> bool:
    """Whether this process is a spawned worker still importing the parent's main script."""
    return bool(getattr(mp.current_process(), "_inheriting", False))


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
    if _bootstrapping():
        raise SharedModeBootstrapError("memspice shared mode started inside its own worker process: " + _GUARD_HINT)
    info = require_ngspice()
    osdi = [str(Path(p).expanduser().resolve()) for p in osdi]  # the worker runs in its own folder
    job = prepare_job(netlist, osdi, klu, allow_shell, base_dir, info.klu, raw_path=None)
    job = dataclasses.replace(job, text=_without_pre_osdi(job.text))
    bar = SpiceBar(progress_enabled(progress), None, "ngspice (shared)", percent=True)
    try:
        if not isolate:
            with _LOCK:
                plots, log = _run_here(job, osdi, timeout, bar.status if bar.active else None)
            return finish(job, _waves(plots), log, "shared")
        work = tempfile.mkdtemp(prefix="memspice-shared-")
        try:
            status, payload = _run_isolated(job, osdi, timeout, work, bar)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    finally:
        bar.close()
    if status == "error":
        raise payload
    plots, log = payload
    return finish(job, _waves(plots), log, "shared")


def _run_isolated(job: Job, osdi, timeout: float, work: str, bar: SpiceBar | None = None):
    """Run in a spawned worker whose working directory is ``work``; returns its (status, payload)."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    show = bar is not None and bar.active
    proc = ctx.Process(target=_child, args=(child, job, osdi, timeout, work, show), daemon=True)
    proc.start()
    child.close()
    # start-up of the child and the library
    deadline = None if timeout == float("inf") else time.monotonic() + timeout + 30.0
    try:
        while True:
            left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            if not parent.poll(left):
                proc.kill()
                proc.join()
                if proc.exitcode is not None and proc.exitcode < 0 and proc.exitcode != -9:
                    raise SpiceCrashError(f"libngspice worker crashed (exit code {proc.exitcode})")
                raise SpiceTimeoutError(f"ngspice (shared) exceeded the {timeout} s time limit and was stopped")
            result = parent.recv()
            if result[0] != "progress":
                break
            if bar is not None:
                bar.status(result[1])
    except EOFError:
        proc.join()
        main_file = getattr(sys.modules.get("__main__"), "__file__", None)
        if proc.exitcode == 1 and main_file and os.path.isfile(main_file):
            raise SharedModeBootstrapError(
                f"the libngspice worker exited (status 1) before running ngspice; most likely {_GUARD_HINT} "
                f"(script: {main_file}; the worker's own error is printed above)"
            ) from None
        raise SpiceCrashError(
            f"libngspice worker crashed (exit code {proc.exitcode}); the Python process is safe"
        ) from None
    proc.join(5)
    return result


def _without_pre_osdi(text: str) -> str:
    """Shared mode loads the caller's libraries with the ``osdi`` command before the circuit instead."""
    return "\n".join(ln for ln in text.splitlines() if not ln.startswith("pre_osdi ")) + "\n"
