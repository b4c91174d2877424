"""Registry of ``memspice reproduce`` names.

Each entry names ``module:function``; the function takes ``quick`` (bool: a
smaller, faster run for tests) and ``seed`` (int) and returns a
:class:`~memspice.analysis.reproduction.Reproduction`.  Modules are imported
only when their reproduction runs, so ``memspice reproduce lif`` does not load
the video or speech data sets.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect

from .analysis.reproduction import Reproduction

REGISTRY: dict[str, str] = {
    # device and circuit figures (memspice.analysis.reproductions; the solver's accuracy in systems.linalg)
    "hysteresis": "memspice.analysis.reproductions:reproduce_hysteresis",
    "ddk": "memspice.analysis.reproductions:reproduce_ddk_features",
    "lif": "memspice.analysis.reproductions:reproduce_lif",
    "mvm": "memspice.analysis.reproductions:reproduce_mvm",
    "solver": "memspice.systems.linalg.reproduce:solver_gain",
    # seed 000: TiOx array, online RPCA video separation (memspice.systems.rpca)
    "tiox-pulses": "memspice.systems.rpca.reproduce:tiox_pulses",
    "rpca": "memspice.systems.rpca.reproduce:rpca",
    # seed 003: drift-diffusion kinetics network (memspice.systems.ddk)
    "ddk-pulses": "memspice.systems.ddk.reproduce:ddk_pulses",
    "ddk-network": "memspice.systems.ddk.reproduce:ddk_network",
    # seed 004: spiking network (memspice.systems.snn)
    "snn": "memspice.systems.snn.reproduce:snn",
    # seed 002: analog linear algebra (memspice.systems.linalg)
    "solver-transient": "memspice.systems.linalg.reproduce:solver_transient",
    "eigen": "memspice.systems.linalg.reproduce:eigen",
    "refine": "memspice.systems.linalg.reproduce:refine",
    "adc": "memspice.systems.linalg.reproduce:adc",
}


def available() -> list[str]:
    """Names whose module is present in this installation."""
    names = []
    for name, target in REGISTRY.items():
        try:
            if importlib.util.find_spec(target.split(":")[0]) is not None:
                names.append(name)
        except ModuleNotFoundError:  # a parent package is missing
            pass
    return names


def reproduction_function(name: str):
    """The function registered under ``name``; ``KeyError`` naming the known ones otherwise."""
    if name not in REGISTRY:
        raise KeyError(f"unknown reproduction {name!r}; known: {', '.join(REGISTRY)}")
    module, func = REGISTRY[name].split(":")
    return getattr(importlib.import_module(module), func)


def reproduce(name: str, quick: bool = False, seed: int = 0) -> Reproduction:
    """Run the reproduction ``name`` and return its :class:`Reproduction`."""
    func = reproduction_function(name)
    params = inspect.signature(func).parameters
    kwargs = {k: v for k, v in (("quick", quick), ("seed", seed)) if k in params}
    result = func(**kwargs)
    if not isinstance(result, Reproduction):
        raise TypeError(f"reproduction {name!r} returned {type(result).__name__}, not Reproduction")
    return result
