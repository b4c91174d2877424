"""The calibrated DDK memristor and a fast, vectorised pulse-train integrator.

Shi et al. 2025 (memristor kinetics feature learning, "DDK") program a
TiN/TaOx(45 nm)/HfOx(9 nm)/TiN 1T1R cell with 100 ns pulses of 2-3 V; its
pulsed conductance runs from 6.1 uS to 202.1 uS with near-linear, symmetric
set and reset curves (their Fig. 2), and feature maps start from a 5 kOhm
initial resistance (about 198 uS).

memspice's :class:`~memspice.models.DriftDiffusion` keeps the paper's
kinetics (Eq. 2: dw/dt = (mu/L) v + D/w, smooth Joglekar window) but its
Eq. 1 current law puts the doped and undoped regions in *series*, so the
conductance G(x) = 1/(R_on x + R_off (1 - x)) is a hyperbola of the state:
with a 33:1 range a linear state update gives a strongly non-linear G
update, and no choice of drift, diffusion and window makes both set and
reset linear in G (reset would need a state rate 1000x larger near x = 0
than near x = 1, where the window and diffusion both slow it down).
:class:`DDKMemristor` therefore keeps the state equation unchanged and
conducts in *parallel* (filamentary): G(x) = x / R_on + (1 - x) / R_off.
With ``x_eps = G_min / (G_max - G_min)`` the diffusion term then reads
exactly alpha / y in the normalised conductance y = G / G_max, i.e. the
device obeys dy/dt = +/- beta V + alpha / y away from the window edges.

Assumed (the paper gives no kinetic constants): mobility and diffusion are
fitted (:func:`fit_mobility`, :func:`fit_diffusion`) to the paper's range
and pulses; the window exponent p = 10 is assumed (flat window, so updates
are linear until the last few percent of the range).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import brentq

from ...circuits.sources import pulse_train
from ...models import DriftDiffusion, DriftDiffusionParams, symbolic

_PAPER = "Shi et al. 2025 (DDK), Fig. 2 pulsed conductance"

#: conductance range of the paper's TiN/TaOx/HfOx/TiN cell (S)
G_MIN, G_MAX = 6.1e-6, 202.1e-6
#: initial resistance of the feature-map experiments (Ohm): the starting state, not a series resistor
R_INIT = 5e3
#: film thickness (m): TaOx 45 nm + HfOx 9 nm, Shi et al. 2025 device stack
LENGTH = 54e-9
#: programming pulse (s): 100 ns flat top, Shi et al. 2025; ramps assumed width/20 (memspice pulse_train default)
PULSE_WIDTH, PULSE_RISE = 100e-9, 5e-9
#: calibration target (assumed): 100 pulses of the lowest amplitude (2 V) sweep 99.5% of the range
N_CAL, V_CAL = 100, 2.0
#: window exponent (assumed): a flat window keeps the updates linear over ~95% of the range
WINDOW_P = 10.0
#: reset floor target (assumed): the reset asymptote lies within 0.1% of the range above G_MIN at V_CAL
FLOOR_FRACTION = 0.001
#: fitted by :func:`fit_mobility` / :func:`fit_diffusion` (run them to reproduce; a test checks they agree)
MOBILITY = 1.5247e-10  # m^2/(V s): fit_mobility(fraction=0.995) with diffusion 0
DIFFUSION = 9.703e-14  # m^2/s: fit_diffusion(MOBILITY)


class DDKMemristor(DriftDiffusion):
    """Drift-diffusion kinetics (Shi et al. 2025 Eq. 2) with parallel (filamentary) conduction.

    i = v (x / R_on + (1 - x) / R_off); the state equation is that of
    :class:`~memspice.models.DriftDiffusion` (same parameters, same three faces).
    """

    name = "ms_ddk_memristor"
    title = "memspice DDK memristor (drift + D/w diffusion kinetics, parallel conduction)"

    @classmethod
    def current_expr(cls):
        s, v, x = cls._sym(), symbolic.V, symbolic.X
        return v * (x / s["r_on"] + (1 - x) / s["r_off"])

    @classmethod
    def has_state(cls) -> bool:
        """Always stateful; answered without rebuilding the sympy state equation on every ``rate`` call."""
        return True


def state_of(g, g_min: float = G_MIN, g_max: float = G_MAX):
    """State x of conductance ``g`` (S) under parallel conduction."""
    return (np.asarray(g, float) - g_min) / (g_max - g_min)


def conductance_of(x, g_min: float = G_MIN, g_max: float = G_MAX):
    """Conductance (S) at state ``x``."""
    return g_min + (g_max - g_min) * np.asarray(x, float)


def ddk_params(
    mobility: float = MOBILITY, diffusion: float = DIFFUSION, r_init: float = R_INIT, **overrides
) -> DriftDiffusionParams:
    """Calibrated parameter set (see the module docstring for each value's source).

    r_on = 1/G_MAX and r_off = 1/G_MIN (paper); length 54 nm (paper's stack);
    mobility, diffusion fitted (assumed targets); window p = 10 (assumed);
    x_eps = G_MIN/(G_MAX - G_MIN) so diffusion acts as alpha/y on y = G/G_MAX;
    x0 from the 5 kOhm initial resistance (paper).
    """
    if not (r_init > 0 and np.isfinite(r_init)):
        raise ValueError(f"r_init must be a positive resistance in Ohm, got {r_init!r}")
    x0 = float(np.clip(state_of(1.0 / r_init), 0.0, 1.0))
    base = dict(
        r_on=1 / G_MAX,
        r_off=1 / G_MIN,
        length=LENGTH,
        mobility=mobility,
        diffusion=diffusion,
        window_p=WINDOW_P,
        x_eps=G_MIN / (G_MAX - G_MIN),
        x0=x0,
    )
    base.update(overrides)
    return DriftDiffusionParams(**base)


def ddk_memristor(r_init: float = R_INIT, **overrides) -> DDKMemristor:
    """The calibrated DDK device starting at ``r_init`` (Ohm); ``overrides`` replace parameters."""
    return DDKMemristor(ddk_params(r_init=r_init, **overrides))


# -- vectorised pulse response ----------------------------------------------------------


def _segments(amp, width, rise, gap):
    """(duration (n,), v(s) for s in [0, 1]) of the rise, flat top, fall and gap of one pulse."""
    return (
        (rise, lambda s: amp * s),
        (width, lambda s: amp + 0 * s),
        (rise, lambda s: amp * (1 - s)),
        (gap, lambda s: 0 * amp),
    )


def _rk4(model, x, dur, vfun, sub: int, n: int):
    """``sub`` classical RK4 steps of dx/ds = dur * rate(x, v(s)) over s in [0, 1]."""
    h = 1.0 / sub

    def f(xx, ss):
        return dur * model.rate(xx, vfun(np.full(n, ss)))

    for j in range(sub):
        s = j * h
        k1 = f(x, s)
        k2 = f(x + h / 2 * k1, s + h / 2)
        k3 = f(x + h / 2 * k2, s + h / 2)
        k4 = f(x + h * k3, s + h)
        x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return x


def pulse_states(
    model,
    amplitudes,
    width=PULSE_WIDTH,
    gap=PULSE_WIDTH,
    rise=PULSE_RISE,
    x0=None,
    step_limit: float = 0.2,
    max_substeps: int = 2000,
) -> np.ndarray:
    """State after each trapezoidal pulse (and its gap), many independent devices at once.

    Parameters
    ----------
    model : CompactModel
        Stateful device (its ``rate`` and ``rate_dx`` broadcast over arrays).
    amplitudes : array (n_devices, n_pulses)
        Pulse amplitudes (V); sign gives the polarity.
    width, gap, rise : float or array (n_devices,)
        Flat-top width, 0 V gap after each pulse, rise (= fall) time (s); the
        waveform is exactly :func:`memspice.circuits.sources.pulse_train`'s.
    x0 : float or array (n_devices,), optional
        Initial states (default ``model.params.x0``).
    step_limit : float
        Each classical RK4 substep keeps duration * |d rate / dx| below this
        (accuracy, not only stability: agrees with ngspice to a few 1e-6 of state).

    Returns
    -------
    ndarray (n_devices, n_pulses): state at the end of each pulse's gap.
    """
    amps = np.atleast_2d(np.asarray(amplitudes, float))
    n = amps.shape[0]
    width, gap, rise = (np.broadcast_to(np.asarray(a, float), (n,)) for a in (width, gap, rise))
    for name, arr in (("width", width), ("gap", gap), ("rise", rise)):
        if np.any(~np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError(f"{name} must be finite and >= 0 s, got min {arr.min()!r}")
    x = np.broadcast_to(np.asarray(model.params.x0 if x0 is None else x0, float), (n,)).copy()
    out = np.empty(amps.shape)
    for k in range(amps.shape[1]):
        # stiffness |d rate/dx| at the pulse top (covers the ramps), then at 0 V after the pulse (the gap)
        on, off = amps[:, k], np.zeros(n)
        for i, (dur, vfun) in enumerate(_segments(on, width, rise, gap)):
            if i in (0, 3):
                stiff = np.nan_to_num(np.abs(model.rate_dx(x, on if i == 0 else off)), nan=0.0, posinf=0.0)
            if not np.any(dur > 0):
                continue
            sub = int(np.clip(np.ceil(np.max(dur * stiff) / step_limit), 1, max_substeps))
            x = _rk4(model, x, dur, vfun, sub, n)
        out[:, k] = x
    return out


def pulse_source(amplitudes, width: float = PULSE_WIDTH, gap: float = PULSE_WIDTH, rise: float = PULSE_RISE):
    """The same pulse train as a :class:`~memspice.circuits.sources.PWL` (for ngspice and the reference ODE)."""
    return pulse_train(amplitudes, width, width + 2 * rise + gap, rise=rise)


def conductance_curves(
    model,
    amplitude: float,
    n_pulses: int = N_CAL,
    width: float = PULSE_WIDTH,
    gap: float = PULSE_WIDTH,
    rise: float = PULSE_RISE,
):
    """Reset from ``model``'s x0 with ``n_pulses`` of -amplitude, then set with as many of +amplitude.

    Returns (g_reset, g_set) in S, each ``n_pulses`` long (conductance read after each pulse).
    """
    if amplitude <= 0:
        raise ValueError(f"amplitude must be > 0 V, got {amplitude!r}")
    amps = np.concatenate([np.full(n_pulses, -amplitude), np.full(n_pulses, amplitude)])[None, :]
    x = pulse_states(model, amps, width, gap, rise)[0]
    g = conductance_of(x, 1 / model.params.r_off, 1 / model.params.r_on)
    return g[:n_pulses], g[n_pulses:]


def nonlinearity(g) -> float:
    """Largest deviation of an update curve from the straight line of its useful part (fraction of its span).

    The useful part runs from the first pulse until the curve has covered 98% of
    its total change (beyond that the device only saturates at the window edge).
    0 is perfectly linear.
    """
    g = np.asarray(g, float)
    travel = g - g[0]
    total = travel[-1]
    if total == 0:
        return 0.0
    end = int(np.argmax(np.abs(travel) >= 0.98 * abs(total)))
    end = max(end, 1)
    part = g[: end + 1]
    line = np.linspace(part[0], part[-1], part.size)
    return float(np.max(np.abs(part - line)) / abs(part[-1] - part[0]))


def fit_mobility(n_pulses: int = N_CAL, v: float = V_CAL, fraction: float = 0.995) -> float:
    """Mobility (m^2/(V s)) for which ``n_pulses`` resets of ``v`` cover ``fraction`` of the range."""

    def miss(mu):
        x = pulse_states(ddk_memristor(mobility=mu, diffusion=0.0), np.full((1, n_pulses), -v))[0, -1]
        return (1.0 - x) - fraction  # covered fraction of the full range G_MAX .. G_MIN

    return float(brentq(miss, 1e-11, 1e-9, xtol=1e-15))


def fit_diffusion(
    mobility: float = MOBILITY,
    v: float = V_CAL,
    floor: float = FLOOR_FRACTION,
    width: float = PULSE_WIDTH,
    gap: float = PULSE_WIDTH,
    rise: float = PULSE_RISE,
) -> float:
    """Diffusion (m^2/s) placing the reset asymptote at G_MIN + ``floor`` (G_MAX - G_MIN) for pulses of ``v``.

    At the asymptote the drift of one pulse (area v (width + rise)) through the
    window balances diffusion over the whole period:
    mu v W_down(x*) (width + rise) = D (width + 2 rise + gap) / (x* + x_eps).
    """
    p = dataclasses.replace(ddk_params(mobility=mobility), diffusion=1.0)
    x = floor
    w_down = 1 - (1 - x) ** (2 * p.window_p)
    return float(mobility * v * w_down * (x + p.x_eps) * (width + rise) / (width + 2 * rise + gap))
