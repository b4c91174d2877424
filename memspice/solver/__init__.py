"""memspice's own sparse solver (MNA) for crossbars too large for SPICE.

``simulate_crossbar`` and ``choose_backend`` live in :mod:`memspice.simulate` (they use the netlist
writer too); they are re-exported here lazily, so importing the solver never imports the netlists.
"""
from .dc import CrossbarSolution, NewtonError, memory_estimate, solve_dc
from .linear import LinearSolveError
from .transient import CrossbarTransient, TransientError, simulate_transient

__all__ = ["simulate_crossbar", "choose_backend", "simulate_transient", "CrossbarTransient", "TransientError",
           "solve_dc", "CrossbarSolution", "NewtonError", "LinearSolveError", "memory_estimate"]

_FROM_SIMULATE = ("simulate_crossbar", "choose_backend")


def __getattr__(name):
    if name in _FROM_SIMULATE:
        from .. import simulate

        return getattr(simulate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
