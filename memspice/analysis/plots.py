"""Matplotlib figures.  One convention for every plot helper in memspice (these, ``Waveforms.plot`` and the
reproductions' figures): it returns the :class:`~matplotlib.figure.Figure`, and accepts ``ax=`` to draw
into axes of your own figure (then it returns ``ax.figure``).  No global state.

No backend is forced: figures show inline in Jupyter and save from scripts
(matplotlib picks a non-interactive backend by itself where there is no display).
Axes carry engineering units (µs, µA, mV, ...) chosen from the data.
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


#: a read figure draws at most this many input vectors as lines (assumed: more make a legend unreadable)
MAX_VECTORS = 12


def read_outputs(currents, ideal=None, ax=None):
    """A crossbar read: output currents (A) per output, and against the ideal ones where given.

    Parameters
    ----------
    currents : array_like (p, k)
        Outputs of ``p`` input vectors, A.
    ideal : array_like (p, k), optional
        The ideal outputs (no wires, linear cells); adds a panel of simulated against ideal with
        the ``y = x`` line.
    ax : matplotlib.axes.Axes, optional
        Draw only the first panel (outputs per output) into it.
    """
    i = np.atleast_2d(np.asarray(currents, float))
    panels = 2 if ideal is not None and ax is None else 1
    if ax is not None:
        fig, axes = ax.figure, [ax]
    else:
        fig, grid = plt.subplots(1, panels, figsize=(4.8 * panels, 3.6), squeeze=False)
        axes = list(grid[0])
    k_i, iu = engineering_scale(i, "A")
    shown = i[:MAX_VECTORS]
    for k, row in enumerate(shown):
        axes[0].plot(np.arange(i.shape[1]), row * k_i, "o-", ms=3, lw=1.0, label=f"vector {k}")
    axes[0].set_xlabel("output (column)")
    axes[0].set_ylabel(_label("output current", iu))
    note = f" (first {MAX_VECTORS} of {len(i)} vectors)" if len(i) > MAX_VECTORS else ""
    axes[0].set_title(f"outputs per vector{note}", fontsize=10)
    if 1 < len(shown) <= 6:
        axes[0].legend(fontsize=8, frameon=False)
    if panels == 2:
        ref = np.atleast_2d(np.asarray(ideal, float))
        k_r, ru = engineering_scale(np.concatenate([ref.ravel(), i.ravel()]), "A")
        axes[1].plot(ref.ravel() * k_r, i.ravel() * k_r, ".", ms=4)
        lo, hi = float(min(ref.min(), i.min())) * k_r, float(max(ref.max(), i.max())) * k_r
        axes[1].plot([lo, hi], [lo, hi], color="0.5", lw=0.8, label="ideal")
        axes[1].set_xlabel(_label("ideal output", ru))
        axes[1].set_ylabel(_label("simulated output", ru))
        axes[1].set_title("against the ideal (no wires, linear cells)", fontsize=10)
        axes[1].legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def sweep_summary(table, metric: str = "mvm_max_rel_error", ax=None):
    """A sweep's ``metric`` (mean and spread over samples) against its first varied parameter.

    One line per combination of the other varied parameters; error bars are the standard deviation
    over the Monte Carlo samples.  ``table`` is what :func:`memspice.analysis.sweeps.sweep_crossbar`
    returns (column names with units, :func:`memspice.core.units.column_name`).
    """
    import pandas as pd

    from ..core.units import split_column

    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(5.2, 3.6))
    skip = {"sample", "seed", metric, "mvm_max_rel_error", "mvm_rms_rel_error", "mean_output_A"}
    varied = [c for c in table.columns if c not in skip and table[c].nunique() > 1]
    if not varied:
        ax.bar([0], [table[metric].mean()], yerr=[table[metric].std() if len(table) > 1 else 0.0])
        ax.set_xticks([0], ["all points"])
    else:
        x, hue = varied[0], varied[1:]
        numeric = pd.api.types.is_numeric_dtype(table[x])
        groups = table.groupby(hue) if hue else [((), table)]
        for key, sub in groups:
            stats = sub.groupby(x)[metric].agg(["mean", "std"]).reset_index()
            key = key if isinstance(key, tuple) else (key,)
            label = ", ".join(f"{split_column(h)[0]}={v}" for h, v in zip(hue, key)) or None
            xs = stats[x] if numeric else np.arange(len(stats))
            ax.errorbar(
                xs, stats["mean"], yerr=stats["std"].fillna(0.0), marker="o", ms=3, lw=1.2, capsize=2, label=label
            )
            if not numeric:
                ax.set_xticks(range(len(stats)), [str(v) for v in stats[x]])
        name, unit = split_column(x)
        ax.set_xlabel(_label(name, unit))
        if hue and len(groups) <= 8:
            ax.legend(fontsize=7, frameon=False)
    ax.set_ylabel(metric.replace("_", " "))
    positive = bool(np.all(table[metric] > 0))
    ax.set_yscale("log" if positive and table[metric].max() > 10 * table[metric].min() else "linear")
    fig.tight_layout()
    return fig


def confusion_matrix(counts, labels=None, title: str = "", ax=None, annotate: bool = True):
    """Row-normalised confusion matrix on one fixed 0..1 colour scale, every nonzero cell written in %.

    ``counts`` (k, k): [true, predicted] counts (or fractions).  Rows are divided by their sums, so a cell is
    the fraction of the true class; the scale is the same for every matrix (two matrices drawn with this are
    comparable by colour), and the numbers make small confusions readable, which a 0..1 scale alone hides.
    Cells below 0.5 % are left blank; with ``annotate`` false or more than 20 classes no numbers are written.
    """
    cm = np.asarray(counts, dtype=float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"counts must be a square (k, k) matrix, got shape {cm.shape}")
    k = cm.shape[0]
    rate = cm / np.maximum(cm.sum(axis=1, keepdims=True), np.finfo(float).tiny)
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(4.5, 4))
    im = ax.imshow(rate, cmap="viridis", vmin=0.0, vmax=1.0)
    fig.colorbar(im, ax=ax, fraction=0.046, label="fraction of the true class")
    names = [str(c) for c in (labels if labels is not None else range(k))]
    ticks = list(range(k)) if k <= 12 else list(range(0, k, max(1, k // 10)))
    ax.set_xticks(ticks, [names[j] for j in ticks], fontsize=7, rotation=90 if k > 12 else 0)
    ax.set_yticks(ticks, [names[j] for j in ticks], fontsize=7)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if annotate and k <= 20:
        size = 7 if k <= 10 else 5
        for i in range(k):
            for j in range(k):
                if rate[i, j] >= 0.005:
                    colour = "k" if rate[i, j] > 0.6 else "w"  # viridis is light at the top
                    ax.text(j, i, f"{100 * rate[i, j]:.0f}", ha="center", va="center", fontsize=size, color=colour)
    if title:
        ax.set_title(title, fontsize=8)
    return fig
