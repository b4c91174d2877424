"""Labelled waveforms: a shared axis (time or sweep) plus named signals with units."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


def unit_of(name: str) -> str:
    """Best-guess SI unit from a SPICE vector name: v(...) -> V, i(...) -> A."""
    low = name.lower()
    if low == "time":
        return "s"
    if low.startswith("v("):
        return "V"
    if low.startswith("i(") or low.endswith("#branch"):
        return "A"
    return ""


@dataclass
class Waveforms:
    """Signals sharing one axis.

    ``axis_name`` is ``"time"`` (s) for transients, the swept source for DC
    sweeps and ``"index"`` for operating points.  Signals are float64 numpy
    arrays keyed by lower-case names such as ``v(out)`` or ``i(vin)``.
    """

    axis: np.ndarray
    signals: dict[str, np.ndarray]
    axis_name: str = "time"
    units: dict[str, str] = field(default_factory=dict)
    title: str = ""

    def __post_init__(self):
        self.axis = np.asarray(self.axis, dtype=float)
        self.signals = {k.lower(): np.asarray(v, dtype=float) for k, v in self.signals.items()}
        for name, values in self.signals.items():
            if values.shape[:1] != self.axis.shape:
                raise ValueError(f"signal {name!r} has {values.shape[0]} points, axis has {self.axis.size}")
            self.units.setdefault(name, unit_of(name))
        self.units.setdefault(self.axis_name, "s" if self.axis_name == "time" else "")

    @property
    def time(self) -> np.ndarray:
        """The axis, for transient results (s)."""
        return self.axis

    @property
    def names(self) -> list[str]:
        return list(self.signals)

    def __getitem__(self, name: str) -> np.ndarray:
        key = name.lower()
        if key in self.signals:
            return self.signals[key]
        if key == self.axis_name.lower():
            return self.axis
        raise KeyError(f"no signal {name!r}; available: {', '.join(self.names)}")

    def __contains__(self, name: str) -> bool:
        return name.lower() in self.signals

    def __len__(self) -> int:
        return self.axis.size

    def at(self, name: str, axis_values) -> np.ndarray:
        """Linear interpolation of signal ``name`` at ``axis_values``."""
        return np.interp(axis_values, self.axis, self[name])

    def to_csv(self, path=None) -> str:
        """Write (or return) CSV with a header row of ``name [unit]``."""
        buf = io.StringIO()
        w = csv.writer(buf)
        cols = [self.axis_name] + self.names
        w.writerow([f"{c} [{self.units.get(c, '')}]" for c in cols])
        data = np.column_stack([self.axis] + [self.signals[n] for n in self.names])
        w.writerows(data.tolist())
        text = buf.getvalue()
        if path is not None:
            Path(path).write_text(text)
        return text

    def to_npz(self, path) -> None:
        """Save to ``.npz`` (axis, signals and units) for :meth:`from_npz`."""
        np.savez(path, __axis__=self.axis, __axis_name__=self.axis_name, __title__=self.title,
                 __units__=np.array([f"{k}\t{v}" for k, v in self.units.items()]),
                 **{f"s:{k}": v for k, v in self.signals.items()})

    @classmethod
    def from_npz(cls, path) -> "Waveforms":
        with np.load(path, allow_pickle=False) as z:
            units = dict(line.split("\t", 1) for line in z["__units__"].tolist())
            sigs = {k[2:]: z[k] for k in z.files if k.startswith("s:")}
            return cls(z["__axis__"], sigs, str(z["__axis_name__"]), units, str(z["__title__"]))

    def __repr__(self) -> str:
        shown = ", ".join(self.names[:8]) + (f", ... ({len(self.names)} signals)" if len(self.names) > 8 else "")
        return f"Waveforms({self.axis_name}: {self.axis.size} points; {shown})"
