"""Leaky integrate-and-fire neuron built on the volatile threshold switch.

Circuit (SEEDS spiking review): the input current charges the membrane
capacitor C_m, which leaks through R_leak.  A threshold switch in series
with a read-out resistor R_load hangs across the membrane: when the membrane
reaches V_th the switch turns on, discharges C_m (the spike, seen as a
voltage pulse across R_load), and relaxes OFF once the membrane falls below
V_hold; then integration starts again.

    C_m dV/dt = I_in - V/R_leak - i_ts,  i_ts = V / (R_ts(x) + R_load)
    dx/dt = threshold-switch state equation at v_ts = V - i_ts R_load

Below I_th = V_th / R_leak the membrane settles under V_th: no spikes.
The same equations run as a Python reference (:meth:`LIFNeuron.simulate`)
and as a SPICE subcircuit (:meth:`LIFNeuron.library`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp

from ..analysis.metrics import firing_rate, spike_times  # noqa: F401  (re-exported for neuron users)
from ..analysis.waveforms import Waveforms
from ..models import ThresholdSwitch
from ..units import spice_number


@dataclass(frozen=True)
class LIFNeuron:
    """Membrane C_m (F), leak R_leak (Ohm), read-out R_load (Ohm), threshold switch."""

    c_mem: float = 100e-12
    r_leak: float = 100e3
    # R_load must stay below the switch's negative differential resistance (~0.14 V_eff / I),
    # or the load line crosses the NDR branch at a stable point and the neuron latches on
    r_load: float = 100.0
    ts: ThresholdSwitch = field(default_factory=ThresholdSwitch)
    spike_level: float = 0.02  # V across R_load that counts as a spike

    def __post_init__(self):
        for name in ("c_mem", "r_leak", "r_load", "spike_level"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"LIFNeuron.{name} must be a finite number > 0, got {v!r}")

    @property
    def threshold_current(self) -> float:
        """Smallest constant input (A) that can fire: V_th / R_leak."""
        return self.ts.params.v_th / self.r_leak

    # -- SPICE face --------------------------------------------------------------------------
    def library(self, face: str = "behavioural") -> str:
        """The ``ms_lif mem spk`` subcircuit; ``face="veriloga"`` uses the switch's Verilog-A module."""
        if face == "veriloga":
            device, switch = self.ts.va_model_card("ms_ts_m") + "\n", "Nts mem spk ms_ts_m"
        else:
            device, switch = self.ts.spice_subckt(), f"Xts mem spk {self.ts.name}"
        return device + (
            f".subckt ms_lif mem spk\n"
            f"Cm mem 0 {spice_number(self.c_mem)}\n"
            f"Rleak mem 0 {spice_number(self.r_leak)}\n"
            f"{switch}\n"
            f"Rload spk 0 {spice_number(self.r_load)}\n"
            f".ends ms_lif\n")

    def osdi_libraries(self) -> list:
        """Compiled Verilog-A the ``face="veriloga"`` library needs."""
        return [self.ts.compile_osdi()]

    def column(self, j: int, node: str, bias: float = 0.0) -> str:
        """Neuron j on crossbar column node ``node``; spikes appear as v(spk<j>)."""
        return f"Xn{j} {node} spk{j} ms_lif\n"

    @staticmethod
    def _check_run(i_in, t_stop, step=None):
        if np.isscalar(i_in) and not math.isfinite(i_in):
            raise ValueError(f"input current i_in must be finite, got {i_in!r}")
        for name, value in (("t_stop", t_stop), ("step", step)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite time > 0 s, got {value!r}")

    def netlist(self, i_in: float, t_stop: float, step: float,
                options: str = ".options reltol=1e-6 abstol=1e-15 vntol=1e-9 chgtol=1e-18 trtol=1",
                face: str = "behavioural") -> str:
        """Stand-alone neuron driven by a constant current ``i_in`` (A); time step ``step`` (s)."""
        self._check_run(i_in, t_stop, step)
        return (f"* memspice LIF neuron, I_in = {spice_number(i_in)} A\n{self.library(face)}"
                f"Iin 0 mem0 DC {spice_number(i_in)}\nXn0 mem0 spk0 ms_lif\n{options}\n"
                f".tran {spice_number(step)} {spice_number(t_stop)} 0 {spice_number(step)} uic\n.end\n")

    # -- Python face -------------------------------------------------------------------------
    def simulate(self, i_in, t_stop: float, n_points: int = 20001, rtol: float = 1e-8) -> Waveforms:
        """Reference ODE; ``i_in`` is a constant (A) or a callable of t. Returns v_mem, x, v_spk."""
        self._check_run(i_in, t_stop)
        current = (lambda t: i_in) if np.isscalar(i_in) else i_in
        ts = self.ts

        def branch(v, x):
            g = ts.current(1.0, x)  # i = v G(x): G at 1 V
            i = v * g / (1 + g * self.r_load)
            return i, v - i * self.r_load

        def rhs(t, y):
            v, x = y
            i, v_ts = branch(v, x)
            return [(current(t) - v / self.r_leak - i) / self.c_mem, float(ts.rate(x, v_ts))]

        t_eval = np.linspace(0, t_stop, n_points)
        p = ts.params
        sol = solve_ivp(rhs, (0, t_stop), [0.0, p.x0], method="Radau", t_eval=t_eval, rtol=rtol, atol=[1e-9, 1e-9],
                        max_step=min(p.tau_on, t_stop / 1000))
        if sol.status != 0:
            raise RuntimeError(f"LIF reference failed: {sol.message}")
        v, x = sol.y
        i, _ = branch(v, x)
        return Waveforms(sol.t, {"v_mem": v, "x": x, "v_spk": i * self.r_load}, title="LIF neuron (reference)")
