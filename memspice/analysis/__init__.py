"""Waveform containers, measurements and plots."""

from ..spice.waveforms import Waveforms

__all__ = ["Waveforms"]
