"""memspice's own sparse solver (MNA) for crossbars too large for SPICE."""
from .dc import CrossbarSolution, NewtonError, solve_dc
from .linear import LinearSolveError

__all__ = ["solve_dc", "CrossbarSolution", "NewtonError", "LinearSolveError"]
