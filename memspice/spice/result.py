"""Result of one SPICE run."""
from __future__ import annotations

from dataclasses import dataclass

from ..analysis.waveforms import Waveforms


@dataclass
class SimulationResult:
    """Waveforms plus the provenance a validator needs."""

    waveforms: Waveforms
    log: str
    netlist: str
    mode: str
    workdir: str | None = None

    def __getitem__(self, name):
        return self.waveforms[name]
