"""Compact device models; each is one parameter set with three faces.

``model.current``/``model.rate``/``model.simulate`` (Python reference),
``model.spice_subckt()`` (behavioural ngspice) and ``model.verilog_a()``
(Verilog-A for OSDI) are printed from the same sympy equations.
"""

from .base import CompactModel
from .drift_diffusion import DriftDiffusion, DriftDiffusionParallel, DriftDiffusionParams
from .selector import Selector, SelectorParams
from .threshold_switch import ThresholdSwitch, ThresholdSwitchParams
from .tiox import TiOx, TiOxParams

MODELS = {
    "drift_diffusion": DriftDiffusion,
    "drift_diffusion_parallel": DriftDiffusionParallel,
    "tiox": TiOx,
    "threshold_switch": ThresholdSwitch,
    "selector": Selector,
}

__all__ = [
    "CompactModel",
    "DriftDiffusion",
    "DriftDiffusionParallel",
    "DriftDiffusionParams",
    "TiOx",
    "TiOxParams",
    "ThresholdSwitch",
    "ThresholdSwitchParams",
    "Selector",
    "SelectorParams",
    "MODELS",
]
