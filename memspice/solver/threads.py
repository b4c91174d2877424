"""How many threads the solver's numba kernels use.

The structured solver's kernels run their line loops with ``numba.prange`` on every core by default.  On a
machine shared with other jobs that can be much slower than one thread (measured on a 2-core machine under
load: a 128 x 128 read took 13 ms with 1 thread and 94-150 ms with 2), so the count is a user setting:

>>> from memspice.solver import set_threads, get_threads
>>> set_threads(1)            # doctest: +SKIP
>>> get_threads()             # doctest: +SKIP
1

``set_threads(None)`` goes back to numba's default (``NUMBA_NUM_THREADS``, normally the number of cores).
The environment variable ``MEMSPICE_THREADS`` sets the count for every process at import.  Arrays of fewer
than :data:`SERIAL_BELOW` cells run on one thread whatever the count: there thread start-up costs more
than the work.

Idle threads sleep rather than spin: importing :mod:`memspice.solver` sets ``OMP_WAIT_POLICY=PASSIVE``
for numba's OpenMP layer unless the variable is already set (:func:`configure_waiting`).
"""

from __future__ import annotations

import contextlib
import numbers
import os

ENV = "MEMSPICE_THREADS"
#: OpenMP's choice between spinning and sleeping threads between parallel loops
WAIT_POLICY = "OMP_WAIT_POLICY"


def _numba():
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency
        return None
    return numba


def max_threads() -> int:
    """The most threads numba may use in this process (``NUMBA_NUM_THREADS``; 1 without numba)."""
    numba = _numba()
    return 1 if numba is None else int(numba.config.NUMBA_NUM_THREADS)


def get_threads() -> int:
    """Threads the solver kernels use now."""
    numba = _numba()
    return 1 if numba is None else int(numba.get_num_threads())


def set_threads(count: int | None) -> int:
    """Use ``count`` threads in the solver kernels (None: numba's default); returns the count set.

    Raises
    ------
    ValueError
        ``count`` is not a whole number from 1 to :func:`max_threads`.
    """
    numba = _numba()
    limit = max_threads()
    if count is None:
        count = limit
    if isinstance(count, bool) or not isinstance(count, numbers.Integral):
        raise ValueError(f"threads must be a whole number from 1 to {limit}, got {count!r}")
    if not 1 <= int(count) <= limit:
        raise ValueError(f"threads must be from 1 to {limit} (NUMBA_NUM_THREADS), got {count}")
    if numba is not None:
        numba.set_num_threads(int(count))
    return int(count)


#: arrays with fewer cells than this run their solver kernels on one thread (measured, quiet 2-core machine,
#: ms per structured read: 32 x 32: one thread 0.43, two sleeping threads 1.11, two spinning 0.42;
#: 128 x 128: 1.79 / 2.53 / 1.92; 256 x 256: 11.5 / 11.4 / 12.2; 512 x 512: 62 / 54 / 46): below it one
#: thread is as fast as two spinning ones and, unlike them, stays fast on a busy machine
SERIAL_BELOW = 256 * 256


def threads_for(cells: int) -> int | None:
    """Solver threads for an array of ``cells`` cells: 1 below :data:`SERIAL_BELOW`, else None (the set count)."""
    return 1 if cells < SERIAL_BELOW else None


@contextlib.contextmanager
def using_threads(count: int | None):
    """Run the block with ``count`` solver threads (None: leave the count alone), then restore it.

    numba keeps the count per calling thread, so a Dask worker thread setting it does not change its
    neighbours'.
    """
    if count is None:
        yield get_threads()
        return
    before = get_threads()
    if before == count:  # nothing to change (numba's set_num_threads costs ~10 us: kernels call this often)
        yield before
        return
    try:
        yield set_threads(count)
    finally:
        set_threads(before)


def configure_from_environment() -> int | None:
    """Apply ``MEMSPICE_THREADS`` when set; returns the count set, or None."""
    value = os.environ.get(ENV, "").strip()
    if not value:
        return None
    try:
        count = int(value)
    except ValueError:
        raise ValueError(f"{ENV} must be a whole number of threads, got {value!r}") from None
    return set_threads(count)


def configure_waiting() -> str:
    """Let idle OpenMP threads sleep (``OMP_WAIT_POLICY=PASSIVE``) unless the user set the policy; returns it.

    libgomp's default lets a thread spin for a while after each parallel loop.  When another process holds
    a core, the spinning threads and the one doing the work take turns, and every loop ends late.  The cost
    of sleeping is the wake-up at the start of each loop.  Measured on this project's 2-core machine
    (``benchmarks/thread_wait.py``, ms per read of 512 x 512 and 1024 x 1024 arrays; smaller arrays run on
    one thread, :data:`SERIAL_BELOW`, and do not depend on the policy):

    ==========================================  ====================  ===================  ==============
    machine                                     libgomp default       sleeping (PASSIVE)   spinning
    ==========================================  ====================  ===================  ==============
    quiet                                       33, 184               36, 185              33, 159
    one other busy Python process               109, 375              55, 283              74, 320
    an ngspice run on the other core            -, 998                -, 294               -, 956
    ==========================================  ====================  ===================  ==============

    Sleeping costs up to 15% on a dedicated machine and saved 1.3-3.4x on a shared one, so it is the
    default.  On a dedicated machine, set ``OMP_WAIT_POLICY=ACTIVE`` before starting Python for the faster
    numbers.  The variable is read when
    numba first starts its threads, so this runs at the import of :mod:`memspice.solver`, before any kernel.
    """
    return os.environ.setdefault(WAIT_POLICY, "PASSIVE")
