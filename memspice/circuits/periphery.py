"""Periphery around a crossbar: DACs (levels, amplitude and pulse-width encodings),
TIAs (ideal and finite-gain op-amp macromodel) and ADC quantisation.

Signal chain for MVM inference (Bao et al. 2022, in-memory computing review): DACs -> array ->
TIAs (current to voltage) -> ADCs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.choices import Choice
from ..core.faces import Face
from ..core.units import sci_number, spice_number
from .sources import PWL


def _finite_positive(name, value):
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


# --- DACs ------------------------------------------------------------------------------------
def dac_levels(x, bits: int, v_max: float) -> np.ndarray:
    """Quantise inputs x in [0, 1] to 2^bits - 1 steps of v_max (V)."""
    if not (isinstance(bits, int) and 1 <= bits <= 24):
        raise ValueError(f"bits must be an integer in 1..24, got {bits!r}")
    _finite_positive("v_max", v_max)
    x = np.asarray(x, float)
    if not np.all(np.isfinite(x)):
        raise ValueError("DAC inputs contain NaN or inf")
    steps = 2**bits - 1
    return np.round(np.clip(x, 0, 1) * steps) / steps * v_max


def amplitude_encoding(x, v_max: float, width: float, bits: int = 8, rise: float | None = None) -> list[PWL]:
    """One read pulse per word line whose amplitude encodes x in [0, 1] (V, s)."""
    rise = width / 20 if rise is None else rise
    levels = dac_levels(x, bits, v_max)
    return [PWL((0.0, rise, rise + width, 2 * rise + width), (0.0, float(a), float(a), 0.0)) for a in levels]


def pulse_width_encoding(x, v_read: float, t_max: float, bits: int = 8, rise: float | None = None) -> list[PWL]:
    """Fixed-amplitude pulses whose flat-top width encodes x in [0, 1]: width = x * t_max (s).

    The charge collected on a bit line is then sum_i G_ij v_read t_max x_i (+ edge terms
    identical for every input), i.e. proportional to G^T x.
    """
    _finite_positive("t_max", t_max)
    rise = t_max / 200 if rise is None else rise
    widths = dac_levels(x, bits, 1.0) * t_max
    out = []
    for w in widths:
        if w <= 0:
            out.append(PWL((0.0,), (0.0,)))
        else:
            out.append(PWL((0.0, rise, rise + w, 2 * rise + w), (0.0, v_read, v_read, 0.0)))
    return out


# --- op-amp macromodel ---------------------------------------------------------------------
def opamp_subckt(gain: float, gbw: float, v_sat: float, name: str = "ms_opamp", bounded: bool = False) -> str:
    """Single-pole op-amp ``.subckt name inp inn out``: DC gain (V/V), pole at gbw/gain (Hz),
    output limited smoothly to +-v_sat (V) by tanh.

    ``bounded``: limit the gain stage before the pole instead of the output, so no internal node can grow
    past v_sat (a loop that runs away then stays numerically tame); the small-signal response is the same.
    """
    for label, value in (("gain", gain), ("gbw", gbw), ("v_sat", v_sat)):
        _finite_positive(f"op-amp {label}", value)
    c_pole = gain / (2 * math.pi * 1e3 * gbw)  # 1 kOhm * C sets the pole at gbw/gain
    if bounded:
        return (
            "* single-pole op-amp: DC gain a0, pole at gbw/a0, gain stage limited to +-vsat\n"
            f".subckt {name} inp inn out params: a0={sci_number(gain)} vsat={sci_number(v_sat)}\n"
            "Bgain n1 0 V = vsat*tanh(a0*V(inp,inn)/vsat)\n"
            "Rpole n1 n2 1k\n"
            f"Cpole n2 0 {spice_number(c_pole)}\n"
            "Eout out 0 n2 0 1\n"
            f".ends {name}\n"
        )
    return (
        "* single-pole op-amp: DC gain a0, pole at gbw/a0, smooth output limit +-vsat\n"
        f".subckt {name} inp inn out params: a0={sci_number(gain)} vsat={sci_number(v_sat)}\n"
        "Egain n1 0 inp inn {a0}\n"
        "Rpole n1 n2 1k\n"
        f"Cpole n2 0 {spice_number(c_pole)}\n"
        "Bout out 0 V = vsat*tanh(V(n2)/vsat)\n"
        f".ends {name}\n"
    )


# --- TIAs ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IdealTIA:
    """Virtual ground and v_out = bias - R_f I (I into the TIA, A; R_f in Ohm)."""

    r_f: float = 10e3

    def __post_init__(self):
        _finite_positive("IdealTIA.r_f", self.r_f)

    def library(self, face: Face | str = Face.BEHAVIOURAL) -> str:
        return ""

    def column(self, j: int, node: str, bias: float) -> str:
        return f"Vsense{j} {node} 0 DC {spice_number(bias)}\nHout{j} out{j} 0 Vsense{j} {spice_number(-self.r_f)}\n"

    def dc_output(self, current, bias: float = 0.0):
        return bias - self.r_f * np.asarray(current)


@dataclass(frozen=True)
class OpAmpTIA:
    """Inverting TIA around a single-pole op-amp macromodel.

    Open-loop gain ``gain`` (V/V), gain-bandwidth ``gbw`` (Hz; pole at gbw/gain),
    output swing +-``v_sat`` (smooth tanh limit), feedback ``r_f`` (Ohm) parallel ``c_f`` (F).
    """

    r_f: float = 10e3
    c_f: float = 0.0
    gain: float = 1e5
    gbw: float = 10e6
    v_sat: float = 1.5

    def __post_init__(self):
        for name in ("r_f", "gain", "gbw", "v_sat"):
            _finite_positive(f"OpAmpTIA.{name}", getattr(self, name))
        if not (math.isfinite(self.c_f) and self.c_f >= 0):
            raise ValueError(f"OpAmpTIA.c_f must be >= 0 F, got {self.c_f!r}")

    def library(self, face: Face | str = Face.BEHAVIOURAL) -> str:
        return opamp_subckt(self.gain, self.gbw, self.v_sat)

    def column(self, j: int, node: str, bias: float) -> str:
        lines = [
            f"Vref{j} ref{j} 0 DC {spice_number(bias)}",
            f"Xoa{j} ref{j} {node} out{j} ms_opamp",
            f"Rf{j} {node} out{j} {spice_number(self.r_f)}",
        ]
        if self.c_f > 0:
            lines.append(f"Cf{j} {node} out{j} {spice_number(self.c_f)}")
        return "\n".join(lines) + "\n"

    def dc_output(self, current, bias: float = 0.0):
        """Small-signal DC output (V) for input current (A), inside the swing."""
        a = self.gain
        return bias - self.r_f * np.asarray(current) * a / (1 + a)


class TIAKind(Choice):
    """Column read-out: ``NONE`` (0 V sense source, the current is the output), ``IDEAL`` or ``OPAMP`` TIA."""

    NONE = "none"
    IDEAL = "ideal"
    OPAMP = "opamp"


#: TIA feedback resistance, Ohm (assumed: 10 kOhm turns the 10-100 µA column currents of the default
#: conductance range into 0.1-1 V)
R_F = 10e3


def make_tia(kind: TIAKind | str, r_f: float = R_F) -> IdealTIA | OpAmpTIA | None:
    """The TIA of ``kind`` with feedback resistance ``r_f`` (Ohm), or None for ``TIAKind.NONE``."""
    kind = TIAKind.parse(kind)
    if kind is TIAKind.NONE:
        return None
    return IdealTIA(r_f=r_f) if kind is TIAKind.IDEAL else OpAmpTIA(r_f=r_f)


# --- ADC -------------------------------------------------------------------------------------
def adc_quantize(v, bits: int, full_scale: float, signed: bool = True):
    """Mid-tread quantiser: returns (integer codes, reconstructed values in V).

    ``signed``: codes in [-(2^(bits-1)-1), 2^(bits-1)-1] over [-full_scale, full_scale];
    otherwise [0, 2^bits - 1] over [0, full_scale].  Inputs beyond full scale clip.
    """
    if not (isinstance(bits, int) and 1 <= bits <= 24):
        raise ValueError(f"bits must be an integer in 1..24, got {bits!r}")
    _finite_positive("full_scale", full_scale)
    v = np.asarray(v, float)
    if signed:
        top = 2 ** (bits - 1) - 1 if bits > 1 else 1
        lsb = full_scale / top
        codes = np.clip(np.round(v / lsb), -top, top).astype(int)
    else:
        top = 2**bits - 1
        lsb = full_scale / top
        codes = np.clip(np.round(v / lsb), 0, top).astype(int)
    return codes, codes * lsb
