"""Moved to :mod:`memspice.spice.waveforms` (the bottom layer); this re-export goes away later."""

from ..spice.waveforms import Waveforms, unit_of  # noqa: F401
