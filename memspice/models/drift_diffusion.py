"""Drift-diffusion memristor: HP/Strukov linear ion drift plus a diffusion term.

Equations (state x = w/L, the doped fraction of a film of thickness L):

* i = v / (R_on x + R_off (1 - x))                      (Shi et al. 2025, DDK Eq. 1)
* dx/dt = r(v, x) W(x, r),  r = (mu/L^2) v + (D/L^2)/(x + x_eps)
  i.e. dw/dt = (mu/L) v + D/w in physical units           (Shi et al. 2025, DDK Eq. 2)

The window W blends a Joglekar-type upper window 1 - x^(2p) (used while the
rate is positive) with the mirrored lower window 1 - (1 - x)^(2p) (used while
it is negative) through a smooth sigmoid of the rate, so the device never
sticks at a boundary and every face stays infinitely differentiable.
The normalised SET/RESET form of the source, dy/dt = +/-beta x + alpha/y, is
the same equation with beta = mu/L^2 |v| and alpha = D/L^2.

:class:`DriftDiffusionParallel` keeps the state equation and parameters and changes only the conduction
law to the two regions in parallel (a filament of width fraction x beside the undoped film):
i = v (x / R_on + (1 - x) / R_off), so the conductance is linear in the state.  Which of the two laws
describes a device is for a fit to measured data to decide (``memspice fit``; the DDK calibration in
:mod:`memspice.systems.ddk.device` compares both).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import symbolic
from .base import CompactModel
from .params import param, require, validate_fields

_SEED = "Shi et al. (2025), DDK model, Fig. 1b/c"


@dataclass(frozen=True)
class DriftDiffusionParams:
    """Parameters of :class:`DriftDiffusion` (SI units)."""

    r_on: float = param(100.0, "Ohm", "HP/Strukov 2008 R_ON; ratio per " + _SEED)
    r_off: float = param(2000.0, "Ohm", "R_OFF/R_ON = 20, " + _SEED)
    mobility: float = param(3.2e-14, "m^2/(V s)", "mu, " + _SEED)
    length: float = param(60e-9, "m", "L, " + _SEED)
    diffusion: float = param(
        1e-15, "m^2/s", "D; not given by the source: diffusion ~5% of drift at 1 V, mid-state", check="nonnegative"
    )
    window_p: float = param(2.0, "1", "Joglekar window exponent p (window 1 - x^(2p))")
    v_smooth: float = param(1e-3, "V", "width of the smooth direction switch of the window")
    x_eps: float = param(1e-3, "1", "regularises D/w at w -> 0")
    x0: float = param(0.1, "1", "initial (and rest) state w/L", check="fraction")
    tau_ret: float = param(1e12, "s", "retention time constant: DC well-posedness only")

    def __post_init__(self):
        validate_fields(self)
        require(self.r_on < self.r_off, self, "r_on", f"must be < r_off ({self.r_off!r}), got {self.r_on!r}")


class DriftDiffusion(CompactModel):
    """HP linear-drift memristor with a D/w diffusion term and smooth window."""

    name = "ms_drift_diffusion"
    title = "memspice drift-diffusion memristor (HP linear drift + D/w diffusion, smooth window)"
    Params = DriftDiffusionParams

    @classmethod
    def current_expr(cls):
        s, v, x = cls._sym(), symbolic.V, symbolic.X
        return v / (s["r_on"] * x + s["r_off"] * (1 - x))

    @classmethod
    def rate_expr(cls):
        s, v, x = cls._sym(), symbolic.V, symbolic.X
        k_drift = s["mobility"] / s["length"] ** 2
        k_diff = s["diffusion"] / s["length"] ** 2
        r = k_drift * v + k_diff / (x + s["x_eps"])
        up = symbolic.sigmoid(r / (k_drift * s["v_smooth"]))
        p = s["window_p"]  # (x^2)^p == x^(2p) with a base that is never negative
        window = up * (1 - (x**2) ** p) + (1 - up) * (1 - ((1 - x) ** 2) ** p)
        return r * window


class DriftDiffusionParallel(DriftDiffusion):
    """The same drift-diffusion kinetics with parallel (filamentary) conduction: G(x) = x/R_on + (1 - x)/R_off.

    Not the source's Eq. 1 (series): a memspice alternative whose conductance is linear in the state, for
    devices whose pulsed conductance changes linearly (compare the two with ``memspice fit``).
    """

    name = "ms_drift_diffusion_parallel"
    title = "memspice drift-diffusion memristor, parallel conduction (filamentary; Eq. 2 kinetics, smooth window)"

    @classmethod
    def current_expr(cls):
        s, v, x = cls._sym(), symbolic.V, symbolic.X
        return v * (x / s["r_on"] + (1 - x) / s["r_off"])
