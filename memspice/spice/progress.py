"""Progress of long ngspice runs, and a hint when ngspice will be slow.

* Batch mode: ``ngspice -b`` prints ``Reference value : <t>`` while a transient
  (or DC sweep) runs; the fraction done is ``(t - start) / (stop - start)`` with
  the span read from the netlist's ``.tran`` / ``.dc`` line (or ``tran`` / ``dc``
  control command).  Without a known span the bar shows elapsed time only.
* Shared mode: libngspice's status callback sends ``tran: 45.3%`` messages.

The bar (:class:`SpiceBar`, a :class:`memspice.core.progress.Bar`) shows the time left once a
fraction is known; :func:`memspice.core.progress.enabled` decides whether it is shown.
"""

from __future__ import annotations

import re
import warnings

from ..core.progress import Bar
from ..core.units import parse_spice_number

#: ngspice -b progress messages (printed while a transient or DC sweep runs)
REFERENCE = re.compile(r"Reference value\s*:\s*([-+0-9.eE]+)")
#: libngspice status messages (shared mode), e.g. "tran: 45.3%"
STATUS = re.compile(r"([A-Za-z]+)\s*:\s*([0-9.]+)\s*%")
_TRAN = re.compile(r"^[ \t]*\.?tran[ \t]+(\S+)[ \t]+(\S+)(?:[ \t]+(\S+))?", re.I | re.M)
_DC = re.compile(r"^[ \t]*\.?dc[ \t]+\S+[ \t]+(\S+)[ \t]+(\S+)[ \t]+(\S+)", re.I | re.M)
_ELEMENT = re.compile(r"^[ \t]*[a-zA-Z]", re.M)
_TRANSIENT = re.compile(r"^[ \t]*\.?tran\b", re.I | re.M)

#: element lines above which a transient is flagged as slow.  Assumed from one measurement: a 128x128
#: 1S1R crossbar transient (about 50 000 element lines: cell, word and bit wire per cell) took 233 s in
#: ngspice 46 (issue 14), a 32x32 one (about 3 000 lines) a few seconds; 12 000 lines is about 64x64.
SLOW_TRANSIENT_ELEMENTS = 12_000
#: element lines above which any analysis is flagged (assumed: a DC point of a 256x256 array takes minutes)
SLOW_ANY_ELEMENTS = 200_000


class SlowSimulationWarning(UserWarning):
    """ngspice is likely to be slow on this netlist (see :func:`slow_hint`)."""


def analysis_span(text: str) -> tuple[float, float] | None:
    """(start, stop) of the first transient (s) or DC sweep in ``text``, or None."""
    for pattern, kind in ((_TRAN, "tran"), (_DC, "dc")):
        match = pattern.search(text)
        if not match:
            continue
        try:
            if kind == "tran":
                stop = parse_spice_number(match.group(2))
                start = (
                    parse_spice_number(match.group(3)) if match.group(3) and match.group(3).lower() != "uic" else 0.0
                )
            else:
                start, stop = parse_spice_number(match.group(1)), parse_spice_number(match.group(2))
        except ValueError:
            continue
        if stop != start:
            return start, stop
    return None


def element_count(text: str) -> int:
    """Element lines (R, C, X, B, V, N ...) outside ``.control`` blocks, the title line left out: a size
    measure ngspice cares about."""
    body = text.split("\n", 1)[1] if "\n" in text else ""
    body = re.sub(r"^[ \t]*\.control\b.*?^[ \t]*\.endc\b", "", body, flags=re.I | re.M | re.S)
    return len(_ELEMENT.findall(body))


def slow_hint(text: str) -> str | None:
    """A hint when ngspice will be slow on ``text`` (a large transient or a very large netlist), else None."""
    count = element_count(text)
    transient = bool(_TRANSIENT.search(text))
    if (transient and count > SLOW_TRANSIENT_ELEMENTS) or count > SLOW_ANY_ELEMENTS:
        what = "transient" if transient else "analysis"
        return (
            f"this {what} has {count:,} elements; ngspice may take minutes (a 128x128 crossbar transient took "
            "about 4 min). For crossbars, memspice's sparse solver is much faster: "
            "memspice.simulate.simulate_crossbar(xbar, v, backend='sparse') or "
            "memspice.solver.simulate_transient(...), or 'memspice read --backend sparse' on the command line"
        )
    return None


def warn_if_slow(text: str) -> str | None:
    """Emit :func:`slow_hint` as a :class:`SlowSimulationWarning`; returns the hint."""
    hint = slow_hint(text)
    if hint:
        warnings.warn(hint, SlowSimulationWarning, stacklevel=3)
    return hint


class SpiceBar(Bar):
    """A :class:`~memspice.core.progress.Bar` fed from ngspice's messages."""

    def feed(self, text: str) -> None:
        """Batch mode: parse the newest ``Reference value`` in a chunk of ngspice output."""
        if self._bar is None:
            return
        values = REFERENCE.findall(text)
        if values:
            try:
                self.reference(float(values[-1]))
            except ValueError:
                pass

    def status(self, message: str) -> None:
        """Shared mode: a libngspice status message such as ``tran: 45.3%``."""
        match = STATUS.search(message or "")
        if match:
            self.fraction(float(match.group(2)) / 100.0)
