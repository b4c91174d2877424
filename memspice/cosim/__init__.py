"""SPICE-coupled co-simulation: ngspice periphery and memspice crossbars in one transient.

A designer marks crossbars in an ngspice netlist (:mod:`memspice.cosim.syntax`); :func:`cosimulate` runs
the periphery in ngspice and each marked crossbar in memspice's array solver, coupled at the ports by
Newton's method inside ngspice (:mod:`memspice.cosim.coupling`), and returns one
:class:`~memspice.core.waveforms.Waveforms` with every signal.  :func:`monolithic_netlist` writes the same
design for ngspice alone (every array expanded), the reference co-simulation is checked against.
"""

from .array import ArrayPorts, CosimArrayError
from .coupling import CouplingError
from .device import DeviceBuildError
from .partition import cosim_netlist, monolithic_netlist, monolithic_osdi, state_node
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
    "monolithic_osdi",
    "parse",
    "state_node",
]
