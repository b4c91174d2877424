"""Independent voltage waveforms with a SPICE face and a Python face.

Each source evaluates v(t) (V) in numpy exactly as ngspice does for the
matching SPICE source specification, and lists its breakpoints (corners)
so ODE integrators step onto edges instead of across them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.units import parse_spice_number, spice_number


def _finite(name: str, **values: float) -> None:
    for key, val in values.items():
        if not isinstance(val, (int, float)) or not math.isfinite(val):
            raise ValueError(f"{name}.{key} must be a finite number, got {val!r}")


@dataclass(frozen=True)
class Sine:
    """v(t) = offset + amplitude sin(2 pi freq t) (SPICE ``SIN``); V, Hz."""

    amplitude: float
    freq: float
    offset: float = 0.0

    def __post_init__(self):
        _finite("Sine", amplitude=self.amplitude, freq=self.freq, offset=self.offset)
        if self.freq <= 0:
            raise ValueError(f"Sine.freq must be > 0, got {self.freq!r}")

    def __call__(self, t):
        return self.offset + self.amplitude * np.sin(2 * np.pi * self.freq * np.asarray(t, float))

    def spice(self) -> str:
        return f"SIN({spice_number(self.offset)} {spice_number(self.amplitude)} {spice_number(self.freq)} 0 0 0)"

    def breakpoints(self, t_stop: float) -> np.ndarray:
        return np.array([0.0, t_stop])


@dataclass(frozen=True)
class PWL:
    """Piecewise-linear v(t) through (times, values); held after the last point."""

    times: tuple
    values: tuple

    def __post_init__(self):
        t, v = np.asarray(self.times, float), np.asarray(self.values, float)
        if t.ndim != 1 or t.shape != v.shape or t.size < 1:
            raise ValueError("PWL.times and PWL.values must be 1-D and of equal length")
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(v))):
            raise ValueError("PWL.times and PWL.values must be finite")
        if np.any(np.diff(t) <= 0) or t[0] < 0:
            raise ValueError("PWL.times must start at >= 0 and increase strictly")
        object.__setattr__(self, "times", tuple(t.tolist()))
        object.__setattr__(self, "values", tuple(v.tolist()))

    def __call__(self, t):
        return np.interp(np.asarray(t, float), self.times, self.values)

    def spice(self) -> str:
        times = [spice_number(t) for t in self.times]
        if any(parse_spice_number(b) <= parse_spice_number(a) for a, b in zip(times, times[1:])):
            times = [repr(float(t)) for t in self.times]  # points closer than the fixed digits resolve
        pts = " ".join(f"{t} {spice_number(v)}" for t, v in zip(times, self.values))
        return f"PWL({pts})"

    def breakpoints(self, t_stop: float) -> np.ndarray:
        t = np.asarray(self.times)
        return np.unique(np.concatenate([[0.0], t[t < t_stop], [t_stop]]))


def pulse_train(
    amplitudes, width: float, period: float, rise: float | None = None, delay: float = 0.0, baseline: float = 0.0
) -> PWL:
    """Trapezoidal pulses, one per amplitude (V); ``width`` is the flat top (s).

    ``rise`` (s, also used as fall) defaults to width/20.  Returns a :class:`PWL`.
    """
    amps = np.atleast_1d(np.asarray(amplitudes, float))
    rise = width / 20 if rise is None else rise
    _finite("pulse_train", width=width, period=period, rise=rise, delay=delay, baseline=baseline)
    if width <= 0 or rise <= 0 or period < width + 2 * rise:
        raise ValueError(
            f"pulse_train needs width > 0, rise > 0 and period >= width + 2*rise, got "
            f"width={width!r}, rise={rise!r}, period={period!r}"
        )
    times, values = [0.0], [baseline]
    for k, a in enumerate(amps):
        t0 = delay + k * period
        if t0 > 0:
            times.append(t0)
            values.append(baseline)
        times += [t0 + rise, t0 + rise + width, t0 + 2 * rise + width]
        values += [a, a, baseline]
    times.append(delay + len(amps) * period)
    values.append(baseline)
    t = np.asarray(times)
    keep = np.concatenate([[True], np.diff(t) > 0])
    return PWL(tuple(t[keep]), tuple(np.asarray(values)[keep]))
