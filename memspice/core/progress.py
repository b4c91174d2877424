"""Progress bars for long runs (tqdm on stderr) with the time left, and when to show them.

A bar is shown only when stderr is a terminal (quiet in logs and CI) unless forced with
``progress=True``; ``MEMSPICE_PROGRESS=0`` turns bars off everywhere.  The ngspice drivers feed
bars from ngspice's own messages (:mod:`memspice.spice.progress`); the sparse transient from its
simulated time.
"""

from __future__ import annotations

import os
import sys


def enabled(progress: bool | None) -> bool:
    """Whether to show a bar: ``progress`` if given, else when stderr is a terminal; never with
    ``MEMSPICE_PROGRESS=0``."""
    if os.environ.get("MEMSPICE_PROGRESS", "").strip() == "0":
        return False
    if progress is not None:
        return bool(progress)
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Bar:
    """A tqdm bar over 0..100 % (or an elapsed-time counter when the span is unknown); no-op when disabled."""

    def __init__(
        self, show: bool, span: tuple[float, float] | None, desc: str = "ngspice", percent: bool | None = None
    ):
        self.span = span
        self._bar = None
        self._done = 0.0
        known = span is not None if percent is None else percent
        if show:
            from tqdm import tqdm

            fmt = (
                "{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining} left" if known else "{desc}: {elapsed} elapsed"
            )
            self._bar = tqdm(
                total=100.0 if known else None,
                desc=desc,
                bar_format=fmt,
                file=sys.stderr,
                leave=False,
                dynamic_ncols=True,
            )

    @property
    def active(self) -> bool:
        return self._bar is not None

    def fraction(self, value: float) -> None:
        """Set the fraction done (0..1)."""
        if self._bar is None:
            return
        value = min(max(float(value), 0.0), 1.0) * 100.0
        if value > self._done:
            self._bar.update(value - self._done)
            self._done = value
        else:
            self._bar.refresh()

    def reference(self, value: float) -> None:
        """ngspice's ``Reference value`` (the transient's time or the DC sweep's value)."""
        if self.span:
            start, stop = self.span
            self.fraction((value - start) / (stop - start))
        elif self._bar is not None:
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
