"""memspice's own sparse solver (MNA) for crossbars too large for SPICE.

Choosing between ngspice and this solver (``simulate_crossbar``, ``choose_backend``) is one layer up, in
:mod:`memspice.simulate`, which uses the netlist writer too.
"""

from .dc import CrossbarSolution, NewtonError, memory_estimate, solve_dc
from .linear import LinearSolveError
from .threads import get_threads, set_threads
from .transfer import ReadStrategy, read_many
from .transient import CrossbarTransient, TransientError, simulate_transient

__all__ = [
    "simulate_transient",
    "CrossbarTransient",
    "TransientError",
    "solve_dc",
    "CrossbarSolution",
    "NewtonError",
    "LinearSolveError",
    "memory_estimate",
    "read_many",
    "ReadStrategy",
    "get_threads",
    "set_threads",
]
