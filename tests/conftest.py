"""Shared fixtures: skip reasons that say exactly what is missing."""

import os

import pytest

from memspice.spice.capabilities import ngspice_info

from .strategies import register_profiles

register_profiles()  # hypothesis: the derandomized "quick" profile unless MEMSPICE_PROPERTY_PROFILE=long

INFO = ngspice_info()
needs_ngspice = pytest.mark.skipif(INFO.executable is None, reason="ngspice not installed (scripts/install_system.sh)")
needs_osdi = pytest.mark.skipif(
    not INFO.osdi,
    reason="Verilog-A/OSDI unavailable: " + ("; ".join(INFO.notes) or "needs ngspice >= 40 and openvaf-r"),
)
needs_shared = pytest.mark.skipif(INFO.shared_library is None, reason="libngspice not installed (libngspice0)")


def processes_inside(folder) -> list[int]:
    """Processes whose working directory is inside ``folder`` (a run, or one left behind)."""
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.readlink(f"/proc/{pid}/cwd").startswith(str(folder)):
                    found.append(int(pid))
            except OSError:
                pass
    return found
