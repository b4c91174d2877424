"""Drive ngspice: batch (child process, raw file) or shared (PySpice libngspice)."""
from .batch import run_batch
from .capabilities import NgspiceInfo, ngspice_info, require_ngspice
from .errors import (NgspiceNotFound, OsdiUnavailable, SpiceConvergenceError, SpiceCrashError, SpiceError,
                     SpiceNetlistError, SpiceTimeoutError)
from .osdi import compile_veriloga
from .result import SimulationResult


def run(netlist: str, mode: str = "batch", **kwargs) -> SimulationResult:
    """Run a netlist; ``mode`` is ``"batch"`` (child ngspice) or ``"shared"`` (libngspice via PySpice)."""
    if mode == "batch":
        return run_batch(netlist, **kwargs)
    if mode == "shared":
        from .shared import run_shared

        return run_shared(netlist, **kwargs)
    raise ValueError(f"mode must be 'batch' or 'shared', got {mode!r}")


__all__ = [
    "run", "run_batch", "ngspice_info", "require_ngspice", "NgspiceInfo", "compile_veriloga", "SimulationResult",
    "SpiceError", "NgspiceNotFound", "SpiceNetlistError", "SpiceConvergenceError", "SpiceCrashError",
    "SpiceTimeoutError", "OsdiUnavailable",
]
