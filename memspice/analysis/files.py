"""Atomic output files (the writer lives in the bottom layer, :mod:`memspice.spice.files`)."""

from ..spice.files import save_figure_atomic, write_atomic

__all__ = ["save_figure_atomic", "write_atomic"]
