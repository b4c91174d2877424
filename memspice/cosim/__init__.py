"""SPICE-coupled co-simulation: ngspice periphery and memspice crossbars in one transient.

A designer marks crossbars in an ngspice netlist (:mod:`memspice.cosim.syntax`); :func:`cosimulate` runs
the periphery in ngspice and each marked crossbar in memspice's array solver, coupled at the ports by
Newton's method inside ngspice (:mod:`memspice.cosim.coupling`), and returns one
:class:`~memspice.core.waveforms.Waveforms` with every signal.  :func:`monolithic_netlist` writes the same
design for ngspice alone (every array expanded), the reference co-simulation is checked against.
"""

import importlib
from typing import TYPE_CHECKING

#: public name -> submodule.  Imported on first use, not with the package: the co-simulation worker
#: (:mod:`memspice.cosim.worker`) must set up numba's read-only cache before any kernel module loads.
_EXPORTS = {
    "ArrayPorts": "array",
    "CosimArrayError": "array",
    "CouplingError": "coupling",
    "DeviceBuildError": "device",
    "cosim_netlist": "partition",
    "monolithic_netlist": "partition",
    "state_node": "partition",
    "CosimResult": "run",
    "cosimulate": "run",
    "MARKER": "syntax",
    "CosimNetlistError": "syntax",
    "Design": "syntax",
    "Marked": "syntax",
    "parse": "syntax",
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'memspice.cosim' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # static type checkers and IDEs see the real objects
    from .array import ArrayPorts, CosimArrayError
    from .coupling import CouplingError
    from .device import DeviceBuildError
    from .partition import cosim_netlist, monolithic_netlist, state_node
    from .run import CosimResult, cosimulate
    from .syntax import MARKER, CosimNetlistError, Design, Marked, parse

__all__ = [
    "MARKER",
    "ArrayPorts",
    "CosimArrayError",
    "CosimNetlistError",
    "CosimResult",
    "CouplingError",
    "Design",
    "DeviceBuildError",
    "Marked",
    "cosim_netlist",
    "cosimulate",
    "monolithic_netlist",
    "parse",
    "state_node",
]
