"""The DDK layer: software form (the paper's kinetic equation) and device form (memspice's device).

Shi et al. 2025 generalise drift-diffusion kinetics to a non-negative input x:
SET dy/dt = beta x + alpha / y, RESET dy/dt = -beta x + alpha / y, where y is
the normalised conductance, beta the drift (speed) and alpha the diffusion
(asymptote).  A DDK channel drives one device with one pulse per input sample
and reads y after each pulse; the trajectory is the channel's feature map.

* Software form (:func:`software_forward`): one explicit step per sample,
  y_t = clip(y_{t-1} + s beta x_t + alpha / y_{t-1}, y_min, y_max), s = +1 (SET)
  or -1 (RESET); [y_min, y_max] is the device's limited conductance range.
  :func:`software_backward` is its exact adjoint (reverse-mode gradient of a
  loss with respect to alpha and beta, through the clip).
* Device form (:func:`device_forward`): the calibrated
  :class:`~memspice.systems.ddk.device.DDKMemristor` driven by trapezoidal
  pulses of amplitude v_max x_t.  beta sets the pulse width and alpha the gap
  after each pulse (diffusion acts during the whole period), so the device's
  drift-diffusion equation is the software law up to the device's own
  non-idealities: window edges, continuous rather than stepwise diffusion,
  ramps, and the minimum pulse width / zero gap it can realise.  The timing
  mapping is memspice's (assumed): the paper does not say how learned alpha,
  beta are set on chip.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from .device import G_MAX, G_MIN, PULSE_RISE, conductance_of, ddk_memristor, pulse_states


class Polarity(enum.IntEnum):
    """Direction of a DDK channel: SET raises the conductance, RESET lowers it."""

    SET = 1
    RESET = -1


@dataclass(frozen=True)
class ConductanceRange:
    """Limited conductance range in normalised units y = G / G_max (Shi et al. 2025: 6.1-202.1 uS).

    ``y0`` is the starting state of RESET channels (5 kOhm initial resistance);
    SET channels start at ``y_min``.
    """

    y_min: float = G_MIN / G_MAX
    y_max: float = 1.0
    y0: float = (1 / 5e3) / G_MAX

    def __post_init__(self):
        if not (0 < self.y_min < self.y_max):
            raise ValueError(f"ConductanceRange.y_min must lie in (0, y_max), got {self.y_min!r}")
        if not (self.y_min <= self.y0 <= self.y_max):
            raise ValueError(f"ConductanceRange.y0 must lie in [y_min, y_max], got {self.y0!r}")

    def start(self, polarity: Polarity) -> float:
        return self.y0 if polarity == Polarity.RESET else self.y_min


def _check_inputs(x, alpha, beta):
    x = np.asarray(x, float)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (batch, channels, steps), got {x.shape}")
    if np.any(~np.isfinite(x)) or np.any(x < 0):
        raise ValueError("x must be finite and non-negative (normalise inputs to [0, 1])")
    alpha = np.broadcast_to(np.asarray(alpha, float), x.shape[:2])
    beta = np.broadcast_to(np.asarray(beta, float), x.shape[:2])
    return x, alpha, beta


def software_forward(x, alpha, beta, polarity: Polarity = Polarity.RESET, rng: ConductanceRange = ConductanceRange()):
    """Feature maps y (batch, channels, steps) of the DDK law for inputs ``x`` (batch, channels, steps).

    ``alpha``, ``beta``: per channel (channels,) or per device (batch, channels).
    Returns (y, cache) where cache feeds :func:`software_backward`.
    """
    x, alpha, beta = _check_inputs(x, alpha, beta)
    sign = float(Polarity(polarity))
    b, c, t = x.shape
    y = np.empty((b, c, t))
    before = np.empty((b, c, t))  # y_{t-1} of every step
    prev = np.full((b, c), rng.start(polarity))
    inside = np.empty((b, c, t), bool)
    for k in range(t):
        before[:, :, k] = prev
        z = prev + sign * beta * x[:, :, k] + alpha / prev
        inside[:, :, k] = (z > rng.y_min) & (z < rng.y_max)
        prev = np.clip(z, rng.y_min, rng.y_max)
        y[:, :, k] = prev
    return y, (x, alpha, sign, inside, before)


def software_backward(grad_y, cache):
    """Adjoint of :func:`software_forward`: (d loss / d alpha, d loss / d beta), each (batch, channels).

    Reverse recursion over the steps: with lambda_t = d loss / d y_t (its own
    term plus what later steps send back) and m_t the inside-range mask,
    g_t = lambda_t m_t; d alpha += g_t / y_{t-1}; d beta += s g_t x_t;
    lambda_{t-1} += g_t (1 - alpha / y_{t-1}^2).  Sum over the batch for
    per-channel parameters.
    """
    x, alpha, sign, inside, prev = cache
    grad_y = np.asarray(grad_y, float)
    b, c, t = x.shape
    d_alpha = np.zeros((b, c))
    d_beta = np.zeros((b, c))
    lam = np.zeros((b, c))
    for k in range(t - 1, -1, -1):
        lam = lam + grad_y[:, :, k]
        g = lam * inside[:, :, k]
        d_alpha += g / prev[:, :, k]
        d_beta += sign * g * x[:, :, k]
        lam = g * (1 - alpha / prev[:, :, k] ** 2)
    return d_alpha, d_beta


@dataclass(frozen=True)
class DeviceMapping:
    """How a DDK channel's (alpha, beta) become a pulse programme on the calibrated device.

    Parameters
    ----------
    v_max : float
        Pulse amplitude (V) for input x = 1 (amplitude = v_max x).  Default 3 V,
        the top of Shi et al.'s 2-3 V range (assumed: the model has no switching
        threshold, so the paper's 2 V floor would only add a constant drift).
    rise : float
        Rise and fall time of each pulse (s), memspice's pulse_train default for 100 ns.
    min_width : float
        Shortest flat top the driver can give (s); 10 ns is the paper's single DDK operation time.
    """

    v_max: float = 3.0
    rise: float = PULSE_RISE
    min_width: float = 10e-9

    def __post_init__(self):
        for name in ("v_max", "rise", "min_width"):
            if not getattr(self, name) > 0:
                raise ValueError(f"DeviceMapping.{name} must be > 0, got {getattr(self, name)!r}")

    def rates(self, model):
        """(drift per volt-second, diffusion per second) in y units: dy/dt = kd V + ka / y."""
        p = model.params
        r = (1 / p.r_off) / (1 / p.r_on)
        return (1 - r) * p.mobility / p.length**2, (1 - r) ** 2 * p.diffusion / p.length**2

    def timing(self, model, alpha, beta):
        """(width, gap) in s realising ``alpha``, ``beta`` (clipped to what the device can do)."""
        kd, ka = self.rates(model)
        beta = np.asarray(beta, float)
        alpha = np.asarray(alpha, float)
        width = np.maximum(beta / (kd * self.v_max) - self.rise, self.min_width)
        gap = np.maximum(alpha / ka - width - 2 * self.rise, 0.0) if ka > 0 else np.zeros_like(width)
        return width, gap

    def realised(self, model, alpha, beta):
        """(alpha, beta) the device actually applies after clipping the timing."""
        kd, ka = self.rates(model)
        width, gap = self.timing(model, alpha, beta)
        return ka * (width + 2 * self.rise + gap), kd * self.v_max * (width + self.rise)


def device_forward(
    x,
    alpha,
    beta,
    polarity: Polarity = Polarity.RESET,
    model=None,
    mapping: DeviceMapping = DeviceMapping(),
    step_limit: float = 0.2,
):
    """Feature maps y = G / G_max (batch, channels, steps) from the calibrated device.

    Every (sample, channel) pair is one device, started at the range's start
    for ``polarity`` and driven by pulses of amplitude ``polarity * v_max * x``
    with the width and gap of :meth:`DeviceMapping.timing`.  ``alpha``, ``beta``
    are per channel (channels,) or per device (batch, channels).
    """
    x, alpha, beta = _check_inputs(x, alpha, beta)
    model = model or ddk_memristor()
    b, c, t = x.shape
    width, gap = mapping.timing(model, alpha, beta)
    p = model.params
    g_min, g_max = 1 / p.r_off, 1 / p.r_on
    y_start = ConductanceRange().start(polarity) if polarity == Polarity.RESET else g_min / g_max
    x0 = (y_start * g_max - g_min) / (g_max - g_min) if polarity == Polarity.RESET else 0.0
    amps = float(Polarity(polarity)) * mapping.v_max * x.reshape(b * c, t)
    states = pulse_states(model, amps, width.reshape(-1), gap.reshape(-1), mapping.rise, x0=x0, step_limit=step_limit)
    return (conductance_of(states, g_min, g_max) / g_max).reshape(b, c, t)
