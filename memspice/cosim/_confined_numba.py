"""numba in the confined co-simulation worker: kernel caches read-only, no process lock in /dev/shm.

The worker runs confined by the kernel sandbox (:mod:`memspice.spice.sandbox`): it may write only its run
folder.  numba, when a cached kernel module loads, probes every candidate cache folder by writing a
temporary file into it (``_CacheLocator.ensure_cache_path``) and saves what it compiles; in the confined
worker both are refused writes, which the sandbox reports (and memspice treats) as the netlist's.  The
parent compiles the arrays' kernels before it starts the worker (:func:`memspice.cosim.run.warm_up`), so the
worker only needs to *read* the caches: :func:`confined_numba` puts locators first that accept an
existing cache folder without a probe, and turns saving off (a kernel the warm-up missed compiles in memory,
slower but correct, and writes nothing).

numba's parallel kernels also take a process lock before they start their threads; under the ``fork``
start method it is a ``multiprocessing`` semaphore in ``/dev/shm`` (another refused write).  The worker
never forks through ``multiprocessing``, so it sets the ``spawn`` start method, for which numba uses no
such lock.
"""

from __future__ import annotations

import os

_DONE = False


def confined_numba() -> None:
    """Make numba in this process run without writing anything outside the run folder (call before any
    kernel module loads)."""
    global _DONE
    if _DONE:
        return
    import multiprocessing

    multiprocessing.set_start_method("spawn", force=True)
    try:
        from numba.core import caching
    except ImportError:  # pragma: no cover - the arrays then run without numba
        return

    def read_only(base):
        class ReadOnly(base):
            @classmethod
            def from_function(cls, py_func, py_file):
                if base is caching.UserProvidedCacheLocator and not caching.config.CACHE_DIR:
                    return None
                if not os.path.exists(py_file):
                    return None
                locator = cls(py_func, py_file)
                return locator if os.path.isdir(locator.get_cache_path()) else None

            def ensure_cache_path(self):
                raise PermissionError("memspice's co-simulation worker reads numba's cache only")

        ReadOnly.__name__ = ReadOnly.__qualname__ = f"ReadOnly{base.__name__}"
        return ReadOnly

    first = [read_only(caching.UserProvidedCacheLocator), read_only(caching.InTreeCacheLocator)]
    caching.CacheImpl._locator_classes = first + list(caching.CacheImpl._locator_classes)

    def no_save(self, sig, data):  # numba's Cache.save_overload: nothing is written
        return None

    caching.Cache.save_overload = no_save
    _DONE = True
