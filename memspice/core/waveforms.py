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
import difflib
import io
import time as _time
from dataclasses import dataclass, field

import numpy as np

from .files import write_atomic
from .units import SI_PREFIXES, column_name

#: plot axes go up to giga, as they did before the prefix tables were merged
_PREFIXES = [(scale, symbol) for scale, symbol, _ in SI_PREFIXES if scale <= 1e9]
#: with ``signals=None``, :meth:`Waveforms.plot` draws at most this many signals (assumed: a legend stays readable)
MAX_PLOTTED = 12


def engineering_scale(values, unit: str) -> tuple[float, str]:
    """Scale factor and prefixed unit for ``values`` in ``unit`` (e.g. 2e-5 s -> (1e6, "µs")).

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
            raise ValueError(self.unknown_signals_message(missing))
        return [s.lower() for s in names]

    #: with more signals than this, an unknown name's error lists close matches instead of every name
    LIST_ALL_BELOW = 30

    def unknown_signals_message(self, missing) -> str:
        """The error text for signal names this plot lacks: close matches (difflib), and every name if few.

        A plot of a large crossbar has thousands of signals; listing them on one line hides the
        answer, so above :attr:`LIST_ALL_BELOW` signals only the close matches are named.
        """
        where = f" in {self.title}" if self.title else ""
        parts = []
        for name in missing:
            close = difflib.get_close_matches(name.lower(), self.names, n=5, cutoff=0.6)
            parts.append(f"{name!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        text = f"no signal {', '.join(parts)}{where}"
        if len(self.names) < self.LIST_ALL_BELOW:
            return text + f"; available: {', '.join(self.names)}"
        return text + f"; {len(self.names)} signals available (list them with .names, or 'memspice run --list')"

    def select(self, signals) -> "Waveforms":
        """These signals only (same axis, units and title); ``None`` keeps every signal.

        Unknown names raise ``ValueError`` with close matches (:meth:`unknown_signals_message`).
        """
        names = self._check_names(signals)
        units = {k: v for k, v in self.units.items() if k in names or k == self.axis_name}
        return Waveforms(self.axis, {n: self.signals[n] for n in names}, self.axis_name, units, self.title)

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
        """Write (atomically) or return CSV with a header row of ``name_unit`` columns.

        Column names follow :func:`memspice.core.units.column_name` (``time_s``, ``v(out0)_V``,
        ``i(vsense0)_A``; ``index`` for an operating point), the convention of every table memspice
        writes.  A complex signal takes two columns, ``re(name)_unit`` and ``im(name)_unit``.
        """
        buf = io.StringIO()
        w = csv.writer(buf)
        header, columns = [column_name(self.axis_name, self.units.get(self.axis_name, ""))], [self.axis]
        for n in self.names:
            unit, y = self.units.get(n, ""), self.signals[n]
            if np.iscomplexobj(y):
                header += [column_name(f"re({n})", unit), column_name(f"im({n})", unit)]
                columns += [y.real, y.imag]
            else:
                header.append(column_name(n, unit))
                columns.append(y)
        w.writerow(header)
        w.writerows(np.column_stack(columns).tolist())
        text = buf.getvalue()
        if path is not None:
            write_atomic(path, text)
        return text

    def to_raw(self, path, binary: bool = True) -> None:
        """Write (atomically) an ngspice raw file that waveform viewers and :func:`memspice.spice.read_raw` read.

        The format is ngspice's own (a text header, then ``Binary:`` float64 / complex128 values point
        by point, or ``Values:`` in ASCII with ``binary=False``), so ngspice's ``load``, gwave,
        spicelib's ``RawRead`` and memspice read it back.  The axis is the first variable (``time``,
        ``frequency``, the swept source as ``v(<name>)``); an operating point has no axis variable.

        Parameters
        ----------
        path : str or os.PathLike
            File to write.
        binary : bool
            Binary values (default; exact and compact) or ASCII ``Values:``.
        """
        complex_ = self.is_complex
        op = self.axis_name == "index" and len(self) == 1
        kinds = {"V": "voltage", "A": "current", "s": "time", "Hz": "frequency"}
        variables = [] if op else [(self._raw_axis_name(), kinds.get(self.units.get(self.axis_name, ""), "voltage"))]
        variables += [(n, kinds.get(self.units.get(n, ""), "notype")) for n in self.names]
        columns = ([] if op else [self.axis]) + [self.signals[n] for n in self.names]
        data = np.column_stack(columns).astype(complex if complex_ else float) if columns else np.zeros((len(self), 0))
        plotname = (
            "Operating Point"
            if op
            else {"time": "Transient Analysis", "frequency": "AC Analysis"}.get(
                self.axis_name, "DC transfer characteristic"
            )
        )
        header = [
            f"Title: {self.title or 'memspice waveforms'}",
            f"Date: {_time.strftime('%a %b %d %H:%M:%S %Y')}",
            "Command: ngspice raw format, written by memspice Waveforms.to_raw",
            f"Plotname: {plotname}",
            f"Flags: {'complex' if complex_ else 'real'}",
            f"No. Variables: {len(variables)}",
            f"No. Points: {len(self)}",
            "Variables:",
        ]
        header += [f"\t{k}\t{name}\t{kind}" for k, (name, kind) in enumerate(variables)]
        if binary:
            body = ("\n".join(header) + "\nBinary:\n").encode() + np.ascontiguousarray(data).tobytes()
        else:
            lines = ["Values:"]
            for k, row in enumerate(data):
                for i, value in enumerate(row):
                    text = f"{value.real:.17e},{value.imag:.17e}" if complex_ else f"{value:.17e}"
                    lines.append(f" {k}\t{text}" if i == 0 else f"\t{text}")
            body = ("\n".join(header + lines) + "\n").encode()
        write_atomic(path, body)

    def _raw_axis_name(self) -> str:
        """The axis as an ngspice raw-file vector name (a DC sweep's ``v1-sweep`` as ``v(v1-sweep)``)."""
        if self.axis_name in ("time", "frequency", "index") or "(" in self.axis_name:
            return self.axis_name
        return f"v({self.axis_name})"

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
        """Plot signals against the axis in engineering units (µs, µA, mV ...); returns the Figure.

        Signals are grouped by unit: with ``ax=None`` each unit gets its own panel (shared axis);
        with ``ax`` given everything goes on it.  A panel with one signal names it on its y axis;
        a panel with several has a legend.  AC (complex) signals are drawn as a Bode plot: magnitude
        in dB (``20 log10 |x|``, re 1 V or 1 A) and phase in degrees, on a logarithmic frequency
        axis (with ``ax`` given: the magnitude only).  An operating point (one point) is drawn as
        bars, one per signal.  No matplotlib backend is forced: inline in Jupyter, ``fig.savefig``
        in scripts.

        Parameters
        ----------
        signals : str or sequence of str, optional
            Names to draw; default all, at most :data:`MAX_PLOTTED` (the first ones).
        ax : matplotlib.axes.Axes, optional
            Axes to draw into.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn (``ax.figure`` when ``ax`` is given), as every memspice plot helper returns.
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
        bode = len(self) > 1 and any(np.iscomplexobj(self.signals[n]) for n in names)
        panels = [
            (unit, group, part) for unit, group in groups.items() for part in (("db", "phase") if bode else ("",))
        ]
        if ax is not None:
            panels = [p for p in panels if p[2] != "phase"]
            fig, axes = ax.figure, [ax] * len(panels)
        else:
            fig, grid = plt.subplots(
                len(panels), 1, sharex=len(self) > 1, squeeze=False, figsize=(6.0, 1.2 + 2.2 * len(panels))
            )
            axes = list(grid[:, 0])
        log_axis = bode and self.axis_name == "frequency"
        kx, xu = (
            (1.0, self.units.get(self.axis_name, ""))
            if log_axis
            else engineering_scale(self.axis, self.units.get(self.axis_name, ""))
        )
        for target, (unit, group, part) in zip(axes, panels):
            if len(self) == 1:
                self._bars(target, group, unit)
            else:
                self._lines(target, group, unit, part, kx, several=len(group) > 1 or ax is not None)
            if log_axis:
                target.set_xscale("log")
        if len(self) > 1:
            axes[-1].set_xlabel(f"{self.axis_name} ({xu})" if xu else self.axis_name)
        if self.title or shown_note:
            axes[0].set_title((self.title or "") + shown_note, fontsize=10)
        fig.tight_layout()
        return fig

    def _bars(self, target, group: list[str], unit: str) -> None:
        """An operating point: one bar per signal, in engineering units."""
        values = np.array([float(np.real(self.signals[n][0])) for n in group])
        ky, yu = engineering_scale(values, unit)
        target.bar(range(len(group)), values * ky)
        wide = len(group) > 4
        target.set_xticks(
            range(len(group)), group, rotation=45 if wide else 0, ha="right" if wide else "center", fontsize=8
        )
        target.set_ylabel(_axis_label(group[0] if len(group) == 1 else _quantity(unit), yu))

    def _lines(self, target, group: list[str], unit: str, part: str, kx: float, several: bool) -> None:
        """Lines against the axis: real signals in engineering units; complex as dB (``part="db"``) or phase."""
        if part == "phase":
            ys = [np.degrees(np.angle(self.signals[n])) for n in group]
            ky, yu, quantity = 1.0, "°", "phase"
        elif part == "db":
            ys = [20 * np.log10(np.maximum(np.abs(self.signals[n]), 1e-300)) for n in group]
            ky, yu, quantity = 1.0, f"dB re 1 {unit}" if unit else "dB", "magnitude"
        else:
            ys = [np.real(self.signals[n]) for n in group]
            ky, yu = engineering_scale(np.concatenate(ys), unit)
            quantity = _quantity(unit)
        for n, y in zip(group, ys):
            label = n if not part else (f"|{n}|" if part == "db" else f"arg {n}")
            target.plot(self.axis * kx, y * ky, lw=1.2, label=label)
        if several:
            target.legend(fontsize=8)
            target.set_ylabel(_axis_label(quantity, yu))
        else:  # one signal: the axis names it
            name = group[0] if not part else (f"|{group[0]}|" if part == "db" else f"phase of {group[0]}")
            target.set_ylabel(_axis_label(name, yu))

    def __repr__(self) -> str:
        shown = ", ".join(self.names[:8]) + (f", ... ({len(self.names)} signals)" if len(self.names) > 8 else "")
        return f"Waveforms({self.axis_name}: {self.axis.size} points; {shown})"


def _quantity(unit: str) -> str:
    """What a unit measures, for axis labels (``"V"`` -> ``"voltage"``)."""
    return {
        "V": "voltage",
        "A": "current",
        "s": "time",
        "Hz": "frequency",
        "S": "conductance",
        "Ohm": "resistance",
    }.get(unit, "value")


def _axis_label(name: str, unit: str) -> str:
    return f"{name} ({unit})" if unit else name
