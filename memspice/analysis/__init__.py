"""Waveform containers, measurements and plots."""

from ..core.waveforms import Waveforms

__all__ = ["Waveforms"]
