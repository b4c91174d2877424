"""Volatile threshold switch (diffusive Ag/SiOx, NbOx, VO2 type) for neurons.

* i = v G(x),  G(x) = G_off (G_on/G_off)^x  (log-linear in the state)
* dx/dt = D (1 - x)/tau_on - (1 - D) x/tau_off,  D = S(ln(|v| / V_eff(x)) / sigma)
  V_eff(x) = V_th (V_hold/V_th)^x,  sigma = v_smooth / V_th

S is the logistic function and |v| is smoothed over v_smooth.  The switching
threshold moves with the state, from V_th for an OFF device to V_hold for an
ON one: an OFF device turns on above V_th and the turn-on is regenerative
(the threshold falls as it conducts: the S-shaped negative differential
resistance of real threshold switches); an ON device stays on down to
V_hold; between the two an OFF device stays OFF and an ON device stays ON
(the hysteresis window).  Below V_hold it relaxes to OFF with tau_off, so it
returns to OFF when the bias is removed.  This NDR is what makes a
threshold-switch neuron oscillate (Chip 3, 100093, 2024 review).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from . import symbolic
from .base import CompactModel
from .params import param, require, validate_fields

_SRC = "assumed: typical diffusive threshold-switch values, spiking-network review (Chip 3, 100093, 2024)"


@dataclass(frozen=True)
class ThresholdSwitchParams:
    """Parameters of :class:`ThresholdSwitch` (SI units)."""

    r_on: float = param(1e3, "Ohm", "ON resistance; " + _SRC)
    r_off: float = param(1e8, "Ohm", "OFF resistance; " + _SRC)
    v_th: float = param(0.8, "V", "threshold voltage (turn-on); " + _SRC)
    v_hold: float = param(0.2, "V", "hold voltage (turn-off); " + _SRC)
    tau_on: float = param(10e-9, "s", "turn-on time constant; " + _SRC)
    tau_off: float = param(1e-6, "s", "relaxation time constant; " + _SRC)
    v_smooth: float = param(0.005, "V", "softness of the thresholds: leakage below V_th ~ exp(-(V_th - v)/v_smooth)")
    x0: float = param(0.0, "1", "initial (and rest) state, 0 = OFF", check="fraction")
    tau_ret: float = param(1e12, "s", "retention time constant: DC well-posedness only")

    def __post_init__(self):
        validate_fields(self)
        require(self.r_on < self.r_off, self, "r_on", f"must be < r_off ({self.r_off!r}), got {self.r_on!r}")
        require(self.v_hold < self.v_th, self, "v_hold", f"must be < v_th ({self.v_th!r}), got {self.v_hold!r}")


class ThresholdSwitch(CompactModel):
    """Volatile threshold switch with Vth/Vhold hysteresis and relaxation."""

    name = "ms_threshold_switch"
    title = "memspice volatile threshold switch (Vth/Vhold hysteresis, relaxation to OFF)"
    Params = ThresholdSwitchParams

    @classmethod
    def current_expr(cls):
        s, v, x = cls._sym(), symbolic.V, symbolic.X
        return v / s["r_off"] * (s["r_off"] / s["r_on"]) ** x

    @classmethod
    def rate_expr(cls):
        s, v, x = cls._sym(), symbolic.V, symbolic.X
        mag = symbolic.smooth_abs(v, s["v_smooth"])
        log_over = sp.log(mag / s["v_th"]) - x * sp.log(s["v_hold"] / s["v_th"])  # ln(|v| / V_eff(x))
        drive = symbolic.sigmoid(log_over * s["v_th"] / s["v_smooth"])
        return drive * (1 - x) / s["tau_on"] - (1 - drive) * x / s["tau_off"]
