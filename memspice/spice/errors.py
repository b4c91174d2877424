"""Exceptions raised by the ngspice drivers; each names what went wrong.

:class:`~memspice.core.osdi.OsdiUnavailable` (Verilog-A cannot be compiled or loaded) lives with the
compiler in :mod:`memspice.core.osdi` and is re-exported here.
"""

from ..core.osdi import OsdiUnavailable  # noqa: F401  (re-export: the drivers raise it too)


class SpiceError(RuntimeError):
    """Base class: a SPICE run did not produce trustworthy results.

    ``log`` holds the simulator output for the user to inspect.
    """

    def __init__(self, message: str, log: str = ""):
        tail = "\n".join(log.strip().splitlines()[-15:]) if log else ""
        super().__init__(message + (f"\n--- ngspice output (last lines) ---\n{tail}" if tail else ""))
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


class SpiceOutputError(SpiceError, OSError):
    """A result file could not be written or is incomplete (full disk, file-size limit).

    Also an :class:`OSError`, so callers that handle I/O failures catch it.
    """


class SharedModeBootstrapError(SpiceError):
    """Shared mode was started while a spawned worker re-imported the caller's script.

    A script that calls ``run(..., mode="shared")`` at top level needs an
    ``if __name__ == "__main__":`` guard (or ``isolate=False``, or ``mode="batch"``).
    """
