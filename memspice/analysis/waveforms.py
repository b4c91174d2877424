"""Labelled waveforms: a shared axis (time or sweep) plus named signals with units."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np

from .files import write_atomic


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
    sweeps, ``"frequency"`` (Hz) for AC and ``"index"`` for operating points.
    Signals are float64 numpy arrays, or complex128 for AC results (phasors:
    ``abs()`` is the magnitude, ``np.angle()`` the phase), keyed by lower-case
    names such as ``v(out)`` or ``i(vin)``.
    """

    axis: np.ndarray
    signals: dict[str, np.ndarray]
    axis_name: str = "time"
    units: dict[str, str] = field(default_factory=dict)
    title: str = ""

    def __post_init__(self):
        self.axis = np.asarray(self.axis, dtype=float)
        self.signals = {k.lower(): np.asarray(v, dtype=complex if np.iscomplexobj(v) else float)
                        for k, v in self.signals.items()}
        for name, values in self.signals.items():
            if values.shape[:1] != self.axis.shape:
                raise ValueError(f"signal {name!r} has {values.shape[0]} points, axis has {self.axis.size}")
            self.units.setdefault(name, unit_of(name))
        self.units.setdefault(self.axis_name, {"time": "s", "frequency": "Hz"}.get(self.axis_name, ""))

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

    @property
    def is_complex(self) -> bool:
        """Whether any signal is complex (AC analysis)."""
        return any(np.iscomplexobj(v) for v in self.signals.values())

    def at(self, name: str, axis_values) -> np.ndarray:
        """Linear interpolation of signal ``name`` at ``axis_values`` (real and imaginary parts apart)."""
        y = self[name]
        if np.iscomplexobj(y):
            return np.interp(axis_values, self.axis, y.real) + 1j * np.interp(axis_values, self.axis, y.imag)
        return np.interp(axis_values, self.axis, y)

    def to_csv(self, path=None) -> str:
        """Write (atomically) or return CSV with a header row of ``name [unit]``.

        A complex signal takes two columns, ``re(name)`` and ``im(name)``.
        """
        buf = io.StringIO()
        w = csv.writer(buf)
        header, columns = [f"{self.axis_name} [{self.units.get(self.axis_name, '')}]"], [self.axis]
        for n in self.names:
            unit, y = self.units.get(n, ""), self.signals[n]
            if np.iscomplexobj(y):
                header += [f"re({n}) [{unit}]", f"im({n}) [{unit}]"]
                columns += [y.real, y.imag]
            else:
                header.append(f"{n} [{unit}]")
                columns.append(y)
        w.writerow(header)
        w.writerows(np.column_stack(columns).tolist())
        text = buf.getvalue()
        if path is not None:
            write_atomic(path, text)
        return text

    def to_npz(self, path) -> None:
        """Save (atomically) to ``.npz`` (axis, signals and units) for :meth:`from_npz`."""
        buf = io.BytesIO()
        np.savez(buf, __axis__=self.axis, __axis_name__=self.axis_name, __title__=self.title,
                 __units__=np.array([f"{k}\t{v}" for k, v in self.units.items()]),
                 **{f"s:{k}": v for k, v in self.signals.items()})
        write_atomic(path, buf.getvalue())

    @classmethod
    def from_npz(cls, path) -> "Waveforms":
        with np.load(path, allow_pickle=False) as z:
            units = dict(line.split("\t", 1) for line in z["__units__"].tolist())
            sigs = {k[2:]: z[k] for k in z.files if k.startswith("s:")}
            return cls(z["__axis__"], sigs, str(z["__axis_name__"]), units, str(z["__title__"]))

    def __repr__(self) -> str:
        shown = ", ".join(self.names[:8]) + (f", ... ({len(self.names)} signals)" if len(self.names) > 8 else "")
        return f"Waveforms({self.axis_name}: {self.axis.size} points; {shown})"
