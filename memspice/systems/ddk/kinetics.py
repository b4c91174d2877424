"""The DDK layer: software form (the paper's kinetic law) and device form (the calibrated memristor).

Shi et al., Nat. Commun. 16 (2025), generalise drift-diffusion kinetics to a non-negative input u:
SET dy/dt = beta u + alpha / y, RESET dy/dt = -beta u + alpha / y, with y the normalised conductance,
beta the drift (speed) and alpha the diffusion (asymptote).  A DDK channel drives one device with one
pulse per input sample and reads y after each pulse; the trajectory is the channel's feature map.  Inputs
x in [0, 1] become pulse amplitudes v = 2 + x V (the paper's 2-3 V), and the law sees u = v / 3 V.

* Software form (:func:`software_forward`): one explicit step per pulse,
  y_t = clip(y_{t-1} + s beta u_t + alpha / y_{t-1}, y_min, y_max), s = +1 (SET) or -1 (RESET);
  [y_min, y_max] is the device's limited range.  :func:`software_backward` is its exact adjoint.
* Device form (:func:`device_forward`): the calibrated
  :func:`~memspice.systems.ddk.device.ddk_memristor` driven by trapezoidal pulses of amplitude v_t; beta
  sets the pulse width and alpha the 0 V gap after each pulse (diffusion acts over the whole period).
  Within the window's flat part the device obeys exactly dy = (1 - r) (mu/L^2) v dt + (1 - r)^2 (D/L^2)/y dt
  (r = G_min/G_max, with x_eps = r/(1 - r)), so beta = (1 - r) (mu/L^2) 3 V (width + rise) and
  alpha = (1 - r)^2 (D/L^2) (width + 2 rise + gap).  The timing mapping is memspice's (assumed): the
  paper does not say how learned kinetics are set on chip.

Hardware constraints (:class:`DeviceMapping.box`): the widths and gaps a driver can give (assumed 10 ns -
the paper's single DDK operation time - to 1 us, gaps up to 10 us) bound beta and alpha; training projects
onto that box.  On the device calibrated to the paper's linear pulsed range the diffusion is zero within
its confidence interval, so alpha is pinned near 0 and the DDK layer is a drift integrator clipped at the
range ends: say so wherever results are reported.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from ...models.drive import ParameterBatch, pulse_states
from .device import PULSE_RISE, R_INIT, V_HIGH, V_LOW, conductance_of, ddk_memristor, g_range


class Polarity(enum.IntEnum):
    """Direction of a DDK channel: SET raises the conductance, RESET lowers it."""

    SET = 1
    RESET = -1


@dataclass(frozen=True)
class ConductanceRange:
    """Limited conductance range in normalised units y = G / G_max, from a device.

    ``y0`` is the start of RESET channels (the paper's 5 kOhm initial resistance); SET channels start at ``y_min``.
    """

    y_min: float
    y_max: float
    y0: float

    def __post_init__(self):
        if not (0 < self.y_min < self.y_max):
            raise ValueError(f"ConductanceRange.y_min must lie in (0, y_max), got {self.y_min!r}")
        if not (self.y_min <= self.y0 <= self.y_max):
            raise ValueError(f"ConductanceRange.y0 must lie in [y_min, y_max], got {self.y0!r}")

    @classmethod
    def of(cls, model=None, r_init: float = R_INIT) -> "ConductanceRange":
        """The range of ``model`` (default the calibrated device) with RESET channels starting at ``r_init``."""
        model = model or ddk_memristor()
        g_min, g_max = g_range(model)
        return cls(g_min / g_max, 1.0, float(np.clip((1.0 / r_init) / g_max, g_min / g_max, 1.0)))

    def start(self, polarity: Polarity) -> float:
        return self.y0 if polarity == Polarity.RESET else self.y_min


def drive(x) -> np.ndarray:
    """Inputs x in [0, 1] -> the law's u = v / V_HIGH with pulse amplitude v = V_LOW + (V_HIGH - V_LOW) x."""
    return (V_LOW + (V_HIGH - V_LOW) * np.asarray(x, float)) / V_HIGH


def _check_inputs(x, alpha, beta):
    x = np.asarray(x, float)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (batch, devices, pulses), got {x.shape}")
    if np.any(~np.isfinite(x)) or np.any(x < 0) or np.any(x > 1):
        raise ValueError("x must be finite and lie in [0, 1] (scale the inputs first)")
    alpha = np.broadcast_to(np.asarray(alpha, float), x.shape[:2])
    beta = np.broadcast_to(np.asarray(beta, float), x.shape[:2])
    return x, alpha, beta


def software_forward(x, alpha, beta, crange: ConductanceRange, polarity: Polarity = Polarity.RESET, pulse_factor=None):
    """Feature maps y (batch, devices, pulses) of the DDK law for inputs ``x`` in [0, 1].

    ``alpha``, ``beta``: per device column (devices,) or per device (batch, devices).  ``pulse_factor``
    (batch, devices, pulses), optional: each pulse's drift multiplied by it (cycle-to-cycle update noise).
    Returns (y, cache) where cache feeds :func:`software_backward`.
    """
    x, alpha, beta = _check_inputs(x, alpha, beta)
    u = drive(x) if pulse_factor is None else drive(x) * np.asarray(pulse_factor, float)
    sign = float(Polarity(polarity))
    b, c, t = x.shape
    y = np.empty((b, c, t))
    before = np.empty((b, c, t))
    inside = np.empty((b, c, t), bool)
    prev = np.full((b, c), crange.start(polarity))
    for k in range(t):
        before[:, :, k] = prev
        z = prev + sign * beta * u[:, :, k] + alpha / prev
        inside[:, :, k] = (z > crange.y_min) & (z < crange.y_max)
        prev = np.clip(z, crange.y_min, crange.y_max)
        y[:, :, k] = prev
    return y, (u, alpha, sign, inside, before)


def software_backward(grad_y, cache):
    """Adjoint of :func:`software_forward`: (d loss / d alpha, d loss / d beta), each (batch, devices).

    With lambda_t = d loss / d y_t (its own term plus what later steps send back) and m_t the inside-range
    mask: g_t = lambda_t m_t; d alpha += g_t / y_{t-1}; d beta += s g_t u_t; lambda_{t-1} = g_t (1 - alpha / y_{t-1}^2).
    """
    u, alpha, sign, inside, prev = cache
    grad_y = np.asarray(grad_y, float)
    b, c, t = u.shape
    d_alpha = np.zeros((b, c))
    d_beta = np.zeros((b, c))
    lam = np.zeros((b, c))
    for k in range(t - 1, -1, -1):
        lam = lam + grad_y[:, :, k]
        g = lam * inside[:, :, k]
        d_alpha += g / prev[:, :, k]
        d_beta += sign * g * u[:, :, k]
        lam = g * (1 - alpha / prev[:, :, k] ** 2)
    return d_alpha, d_beta


@dataclass(frozen=True)
class DeviceMapping:
    """How a channel's (alpha, beta) become a pulse programme on the calibrated device.

    Parameters
    ----------
    rise : float
        Rise and fall time of each pulse (s): width/20 of the paper's 100 ns pulse (assumed).
    min_width, max_width : float
        Flat-top widths the driver can give (s): 10 ns (the paper's single DDK operation) to 1 us (assumed).
    max_gap : float
        Longest 0 V gap after a pulse (s), assumed 10 us.
    """

    rise: float = PULSE_RISE
    min_width: float = 10e-9
    max_width: float = 1e-6
    max_gap: float = 10e-6

    def __post_init__(self):
        for name in ("rise", "min_width", "max_width", "max_gap"):
            if not getattr(self, name) >= 0 or not np.isfinite(getattr(self, name)):
                raise ValueError(f"DeviceMapping.{name} must be a finite time >= 0 s, got {getattr(self, name)!r}")
        if not self.min_width < self.max_width:
            raise ValueError("DeviceMapping.min_width must be < max_width")

    @staticmethod
    def rates(model):
        """(drift per second at u = 1, diffusion per second) in y units: dy/dt = kd u + ka / y."""
        p = model.params
        g_min, g_max = g_range(model)
        r = g_min / g_max
        return (1 - r) * p.mobility / p.length**2 * V_HIGH, (1 - r) ** 2 * p.diffusion / p.length**2

    def timing(self, model, alpha, beta):
        """(width, gap) in s realising ``alpha``, ``beta`` (clipped to what the driver can do)."""
        kd, ka = self.rates(model)
        width = np.clip(np.asarray(beta, float) / kd - self.rise, self.min_width, self.max_width)
        if ka > 0:
            gap = np.clip(np.asarray(alpha, float) / ka - width - 2 * self.rise, 0.0, self.max_gap)
        else:
            gap = np.zeros_like(width)
        return width, gap

    def realised(self, model, alpha, beta):
        """(alpha, beta) the device applies after clipping the timing."""
        kd, ka = self.rates(model)
        width, gap = self.timing(model, alpha, beta)
        return ka * (width + 2 * self.rise + gap), kd * (width + self.rise)

    def box(self, model) -> tuple[tuple[float, float], tuple[float, float]]:
        """((alpha_lo, alpha_hi), (beta_lo, beta_hi)): the kinetics the device can realise (hardware constraints)."""
        kd, ka = self.rates(model)
        beta = (kd * (self.min_width + self.rise), kd * (self.max_width + self.rise))
        alpha = (ka * (self.min_width + 2 * self.rise), ka * (self.max_width + 2 * self.rise + self.max_gap))
        return alpha, beta


def device_forward(
    x,
    alpha,
    beta,
    polarity: Polarity = Polarity.RESET,
    model=None,
    mapping: DeviceMapping = DeviceMapping(),
    mobility_factor=None,
    diffusion_factor=None,
    crange: ConductanceRange | None = None,
    step_limit: float = 0.2,
    pulse_factor=None,
):
    """Feature maps y = G / G_max (batch, devices, pulses) from the calibrated device.

    Every (sample, device column) pair is one device run, started at the range's start for ``polarity``,
    driven by pulses of amplitude ``polarity * (2 + x) V`` with the width and gap that realise the nominal
    ``alpha``, ``beta`` (:meth:`DeviceMapping.timing`).  ``mobility_factor`` and ``diffusion_factor``
    (broadcast to (batch, devices)) scale that device's own drift and diffusion: variation the controller
    does not know about.  ``pulse_factor`` (batch, devices, pulses), optional, scales each pulse's flat top:
    the cycle-to-cycle variation of each update.
    """
    x, alpha, beta = _check_inputs(x, alpha, beta)
    model = model or ddk_memristor()
    crange = crange or ConductanceRange.of(model)
    b, c, t = x.shape
    width, gap = mapping.timing(model, alpha, beta)
    g_min, g_max = g_range(model)
    y_start = crange.start(polarity)
    x0 = float(np.clip((y_start * g_max - g_min) / (g_max - g_min), 0.0, 1.0))
    amps = float(Polarity(polarity)) * (V_LOW + (V_HIGH - V_LOW) * x.reshape(b * c, t))
    names = model.param_names
    values = np.repeat(np.array(model.param_values)[None, :], b * c, axis=0)
    if mobility_factor is not None:
        values[:, names.index("mobility")] *= np.broadcast_to(np.asarray(mobility_factor, float), (b, c)).ravel()
    if diffusion_factor is not None:
        values[:, names.index("diffusion")] *= np.broadcast_to(np.asarray(diffusion_factor, float), (b, c)).ravel()
    widths = width.reshape(-1, 1)
    if pulse_factor is not None:
        widths = widths * np.broadcast_to(np.asarray(pulse_factor, float), (b, c, t)).reshape(b * c, t)
    states = pulse_states(
        ParameterBatch(model, values),
        amps,
        widths,
        gap.reshape(-1),
        mapping.rise,
        x0=x0,
        step_limit=step_limit,
    )
    return (conductance_of(model, states) / g_max).reshape(b, c, t)
