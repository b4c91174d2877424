"""The DDK memristor calibrated by ``memspice fit`` to the paper's pulsed conductance, and its pulse response.

Shi et al., "Memristor-based feature learning for pattern classification", Nat. Commun. 16 (2025), program
a TiN/TaOx(45 nm)/HfOx(9 nm)/TiN 1T1R cell whose pulsed conductance changes linearly and symmetrically
between 6.1 uS and 202.1 uS; their feature maps start from a 5 kOhm initial resistance and use 100 ns
pulses of 2-3 V.  Their Fig. 1b/c parameters (mu = 3.2e-14 m^2/(V s), R_off/R_on = 20, L = 60 nm,
dimensionless time) only illustrate the pinched hysteresis of the drift-diffusion model.

Calibration (:func:`calibrate`): the points of ``data/shi2025_pulses.csv`` (the stated end points, the
straight line between them the text describes, 20 pulses past each end staying there; 100 pulses of 2 V,
100 ns per direction assumed - every point is labelled in the file) are fitted by ``memspice fit``
(bounded trust-region-reflective least squares, several starts) with r_on, r_off, mobility, diffusion, x0
and the window exponent free, the film thickness fixed at the stack's 54 nm (only mobility / L^2 enters).
Both conduction laws are fitted:

* series, the paper's Eq. 1, v = (R_on w/L + R_off (1 - w/L)) i (:class:`~memspice.models.DriftDiffusion`):
  a linear change of the state gives a hyperbolic change of the conductance;
* parallel, G = x/R_on + (1 - x)/R_off (:class:`~memspice.models.DriftDiffusionParallel`): linear in x.

The parallel law fits the stated behaviour (RMS error 0.06 uS) and the series law cannot (21.8 uS, its
parameters undetermined); ``memspice reproduce ddk-pulses`` reruns both fits and reports them.  The device
used everywhere (:func:`ddk_memristor`) is the parallel law with the parameters in
``data/calibration/params.json``, written by::

    memspice fit drift_diffusion_parallel --pulses memspice/systems/ddk/data/shi2025_pulses.csv \\
        --free r_on r_off mobility diffusion x0 window_p --set length=54e-9 x_eps=0.03 r_on=3950 \\
        r_off=2.1e5 mobility=1e-10 diffusion=1e-15 x0=0.95 window_p=10 \\
        --bounds diffusion=0:1e-12 window_p=1:100 --starts 6 --seed 0 -o memspice/systems/ddk/data/calibration

(``device.BOUNDS`` adds resistance and mobility bounds for the reproduction's refits; the optimum lies
well inside them.)

(``x_eps`` = 0.03 and the starting values are assumptions; a test refits and compares.)  The fitted
diffusion is zero within its interval: the stated points do not resolve it, and at the paper's timing it
is negligible, so the device's DDK kinetics are drift between the range ends (see
:mod:`memspice.systems.ddk.kinetics`).
"""

from __future__ import annotations

import dataclasses
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from ...core.choices import Choice
from ...models import DriftDiffusion, DriftDiffusionParallel, DriftDiffusionParams
from ...models.drive import pulse_states

DATA = Path(__file__).parent / "data"
#: calibration points (stated end points and constructed line, labelled per point)
POINTS = DATA / "shi2025_pulses.csv"
#: fitted parameters (memspice fit's params.json) and its report (fit.json)
CALIBRATION = DATA / "calibration"

#: initial resistance of the feature-map experiments (Ohm): the starting state, not a series resistor
R_INIT = 5e3
#: programming pulse (s): 100 ns flat top (paper); ramps width/20 (memspice pulse_train default, assumed)
PULSE_WIDTH, PULSE_RISE = 100e-9, 5e-9
#: the paper's feature-map pulse amplitudes (V)
V_LOW, V_HIGH = 2.0, 3.0
#: Fig. 1b/c illustration parameters of Shi et al. 2025 (not a calibration): shown beside the fit
FIG1 = {"mobility": 3.2e-14, "r_off_over_r_on": 20.0, "length": 60e-9}
#: fixed in the calibration: film thickness (TaOx 45 nm + HfOx 9 nm, the paper's stack) and x_eps (assumed)
FIXED = {"length": 54e-9, "x_eps": 0.03}
#: starting values of the calibration fit (assumed: the stated range widened, mid mobility)
START = {"r_on": 3950.0, "r_off": 2.1e5, "mobility": 1e-10, "diffusion": 1e-15, "x0": 0.95, "window_p": 10.0}
#: bounds (assumed): resistances of an oxide 1T1R cell, 100 Ohm - 10 MOhm; mobility two to three decades
#: around the start (random starts far outside make the device needlessly stiff, hence slow, not better);
#: diffusion from 0 (it may vanish); the window exponent up to 100 (flat windows)
BOUNDS = {
    "r_on": (100.0, 1e5),
    "r_off": (1e4, 1e7),
    "mobility": (1e-13, 1e-8),
    "diffusion": (0.0, 1e-12),
    "window_p": (1.0, 100.0),
}
FREE = tuple(START)


