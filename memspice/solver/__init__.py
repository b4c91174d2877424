"""memspice's own sparse solver (MNA) for crossbars too large for SPICE.

Choosing between ngspice and this solver (``simulate_crossbar``, ``choose_backend``) is one layer up, in
:mod:`memspice.simulate`, which uses the netlist writer too.
"""

from .threads import configure_waiting as _configure_waiting

_configure_waiting()  # before numba starts its threads (see memspice.solver.threads)

from .dc import CrossbarSolution, NewtonError, memory_estimate, solve_dc  # noqa: E402
from .guards import NonFiniteResultError  # noqa: E402
from .linear import LinearSolveError  # noqa: E402
from .reads import read_dc  # noqa: E402
from .solution import PerCellMemoryError, SolveInfo  # noqa: E402
from .threads import get_threads, set_threads  # noqa: E402
from .transfer import ReadStrategy, read_many  # noqa: E402
from .transient import CrossbarTransient, TransientError, TransientInterrupted, simulate_transient  # noqa: E402

__all__ = [
    "simulate_transient",
    "CrossbarTransient",
    "TransientError",
    "TransientInterrupted",
    "solve_dc",
    "CrossbarSolution",
    "PerCellMemoryError",
    "SolveInfo",
    "read_dc",
    "NewtonError",
    "NonFiniteResultError",
    "LinearSolveError",
    "memory_estimate",
    "read_many",
    "ReadStrategy",
    "get_threads",
    "set_threads",
]
