"""Matplotlib figures; every function returns the Figure (no global state)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402


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


def drift_diffusion_hysteresis_figure(frequencies_rad_s=(10.0, 40.0, 160.0)):
    """SEEDS Fig. 1b/c style: pinched loops of the drift-diffusion model, shrinking with frequency."""
    import numpy as np

    from ..circuits.sources import Sine
    from ..models import DriftDiffusion

    m = DriftDiffusion()
    waves = []
    for w0 in frequencies_rad_s:
        w = m.simulate(Sine(1.0, w0 / (2 * np.pi)), 2 * 2 * np.pi / w0, 4001)
        w.title = f"w0 = {w0:g} rad/s"
        waves.append(w)
    return iv_loop(waves, "drift-diffusion memristor, v0 = 1 V")