class Conduction(Choice):
    """Conduction law of the drift-diffusion device."""

    SERIES = "series"  #: the paper's Eq. 1, v = (R_on w/L + R_off (1 - w/L)) i
    PARALLEL = "parallel"  #: G = x/R_on + (1 - x)/R_off (filamentary), memspice's alternative

    @property
    def model_class(self) -> type[DriftDiffusion]:
        return DriftDiffusionParallel if self is Conduction.PARALLEL else DriftDiffusion


def calibrate(law: Conduction | str = Conduction.PARALLEL, starts: int = 6, seed: int = 0, max_nfev: int = 200):
    """``memspice fit`` of the drift-diffusion device in conduction ``law`` to the paper's points (FitResult)."""
    from ...analysis.fit import PulseResponse, fit

    cls = Conduction.parse(law).model_class
    start = cls(DriftDiffusionParams(**FIXED, **START))
    return fit(
        start, PulseResponse.read(POINTS), list(FREE), bounds=BOUNDS, starts=starts, seed=seed, max_nfev=max_nfev
    )


@lru_cache(maxsize=1)
def calibrated_params() -> DriftDiffusionParams:
    """The parallel-law parameters fitted to the paper's points (``data/calibration/params.json``)."""
    doc = json.loads((CALIBRATION / "params.json").read_text())
    if doc.get("model") != "drift_diffusion_parallel":
        raise ValueError(f"{CALIBRATION / 'params.json'} is not a drift_diffusion_parallel fit")
    return DriftDiffusionParams(**doc["params"])


def calibration_report() -> dict:
    """memspice fit's report of the stored calibration (estimates with 95% intervals, RMS error)."""
    return json.loads((CALIBRATION / "fit.json").read_text())


def g_range(model) -> tuple[float, float]:
    """(G_min, G_max) in S of a parallel-law device: 1/r_off and 1/r_on."""
    return 1.0 / model.params.r_off, 1.0 / model.params.r_on


def conductance_of(model, x):
    """Conductance (S) of a parallel-law device at state ``x``."""
    g_min, g_max = g_range(model)
    return g_min + (g_max - g_min) * np.asarray(x, float)


def state_of(model, g):
    """State x of conductance ``g`` (S) of a parallel-law device."""
    g_min, g_max = g_range(model)
    return (np.asarray(g, float) - g_min) / (g_max - g_min)


def ddk_memristor(r_init: float = R_INIT, **overrides) -> DriftDiffusionParallel:
    """The calibrated device starting at resistance ``r_init`` (Ohm); ``overrides`` replace parameters."""
    if not (np.isfinite(r_init) and r_init > 0):
        raise ValueError(f"r_init must be a positive resistance in Ohm, got {r_init!r}")
    p = calibrated_params()
    x0 = float(np.clip((1.0 / r_init - 1.0 / p.r_off) / (1.0 / p.r_on - 1.0 / p.r_off), 0.0, 1.0))
    return DriftDiffusionParallel(dataclasses.replace(p, x0=x0, **overrides))


def pulse_source(amplitudes, width: float = PULSE_WIDTH, gap: float = PULSE_WIDTH, rise: float = PULSE_RISE):
    """The same pulse train as a :class:`~memspice.circuits.sources.PWL` (for ngspice and the reference ODE)."""
    from ...circuits.sources import pulse_train

    return pulse_train(amplitudes, width, width + 2 * rise + gap, rise=rise)


def conductance_curves(
    model, amplitude: float, n_pulses: int = 100, width: float = PULSE_WIDTH, gap: float = PULSE_WIDTH
):
    """Reset from ``model``'s x0 with ``n_pulses`` of -amplitude, then set with as many of +amplitude.

    Returns (g_reset, g_set) in S, each ``n_pulses`` long (conductance read after each pulse).
    """
    if not amplitude > 0:
        raise ValueError(f"amplitude must be > 0 V, got {amplitude!r}")
    amps = np.concatenate([np.full(n_pulses, -amplitude), np.full(n_pulses, amplitude)])[None, :]
    x = pulse_states(model, amps, width, gap, PULSE_RISE)[0]
    g = conductance_of(model, x)
    return g[:n_pulses], g[n_pulses:]


def nonlinearity(g) -> float:
    """Largest deviation of an update curve from the straight line of its useful part (fraction of its span).

    The useful part runs from the first pulse until the curve has covered 98% of its total change (beyond
    that the device only saturates at the range end).  0 is perfectly linear.
    """
    g = np.asarray(g, float)
    travel = g - g[0]
    total = travel[-1]
    if total == 0:
        return 0.0
    end = max(int(np.argmax(np.abs(travel) >= 0.98 * abs(total))), 1)
    part = g[: end + 1]
    line = np.linspace(part[0], part[-1], part.size)
    return float(np.max(np.abs(part - line)) / abs(part[-1] - part[0]))
