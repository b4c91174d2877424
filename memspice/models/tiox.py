"""Interface-type TiOx memristor: self-rectifying, forming-free, analogue.

Conduction is thermionic emission over an interface Schottky barrier whose
height is lowered as oxygen vacancies accumulate at the interface (state x).
Schottky emission reads i = A A** T^2 exp(-q phi_B / kT) (exp(q v / (n kT)) - 1):
the barrier term carries kT/q, the ideality factor n belongs to the voltage
term.  Here:

* i = I_s(x) (E(v/V_c) - 1),  I_s(x) = I_s,on (1/ONOFF + x (1 - 1/ONOFF))
  - V_c = n kT/q is the emission voltage, set by V_c = v_read / ln(RR) so
    that |i(+v_read)/i(-v_read)| = RR exactly (with the assumed RR = 1e3 and
    v_read = 1 V, V_c = 0.145 V: an effective n of ~5.6 at 300 K, i.e. the
    interface layer, not ideal emission, sets the slope);
  - reverse current saturates at -I_s(x) (Schottky reverse saturation), which
    is what makes the cell self-rectifying;
  - E is exp continued linearly above v_lin (as Verilog-A ``limexp``,
    standing in for the series resistance that limits real forward current);
  - I_s,on is set so the ON-state forward read current is v_read / r_on.
  The saturation current is I_s = A A** T^2 exp(-q phi_B / kT), so I_s(x)
  linear in x means the barrier height
  phi_B(x) = phi_B,on - (kT/q) ln(I_s(x)/I_s,on): conductance rises linearly
  with the state while the barrier falls logarithmically.
* dx/dt = k_set s softplus((v - v_set)/s) (1 - x^(2p))
          - k_reset s softplus((-v - v_reset)/s) (1 - (1 - x)^(2p))
  thresholded, field-driven drift; the high-order windows keep potentiation
  and depression near-linear over most of the range (gradual analogue
  switching under identical pulses).

Sources.  Jeong et al., Nat. Electron. 8, 168-178 (2025) establish the
device class (interface-type TiOx with a gradual oxygen distribution:
forming-free, self-rectifying, analogue and linear, run selector-less in a
32 x 32 array) but the available text gives none of its numbers: every
default below is an assumption, labelled with its reason.  Stochastic
update behaviour (device-to-device and cycle-to-cycle variation of the
state change per pulse) is not part of this deterministic compact model,
whose Python, SPICE and Verilog-A faces must agree; it is applied by the
array simulation that uses it (``memspice.systems.rpca.array.NonIdealities``:
``d2d_update``, ``c2c_update``).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from . import symbolic
from .base import CompactModel
from .params import param, require, validate_fields

_PAPER = "Jeong et al., Nat. Electron. 8, 168-178 (2025) give no value"


@dataclass(frozen=True)
class TiOxParams:
    """Parameters of :class:`TiOx` (SI units)."""

    r_on: float = param(
        1e6,
        "Ohm",
        "ON-state forward read resistance v_read/i; assumed (" + _PAPER + "): "
        "1 MOhm keeps a 32 x 32 array's line currents, hence IR drop, small",
    )
    on_off_ratio: float = param(
        10.0,
        "1",
        "I(ON)/I(OFF) at v_read; assumed (" + _PAPER + "): a modest "
        "analogue window typical of interface-type switching",
        check="ratio",
    )
    rectification_ratio: float = param(
        1e3,
        "1",
        "|I(+v_read)/I(-v_read)|; assumed (" + _PAPER + "): enough to suppress sneak paths in a 32 x 32 passive array",
        check="ratio",
    )
    v_read: float = param(
        1.0,
        "V",
        "read voltage at which the ratios are defined; assumed (" + _PAPER + "): below the switching thresholds",
    )
    v_lin: float = param(
        1.5,
        "V",
        "forward exponential continues linearly above this (limexp); assumed: "
        "stands in for the series resistance, numerical guard",
    )
    v_set: float = param(
        1.6,
        "V",
        "SET threshold (positive polarity); assumed (" + _PAPER + "): above "
        "v_read, below a 2 V write so V/2 half-selection does not disturb",
    )
    v_reset: float = param(
        1.6, "V", "RESET threshold magnitude (negative polarity); assumed, symmetric to v_set (" + _PAPER + ")"
    )
    k_set: float = param(
        4e4,
        "1/(V s)",
        "SET rate per volt of overdrive; assumed (" + _PAPER + "): ~1/64 of "
        "the range per 2 V, 1 us pulse, i.e. ~64 analogue levels",
    )
    k_reset: float = param(4e4, "1/(V s)", "RESET rate per volt of overdrive; assumed equal to k_set (" + _PAPER + ")")
    v_smooth: float = param(0.05, "V", "softness s of the switching thresholds; assumed: numerical smoothing")
    window_p: float = param(
        4.0,
        "1",
        "window exponent p: 1 - x^(2p) keeps updates near-linear; assumed "
        "(" + _PAPER + "; the paper reports high linearity)",
    )
    x0: float = param(0.0, "1", "initial (and rest) state, 0 = OFF (forming-free pristine); assumed", check="fraction")
    tau_ret: float = param(1e12, "s", "retention time constant: DC well-posedness only (assumed, numerical)")

    def __post_init__(self):
        validate_fields(self)
        require(self.v_lin >= self.v_read, self, "v_lin", f"must be >= v_read ({self.v_read!r}), got {self.v_lin!r}")
        require(self.v_set > self.v_read, self, "v_set", f"must be > v_read ({self.v_read!r}) so reads do not disturb")
        require(self.v_reset > 0, self, "v_reset", "must be > 0")


class TiOx(CompactModel):
    """Self-rectifying interface-type TiOx analogue memristor."""

    name = "ms_tiox"
    title = "memspice interface-type TiOx self-rectifying memristor (Schottky barrier, analogue drift)"
    Params = TiOxParams

    @classmethod
    def _emission_voltage(cls, s):
        return s["v_read"] / sp.log(s["rectification_ratio"])

    @classmethod
    def current_expr(cls):
        s, v, x = cls._sym(), symbolic.V, symbolic.X
        vc = cls._emission_voltage(s)
        z, z_lin = v / vc, s["v_lin"] / vc
        e = sp.Piecewise((sp.exp(z_lin) * (1 + z - z_lin), z > z_lin), (sp.exp(z), True))
        i_s_on = s["v_read"] / (s["r_on"] * (sp.exp(s["v_read"] / vc) - 1))
        i_s = i_s_on * (1 / s["on_off_ratio"] + x * (1 - 1 / s["on_off_ratio"]))
        return i_s * (e - 1)

    @classmethod
    def rate_expr(cls):
        s, v, x = cls._sym(), symbolic.V, symbolic.X
        sm, p = s["v_smooth"], s["window_p"]
        set_drive = s["k_set"] * sm * symbolic.softplus((v - s["v_set"]) / sm)
        reset_drive = s["k_reset"] * sm * symbolic.softplus((-v - s["v_reset"]) / sm)
        # (x^2)^p == x^(2p) with a base that is never negative
        return set_drive * (1 - (x**2) ** p) - reset_drive * (1 - ((1 - x) ** 2) ** p)
