"""Atomic output files for the bottom layer: write beside the target, then rename.

A full disk or an interrupted run leaves the previous good file in place
instead of a truncated one that a reader would take silently.  Lives in
the bottom layer (``memspice.core``) so that :mod:`memspice.core.waveforms`
needs nothing from higher layers.  The file gets the permissions ``open()``
would give it (``0o666`` less the umask), or keeps those of the file it
replaces; ``mkstemp``'s private ``0o600`` is only for the moment it is being
written.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows (``os.umask`` sets it as it reads)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path, data: str | bytes) -> Path:
    """Write ``data`` (text or bytes) to ``path`` atomically and return the path (permissions: module docstring)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def save_figure_atomic(fig, path, dpi: int = 150) -> Path:
    """Save a matplotlib figure to ``path`` (format from the suffix) atomically."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, dpi=dpi, format=Path(path).suffix.lstrip(".") or "png")
    return write_atomic(path, buf.getvalue())
