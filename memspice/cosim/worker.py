"""The co-simulation worker: libngspice and the array solvers in one process, on the far side of a pipe.

:func:`serve` is what the worker process runs (see :func:`memspice.cosim.run._start_worker`: a kernel-
sandboxed interpreter where memspice has one).  It receives one job (a dict: the prepared netlist text,
the port-device library, libngspice's path, the marked arrays, whether to report progress), says
``("started", "")``, runs it with :func:`simulate` and sends back ``("ok", payload)`` or
``("error", exception)``; ``("progress", t)`` messages come in between.  What it sends is data only
(:mod:`memspice.spice.wire`: numbers, text, containers, numeric arrays, exceptions as class name and
arguments), never pickles: the worker runs an untrusted netlist, the parent reads its messages unconfined
(:data:`ERROR_MODULES`: the exception classes the parent rebuilds; others arrive as ``RuntimeError``).
"""

from __future__ import annotations

import os
import pickle
import time

import numpy as np

from . import device
from .coupling import Coupling, instance_path

#: seconds between progress messages (assumed: often enough for a live bar, cheap)
PROGRESS_EVERY_S = 0.2
#: OpenMP threads of ngspice's OSDI device loads in the worker.  ngspice evaluates OSDI instances as OpenMP
#: tasks in a parallel region entered on every Newton iteration, with ``num_threads`` threads (its spinit
#: sets 8).  The port devices' evaluations all call into Python and hold the GIL, so extra threads cannot run
#: them side by side; they only wake, wait and pass the GIL around on every iteration.  Measured on the
#: project's shared 2-core machine (write_design, 32 x 32 1S1R, same counters): 39.8 CPU s with ngspice's 8
#: threads, 29.5 with 1.  A netlist's own ``set num_threads`` (its control block runs later) still wins.
NGSPICE_THREADS = 1
#: modules whose exception classes the worker's errors may name: the parent rebuilds them as those classes
#: (besides builtins and memspice.spice's errors, :data:`memspice.spice.wire.EXCEPTION_MODULES`)
ERROR_MODULES = (
    "memspice.cosim.array",
    "memspice.cosim.coupling",
    "memspice.cosim.device",
    "memspice.cosim.syntax",
    "memspice.circuits.cells",
    "memspice.solver.dc",
    "memspice.solver.guards",
    "memspice.solver.linear",
    "memspice.solver.solution",
    "memspice.solver.transient",
)


def install(ffi, library: str, coupling: Coupling):
    """Point the port device's callback at ``coupling``; returns what must stay alive during the run."""
    ffi.cdef(
        "typedef int (*memspice_callback)(int, const char *, uint32_t, double, uint32_t, const double *, double *,"
        " double *, double *, char **, double *);"
        "void memspice_cosim_set_callback(memspice_callback f);"
    )
    lib = ffi.dlopen(library)  # the same loaded object ngspice's ``osdi`` command opens

    def callback(cid, name, flags, t, ports, v, i_out, g_out, bound, names, values):
        start = time.perf_counter()
        try:
            reltol, abstol = coupling.tolerances(names, values)
            volts = np.frombuffer(ffi.buffer(v, 8 * ports), dtype=np.float64).copy()
            status, current, conductance, limit = coupling.evaluate(
                int(cid), ffi.string(name).decode(errors="replace"), float(t), volts, reltol, abstol
            )
            np.frombuffer(ffi.buffer(i_out, 8 * ports), dtype=np.float64)[:] = current
            np.frombuffer(ffi.buffer(g_out, 8 * ports), dtype=np.float64)[:] = conductance
            bound[0] = limit
            return status
        except BaseException as exc:  # noqa: BLE001 - cffi would swallow it: keep it, stop ngspice
            coupling.error = coupling.error or exc
            return device.ABORT
        finally:
            coupling.callback_seconds += time.perf_counter() - start

    handle = ffi.callback("memspice_callback", callback)
    lib.memspice_cosim_set_callback(handle)
    return lib, handle


def simulate(job: dict, progress=None):
    """Run one co-simulation job in this process; returns the payload :func:`serve` sends back."""
    from .ngspice import Ngspice

    start, cpu = time.perf_counter(), time.process_time()
    specs = pickle.loads(job["specs"]) if isinstance(job["specs"], bytes) else job["specs"]
    coupling = Coupling(specs, progress)
    ng = Ngspice(job["libngspice"])
    keep = install(ng.ffi, job["library"], coupling)
    ng.command(f"set num_threads={NGSPICE_THREADS}")  # before the circuit: a netlist's own ``set`` still wins
    ng.command(f"osdi {job['library']}")
    ng.load(job["text"])  # the control block runs the analysis now, in this thread
    del keep
    if coupling.error is not None:
        raise coupling.error
    plots = {name: ng.vectors(name) for name in ng.plots()}
    last = next((v["time"] for v in reversed(list(plots.values())) if "time" in v and v["time"].size), None)
    if last is not None:
        coupling.finish(float(last[-1]))
    records, states = {}, {}
    for name, inst in coupling.instances.items():
        path = instance_path(name)
        r = inst.record
        records[path] = (
            np.array(r.times),
            np.array(r.currents) if r.currents else None,
            np.array(r.states) if r.states else None,
            inst.spec.xbar.m,
        )
        point = inst.ports.committed
        if inst.ports.stateful and point is not None:
            states[path] = point.x.reshape(inst.spec.xbar.shape).copy()
    ports = [inst.ports for inst in coupling.instances.values()]
    stats = {
        "accepted": coupling.accepted,
        "evaluations": coupling.evaluations,
        "array_solves": sum(p.solves for p in ports),
        "array_reused": sum(p.reused for p in ports),
        "array_updated": sum(p.updated for p in ports),
        "array_seconds": coupling.array_seconds,
        "callback_seconds": coupling.callback_seconds,
        "worker_seconds": time.perf_counter() - start,
        "worker_cpu_seconds": time.process_time() - cpu,
    }
    exited = None if ng.exited is None else (int(ng.exited[0]), bool(ng.exited[1]))
    return plots, ng.log, records, states, stats, coupling.failure_report(), exited


def serve(conn) -> None:
    """The worker's side: receive one job on ``conn``, run it, send the result (see module docstring)."""
    import multiprocessing

    # with "fork", numba's parallel kernels ask multiprocessing for a lock (a POSIX semaphore in /dev/shm,
    # outside the run folder: refused by the sandbox) when they start their threads; this process forks none
    multiprocessing.set_start_method("spawn", force=True)
    try:
        job = conn.recv()
        conn.send(("started", ""))  # the parent's clock for the timeout starts now, after the start-up
        os.chdir(job["work"])
        last = [0.0]

        def progress(t):
            now = time.perf_counter()
            if job["progress"] and now - last[0] > PROGRESS_EVERY_S:
                last[0] = now
                conn.send(("progress", t))

        conn.send(("ok", simulate(job, progress)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent (as data: memspice.spice.wire)
        conn.send(("error", exc))
    finally:
        conn.close()
