"""How much memory there is, and the one rule for refusing work that needs more (before allocating it)."""

from __future__ import annotations

import os

#: result memory per cell and input vector: device currents, word- and bit-line voltages (three float64)
BYTES_PER_CELL_VECTOR = 24


def available_memory() -> int | None:
    """Bytes of memory available now (Linux ``MemAvailable``, else physical pages), None if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def memory_limit(max_memory: float | None) -> tuple[float | None, str]:
    """(bytes allowed, the words naming that limit): ``max_memory`` when given, else the memory available."""
    if max_memory is not None:
        return float(max_memory), "allowed by max_memory"
    return available_memory(), "available"


def gigabytes(n_bytes: float) -> str:
    """``n_bytes`` as a short size for messages: '3.93 GB', '393 kB'."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{n_bytes:.0f} B"
