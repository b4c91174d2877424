"""Circuit building blocks: sources, crossbars, periphery, neurons, solvers."""

from .sources import PWL, Sine, pulse_train

__all__ = ["PWL", "Sine", "pulse_train"]
