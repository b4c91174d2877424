"""Matplotlib figures; every function returns the Figure (no global state).

No backend is forced: figures show inline in Jupyter and save from scripts
(matplotlib picks a non-interactive backend by itself where there is no display).
Axes carry engineering units (us, uA, mV, ...) chosen from the data.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..core.waveforms import engineering_scale  # lives in the bottom layer (Waveforms.plot uses it too)


def _label(name: str, unit: str) -> str:
    return f"{name} ({unit})" if unit else name


def iv_loop(waves, title: str = "", ax=None):
    """Current (A) against voltage (V) of device waveforms with ``v`` and ``i`` signals."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(4.5, 3.5))
    waves = list(waves) if isinstance(waves, (list, tuple)) else [waves]
    ki, iu = engineering_scale(np.concatenate([w["i"] for w in waves]), "A")
    for w in waves:
        ax.plot(w["v"], w["i"] * ki, lw=1.2, label=w.title or None)
    ax.set_xlabel("voltage (V)")
    ax.set_ylabel(_label("current", iu))
    ax.axhline(0, color="0.8", lw=0.5)
    ax.axvline(0, color="0.8", lw=0.5)
    if title:
        ax.set_title(title)
    if any(line.get_label() and not line.get_label().startswith("_") for line in ax.lines):
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def state_vs_time(waves, name: str = "x", ax=None, label: str = ""):
    """A signal (default the device state x) against time in seconds."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(5, 3))
    kt, tu = engineering_scale(waves.time, "s")
    ky, yu = engineering_scale(waves[name], waves.units.get(name.lower(), ""))
    ax.plot(waves.time * kt, waves[name] * ky, lw=1.2, label=label or None)
    ax.set_xlabel(_label("time", tu))
    ax.set_ylabel(_label(name, yu))
    if label:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def crossbar_heatmap(values, title: str = "", unit: str = "", ax=None, cmap: str = "viridis"):
    """Heat map of an m x n array (e.g. conductances in S, IR drop in V); rows are word lines."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(4.5, 3.8))
    im = ax.imshow(np.asarray(values), cmap=cmap, aspect="auto", interpolation="nearest")
    ax.set_xlabel("bit line (column)")
    ax.set_ylabel("word line (row)")
    fig.colorbar(im, ax=ax, label=unit)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def raster(spike_trains, duration: float | None = None, ax=None):
    """Spike raster: one row per neuron, numbered from 0 like the netlist signals ``spk0``, ``spk1``, ...

    Spike times are in seconds; the axis shows them in engineering units.
    """
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(5, 2.5))
    trains = [np.asarray(t, float) for t in spike_trains]
    kt, tu = engineering_scale(np.concatenate(trains + [[duration or 0.0]]), "s")
    for k, train in enumerate(trains):
        ax.vlines(train * kt, k - 0.4, k + 0.4, lw=1.0)
    ax.set_xlabel(_label("time", tu))
    ax.set_ylabel("neuron")
    ax.set_yticks(range(len(trains)))
    if duration:
        ax.set_xlim(0, duration * kt)
    fig.tight_layout()
    return fig


def xy(x, ys: dict, xlabel: str, ylabel: str, logx: bool = False, logy: bool = False, title: str = "", ax=None):
    """Lines ys[label] against x, with labelled axes (units in the labels)."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(4.8, 3.4))
    for label, y in ys.items():
        ax.plot(x, y, "o-", ms=3, lw=1.2, label=label)
    ax.set_xscale("log" if logx else "linear")
    ax.set_yscale("log" if logy else "linear")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if len(ys) > 1:
        ax.legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
