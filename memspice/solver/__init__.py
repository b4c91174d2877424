"""memspice's own sparse solver (MNA) for crossbars too large for SPICE."""
from .dc import CrossbarSolution, NewtonError, solve_dc
from .backend import choose_backend, simulate_crossbar
from .linear import LinearSolveError
from .transient import CrossbarTransient, TransientError, simulate_transient

__all__ = ["simulate_crossbar", "choose_backend", "simulate_transient", "CrossbarTransient", "TransientError",
           "solve_dc", "CrossbarSolution", "NewtonError", "LinearSolveError"]
