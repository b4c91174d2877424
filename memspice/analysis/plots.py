"""Matplotlib figures; every function returns the Figure (no global state)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def iv_loop(waves, title: str = "", ax=None):
    """Current (A) against voltage (V) of device waveforms with ``v`` and ``i`` signals."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(4.5, 3.5))
    for w in waves if isinstance(waves, (list, tuple)) else [waves]:
        ax.plot(w["v"], w["i"] * 1e3, lw=1.2, label=w.title or None)
    ax.set_xlabel("voltage (V)")
    ax.set_ylabel("current (mA)")
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
    ax.plot(waves.time, waves[name], lw=1.2, label=label or None)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"{name} ({waves.units.get(name.lower(), '') or '1'})")
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
    """Spike raster: one row per neuron, spike times in seconds."""
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(5, 2.5))
    for k, train in enumerate(spike_trains):
        ax.vlines(np.asarray(train), k + 0.6, k + 1.4, lw=1.0)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("neuron")
    if duration:
        ax.set_xlim(0, duration)
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
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
