"""Exceptions raised by the ngspice drivers; each names what went wrong.

:class:`~memspice.core.osdi.OsdiUnavailable` (Verilog-A cannot be compiled or loaded) lives with the
compiler in :mod:`memspice.core.osdi` and is re-exported here.
"""

import signal

from ..core.osdi import OsdiUnavailable  # noqa: F401  (re-export: the drivers raise it too)

#: longest message text and longest line of ngspice output an error shows (the whole log stays in ``.log``)
MESSAGE_LIMIT = 2000
LINE_LIMIT = 300
TAIL_LINES = 15


def cut(text: str, limit: int) -> str:
    """``text``, or its start and end around a note saying how much was cut when it is longer than ``limit``."""
    if len(text) <= limit:
        return text
    keep = max(limit - 60, 20)
    head, tail = text[: keep * 2 // 3], text[-(keep // 3) :]
    return f"{head} [... {len(text) - len(head) - len(tail)} characters cut ...] {tail}"


def log_tail(log: str, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of ``log``, each cut to :data:`LINE_LIMIT` characters."""
    return "\n".join(cut(ln, LINE_LIMIT) for ln in log.strip().splitlines()[-lines:])


class SpiceError(RuntimeError):
    """Base class: a SPICE run did not produce trustworthy results.

    ``log`` holds the simulator output for the user to inspect.  The message
    shows the last lines of it, and long lines or messages (a netlist of one
    20 MB line) are cut, saying so; ``log`` keeps everything.
    """

    def __init__(self, message: str, log: str = ""):
        tail = log_tail(log) if log else ""
        super().__init__(
            cut(message, MESSAGE_LIMIT) + (f"\n--- ngspice output (last lines) ---\n{tail}" if tail else "")
        )
        self.log = log


class NgspiceNotFound(SpiceError):
    """ngspice (executable or shared library) is not installed."""


class SpiceNetlistError(SpiceError):
    """ngspice rejected the netlist (syntax, unknown model or subcircuit, ...)."""


class SpiceConvergenceError(SpiceError):
    """ngspice did not converge (timestep too small, singular matrix, ...)."""


class SpiceCrashError(SpiceError):
    """ngspice terminated abnormally (signal, abort); the Python process survives."""


class SpiceTimeoutError(SpiceError):
    """ngspice ran past its time limit and was stopped."""


class UnsafeNetlistError(SpiceError):
    """The netlist asks ngspice to run a program, load a library or write outside the run's folder.

    memspice refuses such netlists unless the caller opts in (``allow_shell=True``,
    ``memspice run --allow-shell``; libraries through ``osdi=[...]`` / ``--osdi FILE``).
    """


class SandboxViolation(UnsafeNetlistError):
    """The kernel sandbox stopped ngspice from running a program or writing outside its run folder.

    ``programs`` and ``writes`` list what was refused.  Pass ``allow_shell=True``
    (``memspice run --allow-shell``) only for a netlist you trust.
    """

    def __init__(self, message: str, log: str = "", programs=(), writes=()):
        super().__init__(message, log)
        self.programs = list(programs)
        self.writes = list(writes)


class SpiceOutputError(SpiceError, OSError):
    """A result file could not be written or is incomplete (full disk, file-size limit).

    Also an :class:`OSError`, so callers that handle I/O failures catch it.
    """


class SharedModeBootstrapError(SpiceError):
    """Kept for compatibility; no longer raised.

    The shared-mode worker used to be a ``multiprocessing`` spawn that re-imported
    the caller's script, so an unguarded script started its run again inside it.
    The worker is now a fresh ``python -I`` (:class:`memspice.spice.sandbox.Worker`)
    that never imports the caller's script: no ``if __name__ == "__main__":`` guard
    is needed.
    """


#: signals that mean something outside stopped the process (not a fault inside it)
EXTERNAL_SIGNALS = {signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT}


def killed_message(what: str, signum: int) -> str:
    """Why ``what`` (a process) ended by signal ``signum``, in words: killed from outside, or a crash."""
    sig: signal.Signals | None
    try:
        sig = signal.Signals(signum)
        name = sig.name
    except ValueError:
        sig, name = None, f"signal {signum}"
    if sig in EXTERNAL_SIGNALS:
        hint = " (the system's out-of-memory killer sends it too)" if sig == signal.SIGKILL else ""
        return f"{what} was killed by {name} (signal {signum}) from outside memspice{hint}"
    return f"{what} crashed with {name} (signal {signum}): the netlist or a model triggered a simulator fault"
