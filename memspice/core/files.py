"""Atomic output files for the bottom layer: write beside the target, then rename.

A full disk or an interrupted run leaves the previous good file in place
instead of a truncated one that a reader would take silently.  Lives in
``spice/`` (the bottom layer) so that :mod:`memspice.core.waveforms` needs
nothing from higher layers; :mod:`memspice.analysis.files` has the same function.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path, data: str | bytes) -> Path:
    """Write ``data`` (text or bytes) to ``path`` atomically and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
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
