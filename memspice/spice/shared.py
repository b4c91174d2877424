"""In-process ngspice through PySpice's libngspice binding.

PySpice 1.5 flags every stderr line as an error, but ngspice >= 40 prints
informational lines there ("Using SPARSE 1.3 as Direct Linear Solver",
"Using KLU ...").  :class:`_MemspiceNgSpice` replaces that callback: it
keeps every line and leaves the verdict to :mod:`memspice.spice.log`.

``isolate=True`` (default) runs the shared library in a spawned child
process, so a segfault or ``controlled_exit`` inside libngspice can never
kill the caller's Python process.  ``isolate=False`` runs truly in-process
(fastest, for notebooks) with a timeout through ``bg_run``/``bg_halt``.
"""
from __future__ import annotations

import logging
import multiprocessing as mp
import os
import threading
import time

import numpy as np

from ..analysis.waveforms import Waveforms
from .capabilities import ngspice_info, require_ngspice
from .errors import NgspiceNotFound, SpiceCrashError, SpiceError, SpiceTimeoutError
from .log import is_informational, raise_for_log
from .netlist_text import prepare_netlist, split_control
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
                if info.v_compdata == FFI.NULL:
                    arr = np.frombuffer(ffi.buffer(info.v_realdata, n * 8), dtype=np.float64).copy()
                else:
                    arr = np.frombuffer(ffi.buffer(info.v_compdata, n * 16), dtype=np.complex128).real.copy()
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
            raise NgspiceNotFound("libngspice shared library not found (install libngspice0, or set MEMSPICE_LIBNGSPICE)")
        os.environ.setdefault("NGSPICE_LIBRARY_PATH", info.shared_library)
        cls = _ngspice_class()
        cls.LIBRARY_PATH = info.shared_library
        inst = cls(ngspice_id=0, send_data=False)
        inst.__dict__.setdefault("memspice_log", [])
        inst.__dict__.setdefault("memspice_stderr_errors", [])
        _INSTANCE = inst
    return _INSTANCE


def _run_here(netlist: str, osdi, klu: bool, timeout: float):
    """Run in this process; returns (axis_name, vectors, plot_name, log)."""
    ng = _instance()
    ng.memspice_log.clear()
    ng.memspice_stderr_errors.clear()
    ng.clear_output()
    lib = ng._ngspice_shared
    for path in osdi:
        lib.ngSpice_Command(f"osdi {path}".encode())
    text = prepare_netlist(netlist, osdi=(), klu=klu, raw_path=None)
    circuit, _ = split_control(text)
    ng.load_circuit(circuit)
    lib.ngSpice_Command(b"bg_run")
    t0 = time.monotonic()
    time.sleep(0.005)
    while lib.ngSpice_running():
        if time.monotonic() - t0 > timeout:
            lib.ngSpice_Command(b"bg_halt")
            _cleanup(lib)
            raise SpiceTimeoutError(f"ngspice exceeded the {timeout} s time limit and was halted",
                                    "\n".join(ng.memspice_log))
        time.sleep(0.002)
    log = "\n".join(ng.memspice_log)
    plot = ng.plot_names[0] if ng.plot_names else ""
    vectors = ng.vectors(plot) if plot and plot != "const" else {}
    _cleanup(lib)
    return plot, vectors, log, list(ng.memspice_stderr_errors)


def _cleanup(lib):
    for cmd in (b"destroy all", b"remcirc"):
        lib.ngSpice_Command(cmd)


def _to_waveforms(plot: str, vectors: dict) -> Waveforms:
    if plot.startswith("op"):
        return Waveforms(np.zeros(1), {k: v[:1] for k, v in vectors.items()}, "index", title=plot)
    for axis_name in ("time", "v-sweep", "i-sweep", "frequency", "temp-sweep"):
        if axis_name in vectors:
            axis = vectors.pop(axis_name)
            return Waveforms(axis, vectors, axis_name, title=plot)
    sweep = [k for k in vectors if k.endswith("-sweep")]
    if sweep:
        axis = vectors.pop(sweep[0])
        return Waveforms(axis, vectors, sweep[0], title=plot)
    raise SpiceError(f"cannot find the sweep axis of plot {plot!r}")


def _finish(netlist, osdi, klu, plot, vectors, log, errors) -> SimulationResult:
    produced = bool(vectors)
    raise_for_log(log, produced)
    if errors and not produced:
        raise SpiceError("ngspice reported errors: " + "; ".join(errors[:3]), log)
    if not produced:
        raise SpiceError("ngspice finished without results (no analysis in the netlist?)", log)
    return SimulationResult(_to_waveforms(plot, vectors), log, prepare_netlist(netlist, osdi, klu), "shared")


def _child(conn, netlist, osdi, klu, timeout):
    try:
        conn.send(("ok", _run_here(netlist, osdi, klu, timeout)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        conn.send(("error", exc))
    finally:
        conn.close()


def run_shared(netlist: str, timeout: float = 300.0, osdi: list = (), klu: bool | None = None,
               isolate: bool = True) -> SimulationResult:
    """Run ``netlist`` with libngspice (PySpice); see the module docstring for ``isolate``."""
    info = require_ngspice()
    klu = info.klu if klu is None else klu
    osdi = [str(p) for p in osdi]
    if not isolate:
        with _LOCK:
            plot, vectors, log, errors = _run_here(netlist, osdi, klu, timeout)
        return _finish(netlist, osdi, klu, plot, vectors, log, errors)
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, netlist, osdi, klu, timeout), daemon=True)
    proc.start()
    child.close()
    deadline = timeout + 30.0  # start-up of the child and the library
    if not parent.poll(deadline):
        proc.kill()
        proc.join()
        if proc.exitcode is not None and proc.exitcode < 0 and proc.exitcode != -9:
            raise SpiceCrashError(f"libngspice worker crashed (exit code {proc.exitcode})")
        raise SpiceTimeoutError(f"ngspice (shared) exceeded the {timeout} s time limit and was stopped")
    try:
        status, payload = parent.recv()
    except EOFError:
        proc.join()
        raise SpiceCrashError(f"libngspice worker crashed (exit code {proc.exitcode}); the Python process is safe")
    proc.join(5)
    if status == "error":
        raise payload
    plot, vectors, log, errors = payload
    return _finish(netlist, osdi, klu, plot, vectors, log, errors)
