"""Reproductions of the source papers' figures, each a function returning
(results, matplotlib Figure).  ``memspice reproduce NAME -o DIR`` saves them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import plots


def hysteresis(frequencies_rad_s=(10.0, 40.0, 160.0)):
    """Drift-diffusion pinched loops (mu = 3.2e-14 m^2/Vs, Roff/Ron = 20, L = 60 nm, v0 = 1 V).

    Results: loop area (W, integral of i dv over the second period) per angular frequency.
    """
    from ..circuits.sources import Sine
    from ..models import DriftDiffusion

    m = DriftDiffusion()
    rows, waves = [], []
    for w0 in frequencies_rad_s:
        period = 2 * np.pi / w0
        w = m.simulate(Sine(1.0, w0 / (2 * np.pi)), 2 * period, 4001)
        second = w.time >= period
        area = abs(np.trapezoid(w["i"][second], w["v"][second]))
        i_at_zero = float(np.max(np.abs(w["i"][second][np.abs(w["v"][second]) < 1e-3]), initial=0.0))
        rows.append({"w0_rad_s": w0, "loop_area_W": area, "max_abs_i_at_v0_A": i_at_zero})
        w.title = f"w0 = {w0:g} rad/s"
        waves.append(w)
    return pd.DataFrame(rows), plots.iv_loop(waves, "drift-diffusion memristor, v0 = 1 V")


def lif_f_i(currents_A=None):
    """f-I curve of the threshold-switch LIF neuron from steady spike intervals (Python reference)."""
    from ..circuits.lif import LIFNeuron

    neuron = LIFNeuron()
    currents = np.asarray(
        currents_A if currents_A is not None else neuron.threshold_current * np.array([0.5, 0.9, 1.25, 2, 3, 4, 5])
    )
    rates = neuron.f_i(currents)
    table = pd.DataFrame({"current_A": currents, "rate_Hz": rates})
    fig = plots.xy(
        currents * 1e6,
        {"TS neuron": np.array(rates) / 1e3},
        "input current (uA)",
        "firing rate (kHz)",
        title=f"LIF f-I, threshold {neuron.threshold_current * 1e6:.1f} uA",
    )
    return table, fig


def mvm_error(sizes=(32, 64, 128, 256), r_wires=(0.1, 1.0, 5.0), cells=("1R", "1S1R", "tiox"), seed: int = 0):
    """MVM relative error (RMS, vs the same array without wire resistance) against segment resistance and size.

    1R, 1S1R and self-rectifying TiOx arrays (32 x 32 like the selector-less TiOx chip, up to
    1024 x 1024 with the sparse solver: pass larger ``sizes``).
    """
    import dataclasses

    from ..circuits.crossbar import Crossbar
    from ..circuits.weights import conductance_map
    from ..solver import solve_dc

    rng = np.random.default_rng(seed)
    rows = []
    for cell in cells:
        for n in sizes:
            w = rng.uniform(0, 1, (n, n))
            if cell == "tiox":
                base, v = Crossbar(state=w, cell="tiox"), rng.uniform(0.5, 1.0, n)
            else:
                base, v = Crossbar(conductance_map(w), cell=cell), rng.uniform(0, 1.0 if cell == "1S1R" else 0.2, n)
            ideal = solve_dc(base, v).output_currents
            for r in r_wires:
                out = solve_dc(dataclasses.replace(base, r_word=r, r_bit=r), v).output_currents
                rms = float(np.sqrt(np.mean((out - ideal) ** 2)) / np.max(np.abs(ideal)))
                rows.append({"cell": cell, "n": n, "r_wire_ohm": r, "rms_rel_error": rms})
    table = pd.DataFrame(rows)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    fig, axes = plt.subplots(1, len(cells), figsize=(3.6 * len(cells), 3.4), squeeze=False, sharey=True)
    for k, (ax, cell) in enumerate(zip(axes[0], cells)):
        sub = table[table.cell == cell]
        for r in r_wires:
            ax.plot(list(sizes), sub[sub.r_wire_ohm == r].rms_rel_error.values, "o-", ms=3, lw=1.2, label=f"{r:g} Ohm")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_major_locator(LogLocator(numticks=6))
        ax.set_xticks(list(sizes))
        ax.set_title(cell)
        ax.set_xlabel("array size n (n x n)")
        if k == 0:
            ax.set_ylabel("RMS relative MVM error")
    axes[0][-1].legend(title="wire segment", fontsize=8, frameon=False)
    fig.tight_layout()
    return table, fig


# --- `memspice reproduce` entries: each returns a Reproduction (png, csv, json) ------------------------------
def reproduce_hysteresis(quick: bool = False, seed: int = 0):
    """Pinched hysteresis of the drift-diffusion memristor; json: loop area per frequency, pinch current."""
    from .reproduction import Reproduction

    table, fig = hysteresis()
    return Reproduction(
        fig,
        {
            "w0_rad_s": table.w0_rad_s.tolist(),
            "loop_area_W": table.loop_area_W.tolist(),
            "max_abs_i_at_v0_A": float(table.max_abs_i_at_v0_A.max()),
            "area_falls_with_frequency": bool(np.all(np.diff(table.loop_area_W) < 0)),
        },
        table,
    )


def reproduce_lif(quick: bool = False, seed: int = 0):
    """f-I curve of the threshold-switch LIF neuron; json: threshold current and the highest rate."""
    from ..circuits.lif import LIFNeuron
    from .reproduction import Reproduction

    table, fig = lif_f_i()
    return Reproduction(
        fig,
        {
            "threshold_current_A": float(LIFNeuron().threshold_current),
            "max_rate_Hz": float(table.rate_Hz.max()),
            "rate_rises_with_current": bool(np.all(np.diff(table.rate_Hz) >= 0)),
        },
        table,
    )


def reproduce_mvm(quick: bool = False, seed: int = 0):
    """MVM error vs wire resistance and size; json: the largest RMS error of each cell kind."""
    from .reproduction import Reproduction

    table, fig = mvm_error(sizes=(16, 32) if quick else (32, 64, 128, 256), seed=seed)
    worst = table.groupby("cell").rms_rel_error.max()
    return Reproduction(fig, {f"max_rms_rel_error_{cell}": float(v) for cell, v in worst.items()}, table)
