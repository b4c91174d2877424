"""Where numba keeps the compiled solver kernels.

numba caches next to the source (``memspice/solver/__pycache__``).  Where
that folder is not writable (a system-wide or read-only install) every
process would recompile the kernels (~20 s), so :func:`configure` points
numba at memspice's cache folder instead: ``numba/`` in
:func:`memspice.core.cache.cache_root` (``$MEMSPICE_CACHE``, else the platform's
user cache folder, ``$XDG_CACHE_HOME/memspice`` on Linux).  A ``NUMBA_CACHE_DIR``
set by the user always wins.
Call it before numba compiles (``memspice.solver.structured`` does, at import).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

PACKAGE_CACHE = Path(__file__).resolve().parent / "__pycache__"


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
    set ``NUMBA_CACHE_DIR``).
    """
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
