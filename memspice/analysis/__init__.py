"""Waveform containers, measurements and plots."""
from .waveforms import Waveforms

__all__ = ["Waveforms"]
