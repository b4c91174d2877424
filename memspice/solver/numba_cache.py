"""Where numba keeps the compiled solver kernels.

numba caches next to the source (``memspice/solver/__pycache__``).  Where
that folder is not writable (a system-wide or read-only install) every
process would recompile the kernels (~20 s), so :func:`configure` points
numba at memspice's cache folder instead: ``numba/`` in
:func:`memspice.core.cache.cache_root` (``$MEMSPICE_CACHE``, else the platform's
user cache folder, ``$XDG_CACHE_HOME/memspice`` on Linux).  A ``NUMBA_CACHE_DIR``
set by the user always wins.
Call it before numba compiles (``memspice.solver.structured`` does, at import).

A process that may write only its own folder (the co-simulation worker in the
kernel sandbox, :mod:`memspice.spice.sandbox`) sets :data:`READ_ONLY_ENV`:
there :func:`configure` makes numba read the kernels its parent compiled and
never write or probe a cache folder (numba's own locators create a file to
see whether they may write, at every decorated function; in the sandbox each
such attempt is a refused write, and without a writable folder numba refuses
to define the function at all).  Kernels missing from the cache are compiled
in memory.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from numba.core import caching as _caching

PACKAGE_CACHE = Path(__file__).resolve().parent / "__pycache__"
#: set (to any value) in a process that may write only its working folder: caches are read, never written
READ_ONLY_ENV = "MEMSPICE_NUMBA_CACHE_READ_ONLY"


def read_only() -> bool:
    """Whether this process reads numba's caches without writing them (:data:`READ_ONLY_ENV`)."""
    return bool(os.environ.get(READ_ONLY_ENV))


def writable(folder: Path) -> bool:
    """True if ``folder`` exists or can be made, and a file can be written in it."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
        return True
    except OSError:
        return False


def user_cache_dir() -> Path:
    """The user's cache folder for memspice's numba kernels (not created)."""
    from ..core.cache import cache_dir

    return cache_dir("numba", create=False)


def configure(package_cache: Path = PACKAGE_CACHE) -> Path | None:
    """Point numba at :func:`user_cache_dir` when ``package_cache`` is not writable.

    Returns the folder chosen, or None when nothing changed (the package folder is writable or the user
    set ``NUMBA_CACHE_DIR``).  With :data:`READ_ONLY_ENV` set: :func:`use_read_only`, None.
    """
    if read_only():
        use_read_only()
        return None
    if os.environ.get("NUMBA_CACHE_DIR"):
        return None
    if writable(package_cache):
        return None
    folder = user_cache_dir()
    if not writable(folder):
        return None
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    config = sys.modules.get("numba.core.config")
    if config is not None:  # numba already imported: its config read the environment before us
        config.CACHE_DIR = str(folder)  # type: ignore[attr-defined]
    return folder


class ReadOnlyUserProvidedCacheLocator(_caching.UserProvidedCacheLocator):
    """numba's locator for ``NUMBA_CACHE_DIR``, without its probe (a file created there to see if it may write)."""

    def ensure_cache_path(self) -> None:
        """Nothing to create or probe: a missing index is an empty cache to numba."""


class ReadOnlyInTreeCacheLocator(_caching.InTreeCacheLocator):
    """numba's locator beside the source (``__pycache__``), without its probe."""

    def ensure_cache_path(self) -> None:
        """Nothing to create or probe: a missing index is an empty cache to numba."""


#: what a read-only process looks for, in numba's own order (``NUMBA_CACHE_DIR`` first when set)
READ_ONLY_LOCATORS = (ReadOnlyUserProvidedCacheLocator, ReadOnlyInTreeCacheLocator)


def _no_save(self, sig, data) -> None:
    """numba's ``Cache.save_overload`` in a read-only process: the compiled kernel stays in memory."""


def use_read_only() -> None:
    """Make numba in this process read the caches its parent wrote and write none (see the module docstring).

    The locators look where the parent's numba wrote (``NUMBA_CACHE_DIR`` when
    set, which :func:`configure` sets for the parent's children too; else
    beside the source) without numba's probe, and saving is switched off.
    The start method of :mod:`multiprocessing` becomes ``spawn``: with
    ``fork``, numba's parallel kernels create a POSIX semaphore in
    ``/dev/shm`` when they first start their threads (a lock against forked
    children, of which this process has none).
    """
    import multiprocessing

    from numba.core import config

    multiprocessing.set_start_method("spawn", force=True)
    config.CACHE_LOCATOR_CLASSES = ",".join(f"{__name__}.{cls.__name__}" for cls in READ_ONLY_LOCATORS)
    _caching.Cache.save_overload = _no_save
