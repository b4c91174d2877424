"""The parent's side of one job in a sandboxed worker: send it, read the answer as data, say what went wrong.

Two workers use it: the libngspice worker of shared mode
(:func:`memspice.spice.shared.serve`) and the co-simulation worker
(:func:`memspice.cosim.worker.serve`).  Both run in a
:class:`memspice.spice.sandbox.Worker` and talk the same protocol: the parent
sends one request (a pickle: the worker trusts its parent); the worker
answers with data-only messages (:mod:`memspice.spice.wire`, never pickles:
the parent does not trust code that may have taken over the worker):

* ``("started", "")`` once its interpreter is up: the run's ``timeout``
  counts from here (a second one is a forged message);
* ``("progress", value)`` any number of times;
* ``("ok", payload)`` with ``payload[1]`` ngspice's log, or
  ``("error", exception)``; an exception is rebuilt as a class the parent
  knows (:mod:`memspice.spice.wire`), else a :class:`RuntimeError` naming it.

:func:`run_in_worker` applies the untrusted-run limits
(:mod:`memspice.spice.limits`) and turns every way the run can end without a
result into the error that names it.
"""

from __future__ import annotations

import time
from pathlib import Path

from . import limits
from .errors import SpiceCrashError, SpiceOutputError, SpiceTimeoutError, UnsafeNetlistError, killed_message
from .job import raise_for_sandbox
from .wire import WireError

#: seconds a worker may take to start (a fresh Python importing NumPy and the solvers) before its run's
#: timeout counts; assumed: ample on a loaded machine, where the start-up takes a few seconds
STARTUP_S = 30.0
#: seconds past the timeout given once the worker has started: its own halt at the timeout comes first
GRACE_S = 1.0


def run_in_worker(
    worker,
    request,
    check,
    *,
    timeout: float,
    trusted: bool,
    what: str,
    on_progress=None,
) -> tuple:
    """Send ``request`` to ``worker`` and return its final ``("ok", payload)`` or ``("error", exc)`` message.

    Parameters
    ----------
    worker : memspice.spice.sandbox.Worker
        A started worker (its run folder is ``worker.run_dir``).
    request : object
        What the worker's ``serve`` receives first.
    check : callable
        ``check(message)`` returns the message when it has a shape the worker sends, else raises
        :class:`~memspice.spice.wire.WireError`.
    timeout : float
        Seconds the run may take once the worker has started (``inf``: no limit).
    trusted : bool
        ``allow_shell=True``: no memory and disk limits.
    what : str
        The worker's name in messages ("the libngspice worker").
    on_progress : callable, optional
        Called with the payload of every ``progress`` message.

    Raises
    ------
    SandboxViolation
        The sandbox refused something the worker tried (names the program or path).
    UnsafeNetlistError
        The sandbox could not be set up, or the worker sent a message that is not data.
    SpiceOutputError, SpiceCrashError, SpiceTimeoutError
        The run filled the disk limit, ran out of memory, crashed or ran out of time.
    """
    work = Path(worker.run_dir)
    memory = None if trusted else limits.memory_limit()
    limits.limit_memory(worker.proc.pid, memory)
    if memory is not None:  # a worker cannot build a message larger than its own address space
        worker.conn.max_message = min(worker.conn.max_message, memory)
    guard = limits.FolderGuard(work, None if trusted else limits.disk_limit(work), worker.kill)
    deadline = None if timeout == float("inf") else time.monotonic() + timeout + STARTUP_S
    result, timed_out, forged, started = None, False, "", False
    try:
        with guard:
            worker.conn.send(request)
            while True:
                left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
                if not worker.conn.poll(left):
                    timed_out = True
                    break
                message = check(worker.conn.recv())
                if message[0] == "started":
                    if started:  # each one would move the deadline: a worker could run for ever
                        raise WireError("a second 'started' message")
                    started = True
                    if deadline is not None:
                        deadline = time.monotonic() + timeout + GRACE_S
                elif message[0] == "progress":
                    if on_progress is not None:
                        on_progress(message[1])
                else:
                    result = message
                    break
    except (EOFError, OSError):
        pass  # the worker ended without a result: its exit status says why
    except WireError as exc:  # not data: code that took over the worker tried to reach this process
        forged = str(exc)
    finally:
        if result is None:  # timeout, a crash, Ctrl-C, SIGTERM: stop the worker
            worker.kill()
        programs, writes = worker.close()
    out = worker.output
    if guard.exceeded is not None:
        raise SpiceOutputError(guard.message(), out)
    if worker.confined:
        reason = worker.setup_failure()
        if reason:
            raise UnsafeNetlistError(
                f"the kernel sandbox could not be set up for {what} ({reason}); nothing was run", out
            )
        log = result[1][1] if result is not None and result[0] == "ok" else out
        raise_for_sandbox(programs, writes, log, work)
    if forged:
        raise UnsafeNetlistError(
            f"{what} sent a message that is not plain data ({forged}); memspice read none of it and stopped the "
            "worker. Code the netlist loaded (a codemodel or OSDI library) or a fault in libngspice may have taken "
            "over the worker",
            out,
        )
    if result is not None:
        failure_log = getattr(result[1], "log", "") if result[0] == "error" else ""
        if memory is not None and isinstance(failure_log, str) and limits.out_of_memory(failure_log):
            raise SpiceCrashError(limits.memory_message(memory), failure_log)
        return result
    if timed_out:
        raise SpiceTimeoutError(f"{what} exceeded the {timeout} s time limit and was stopped", out)
    if memory is not None and limits.out_of_memory(out):
        raise SpiceCrashError(limits.memory_message(memory), out)
    code = worker.proc.returncode
    if code is not None and code < 0:
        raise SpiceCrashError(killed_message(what, -code) + "; memspice is safe", out)
    raise SpiceCrashError(f"{what} ended (exit status {code}) without a result; memspice is safe", out)
