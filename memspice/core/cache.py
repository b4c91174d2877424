"""memspice's one cache folder: compiled Verilog-A libraries (``osdi/``) and numba kernels (``numba/``).

The folder is ``$MEMSPICE_CACHE`` when set, otherwise the platform's user cache folder for
"memspice" from platformdirs (``$XDG_CACHE_HOME/memspice``, default ``~/.cache/memspice``, on
Linux; ``~/Library/Caches/memspice`` on macOS; ``%LOCALAPPDATA%\\memspice\\Cache`` on Windows).
Everything memspice caches can be deleted at any time: it is rebuilt when needed.
"""

from __future__ import annotations

import os
from pathlib import Path

#: environment variable that moves the whole cache
CACHE_ENV = "MEMSPICE_CACHE"


def cache_root() -> Path:
    """The cache folder (not created): ``$MEMSPICE_CACHE`` or platformdirs' user cache folder."""
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("memspice", appauthor=False))


def cache_dir(kind: str, create: bool = True) -> Path:
    """``cache_root() / kind`` (``"osdi"``, ``"numba"``), created unless ``create=False``."""
    path = cache_root() / kind
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
