"""Labelled waveforms: a shared axis (time or sweep) plus named signals with units.

The bottom layer's data container: the ngspice drivers, the raw-file reader
and VACASK return it; everything above uses it.  It imports nothing from
memspice outside :mod:`memspice.spice` (matplotlib and pandas only when
:meth:`Waveforms.plot` / :meth:`Waveforms.to_dataframe` are called).

Signal names of memspice's own netlists (lower case, as ngspice names them):

* ``v(in<i>)``: word-line driver ``i`` (V); ``v(s<j>)``: foot (sense node) of bit line ``j`` (V);
* ``i(vsense<j>)``: column ``j``'s output current (A) through the 0 V sense source or ideal TIA
  (SPICE sign: positive flows into the source's ``+`` node, i.e. out of the array);
* ``v(out<j>)``: TIA output of column ``j`` (V), when the netlist has TIAs;
* ``v(spk<j>)``: spike output of LIF neuron ``j`` (V) in neuron netlists.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np

from .files import write_atomic
from .units import SI_PREFIXES

#: plot axes go up to giga, as they did before the prefix tables were merged
_PREFIXES = [(scale, symbol) for scale, symbol, _ in SI_PREFIXES if scale <= 1e9]
#: with ``signals=None``, :meth:`Waveforms.plot` draws at most this many signals (assumed: a legend stays readable)
MAX_PLOTTED = 12


def engineering_scale(values, unit: str) -> tuple[float, str]:
    """Scale factor and prefixed unit for ``values`` in ``unit`` (e.g. 2e-5 s -> (1e6, "us")).

    Multiply the values by the factor to plot them in the prefixed unit.  An empty ``unit``
    keeps the values as they are.
    """
    if not unit:
        return 1.0, ""
    peak = float(np.max(np.abs(np.asarray(values, complex if np.iscomplexobj(values) else float)), initial=0.0))
    if peak == 0 or not np.isfinite(peak):
        return 1.0, unit
    for scale, prefix in _PREFIXES:
        if peak >= scale * 0.9995:
            return 1.0 / scale, prefix + unit
    return 1e15, "f" + unit


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
    names such as ``v(out)`` or ``i(vin)`` (see the module docstring for the
    names in memspice's own netlists).
    """

    axis: np.ndarray
    signals: dict[str, np.ndarray]
    axis_name: str = "time"
    units: dict[str, str] = field(default_factory=dict)
    title: str = ""

    def __post_init__(self):
        self.axis = np.asarray(self.axis, dtype=float)
        self.signals = {
            k.lower(): np.asarray(v, dtype=complex if np.iscomplexobj(v) else float) for k, v in self.signals.items()
        }
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

    def _check_names(self, signals) -> list[str]:
        if signals is None:
            return self.names
        names = [signals] if isinstance(signals, str) else list(signals)
        missing = [s for s in names if s.lower() not in self.signals]
        if missing:
            raise ValueError(f"signals: no signal {', '.join(map(repr, missing))}; available: {', '.join(self.names)}")
        return [s.lower() for s in names]

    # -- tables ---------------------------------------------------------------------------------------
    def to_dataframe(self, signals=None):
        """A pandas DataFrame: the axis as the index (named ``axis_name``), one column per signal.

        Complex (AC) signals stay complex columns.  Units are in ``df.attrs["units"]``
        (name -> SI unit, the axis included), the plot title in ``df.attrs["title"]``.

        Parameters
        ----------
        signals : sequence of str, optional
            Only these signals (default all); unknown names raise ``ValueError``.
        """
        import pandas as pd

        names = self._check_names(signals)
        df = pd.DataFrame({n: self.signals[n] for n in names}, index=pd.Index(self.axis, name=self.axis_name))
        df.attrs["units"] = {k: v for k, v in self.units.items() if k in names or k == self.axis_name}
        df.attrs["title"] = self.title
        return df

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
        arrays: dict[str, np.ndarray] = {
            "__axis__": self.axis,
            "__axis_name__": np.array(self.axis_name),
            "__title__": np.array(self.title),
            "__units__": np.array([f"{k}\t{v}" for k, v in self.units.items()]),
        }
        arrays.update({f"s:{k}": v for k, v in self.signals.items()})
        np.savez(buf, **arrays)  # type: ignore[arg-type]
        write_atomic(path, buf.getvalue())

    @classmethod
    def from_npz(cls, path) -> "Waveforms":
        with np.load(path, allow_pickle=False) as z:
            units = dict(line.split("\t", 1) for line in z["__units__"].tolist())
            sigs = {k[2:]: z[k] for k in z.files if k.startswith("s:")}
            return cls(z["__axis__"], sigs, str(z["__axis_name__"]), units, str(z["__title__"]))

    # -- figures --------------------------------------------------------------------------------------
    def plot(self, signals=None, ax=None):
        """Plot signals against the axis in engineering units (us, uA, mV ...); returns the Figure.

        Signals are grouped by unit: with ``ax=None`` each unit gets its own panel (shared
        axis); with ``ax`` given everything goes on it.  AC (complex) signals are drawn as
        magnitudes on a logarithmic frequency axis.  An operating point (one point) is drawn
        as bars, one per signal.  No matplotlib backend is forced: inline in Jupyter,
        ``fig.savefig`` in scripts.

        Parameters
        ----------
        signals : str or sequence of str, optional
            Names to draw; default all, at most :data:`MAX_PLOTTED` (the first ones).
        ax : matplotlib.axes.Axes, optional
            Axes to draw into.
        """
        import matplotlib.pyplot as plt

        names = self._check_names(signals)
        shown_note = ""
        if signals is None and len(names) > MAX_PLOTTED:
            shown_note = f" (first {MAX_PLOTTED} of {len(names)} signals)"
            names = names[:MAX_PLOTTED]
        if not names:
            raise ValueError(f"nothing to plot: {self.title or 'these waveforms'} have no signals")
        groups: dict[str, list[str]] = {}
        for n in names:
            groups.setdefault(self.units.get(n, ""), []).append(n)
        if ax is not None:
            fig, axes = ax.figure, [ax] * len(groups)
        else:
            fig, axes = plt.subplots(
                len(groups), 1, sharex=len(self) > 1, squeeze=False, figsize=(6.0, 1.2 + 2.2 * len(groups))
            )
            axes = list(axes[:, 0])
        kx, xu = engineering_scale(self.axis, self.units.get(self.axis_name, ""))
        for target, (unit, group) in zip(axes, groups.items()):
            data = [np.abs(self.signals[n]) for n in group]
            ky, yu = engineering_scale(np.concatenate(data), unit)
            labels = [f"|{n}|" if np.iscomplexobj(self.signals[n]) else n for n in group]
            if len(self) == 1:
                target.bar(range(len(group)), [float(np.real(self.signals[n][0])) * ky for n in group])
                target.set_xticks(
                    range(len(group)),
                    labels,
                    rotation=45 if len(group) > 4 else 0,
                    ha="right" if len(group) > 4 else "center",
                    fontsize=8,
                )
            else:
                for n, label, mag in zip(group, labels, data):
                    y = mag if np.iscomplexobj(self.signals[n]) else self.signals[n]
                    target.plot(self.axis * kx, y * ky, lw=1.2, label=label)
                if self.is_complex and self.axis_name == "frequency":
                    target.set_xscale("log")
                if len(group) > 1 or ax is not None:
                    target.legend(fontsize=8)
                else:
                    target.set_ylabel(labels[0])
            quantity = {"V": "voltage", "A": "current", "s": "time", "Hz": "frequency"}.get(unit, "value")
            target.set_ylabel(f"{quantity} ({yu})" if yu else quantity)
        if len(self) > 1:
            axes[-1].set_xlabel(f"{self.axis_name} ({xu})" if xu else self.axis_name)
        if self.title or shown_note:
            axes[0].set_title((self.title or "") + shown_note, fontsize=10)
        fig.tight_layout()
        return fig

    def __repr__(self) -> str:
        shown = ", ".join(self.names[:8]) + (f", ... ({len(self.names)} signals)" if len(self.names) > 8 else "")
        return f"Waveforms({self.axis_name}: {self.axis.size} points; {shown})"
