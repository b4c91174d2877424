"""memspice: SPICE-coupled simulation of memristive in-memory-computing circuits.

The names a designer uses every day are here, loaded on first use (``import memspice`` stays fast
and starts neither ngspice nor numba)::

    import memspice as ms

    xbar = ms.Crossbar(g, r_word=1.0, r_bit=1.0)   # conductances (m, n), S; wire segments, Ohm
    sol = ms.simulate_crossbar(xbar, v)             # inputs (p, m), V -> sol.output_currents (p, n), A
    ms.ir_drop_map(sol), ms.read_energy(sol, 10e-9) # the result keeps its crossbar and inputs
    res = ms.run("circuit.cir")                     # any ngspice netlist -> res.waveforms

Everything else lives in the subpackages: :mod:`memspice.core` (units, waveforms, files),
:mod:`memspice.models`, :mod:`memspice.spice`, :mod:`memspice.circuits`, :mod:`memspice.netlists`,
:mod:`memspice.solver`, :mod:`memspice.systems`, :mod:`memspice.analysis`.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

try:
    __version__ = version("memspice")  # one source of truth: pyproject.toml
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+unknown"

#: public name -> module that defines it (imported on first access, PEP 562)
_EXPORTS: dict[str, str] = {
    # arrays and how to read them
    "Crossbar": "memspice.circuits.crossbar",
    "simulate_crossbar": "memspice.simulate",
    "Backend": "memspice.simulate",
    "simulate_transient": "memspice.solver.transient",
    "read_many": "memspice.solver.transfer",
    "CrossbarSolution": "memspice.solver.solution",
    "conductance_map": "memspice.circuits.weights",
    "differential_pair": "memspice.circuits.weights",
    # device models (one parameter set, three faces each)
    "DriftDiffusion": "memspice.models.drift_diffusion",
    "TiOx": "memspice.models.tiox",
    "ThresholdSwitch": "memspice.models.threshold_switch",
    "Selector": "memspice.models.selector",
    "AccessTransistor": "memspice.models.access_transistor",
    # sources
    "PWL": "memspice.circuits.sources",
    "Sine": "memspice.circuits.sources",
    "pulse_train": "memspice.circuits.sources",
    # ngspice
    "run": "memspice.spice",
    "SpiceError": "memspice.spice.errors",
    "Waveforms": "memspice.core.waveforms",
    "Face": "memspice.core.faces",
    # read cost
    "read_energy": "memspice.analysis.read_cost",
    "read_latency": "memspice.analysis.read_cost",
    "ir_drop_map": "memspice.analysis.metrics",
}

__all__ = [
    "AccessTransistor",
    "Backend",
    "Crossbar",
    "CrossbarSolution",
    "DriftDiffusion",
    "Face",
    "PWL",
    "Selector",
    "Sine",
    "SpiceError",
    "ThresholdSwitch",
    "TiOx",
    "Waveforms",
    "conductance_map",
    "differential_pair",
    "ir_drop_map",
    "pulse_train",
    "read_energy",
    "read_latency",
    "read_many",
    "run",
    "simulate_crossbar",
    "simulate_transient",
    "__version__",
]  # the same names as _EXPORTS (a test checks)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'memspice' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # static type checkers and IDEs see the real objects
    from .analysis.metrics import ir_drop_map
    from .analysis.read_cost import read_energy, read_latency
    from .circuits.crossbar import Crossbar
    from .circuits.sources import PWL, Sine, pulse_train
    from .circuits.weights import conductance_map, differential_pair
    from .core.faces import Face
    from .core.waveforms import Waveforms
    from .models.access_transistor import AccessTransistor
    from .models.drift_diffusion import DriftDiffusion
    from .models.selector import Selector
    from .models.threshold_switch import ThresholdSwitch
    from .models.tiox import TiOx
    from .simulate import Backend, simulate_crossbar
    from .solver.solution import CrossbarSolution
    from .solver.transfer import read_many
    from .solver.transient import simulate_transient
    from .spice import run
    from .spice.errors import SpiceError
