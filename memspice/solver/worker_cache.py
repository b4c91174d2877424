"""Compiled kernels for a confined worker: a private copy of this process's numba cache.

A worker confined by :mod:`memspice.spice.sandbox` may write only its run folder, so numba cannot use the
parent's cache in place: every ``cache=True`` kernel probes its cache folder for write access when it is
defined (and saves there after compiling), and the package's ``__pycache__`` or the user's cache folder is
outside the run folder.  Letting a confined worker write there would also let a compromised worker plant
cache files the next unconfined process loads.  :func:`export_kernels` instead copies the parent's compiled
kernels (after it has compiled them) into a folder inside the run folder, laid out as numba expects under
``NUMBA_CACHE_DIR``, and returns the environment the worker starts with: it reads the copies, and anything it
compiles on its own stays in its run folder.

The layout (``<NUMBA_CACHE_DIR>/<folder name>_<sha1 of the source folder>``) is numba's
``_CacheLocator.get_suitable_cache_subpath``; a cache file is valid wherever it lies as long as its source
file's modification time and size are unchanged, so generated kernel modules are copied with their times.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from .state_kernels import GENERATED_IN_CACHE_DIR, generated_folder

#: the file kinds of numba's cache: index and compiled overloads
CACHE_SUFFIXES = (".nbi", ".nbc")


def _subpath(source_dir: Path) -> str:
    from numba.core.caching import _CacheLocator

    return _CacheLocator.get_suitable_cache_subpath(str(source_dir / "x.py"))


def _cache_locations(source_dir: Path) -> list[Path]:
    """Where this process's numba keeps the caches of the modules in ``source_dir``."""
    from numba.core import config

    places = [source_dir / "__pycache__"]
    if getattr(config, "CACHE_DIR", ""):
        places.append(Path(config.CACHE_DIR) / _subpath(source_dir))
    return places


def _copy_caches(source_dir: Path, target: Path) -> int:
    copied = 0
    for place in _cache_locations(source_dir):
        if not place.is_dir():
            continue
        target.mkdir(parents=True, exist_ok=True)
        for f in place.iterdir():
            if f.suffix in CACHE_SUFFIXES and f.is_file():
                shutil.copy2(f, target / f.name)
                copied += 1
    return copied


def export_kernels(dest: str | os.PathLike) -> dict[str, str]:
    """Copy memspice's compiled numba kernels into ``dest`` (numba's layout); the worker's environment.

    Parameters
    ----------
    dest : path
        A folder inside the worker's run folder (created).

    Returns
    -------
    dict
        ``{"NUMBA_CACHE_DIR": dest}``: start the worker with it, before it imports numba.
    """
    dest = Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    package = Path(__file__).resolve().parents[1]
    for folder in sorted({p.parent for p in package.rglob("*.py") if "__pycache__" not in p.parts}):
        _copy_caches(folder, dest / _subpath(folder))
    generated = generated_folder()
    worker_generated = dest / GENERATED_IN_CACHE_DIR
    worker_generated.mkdir(exist_ok=True)
    for module in generated.glob("*.py"):
        shutil.copy2(module, worker_generated / module.name)  # with its time: the caches stay valid
    _copy_caches(generated, dest / _subpath(worker_generated))
    return {"NUMBA_CACHE_DIR": str(dest)}


__all__ = ["export_kernels"]
