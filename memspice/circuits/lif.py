"""Leaky integrate-and-fire neuron built on the volatile threshold switch.

Behavioural LIF of the spiking-network review ("Spiking networks with
memristors", Chip 3, 100093, 2024): ``I_in R_m = U + tau_m dU/dt``; for a
constant input ``U(t) = I_in R_m + (U_0 - I_in R_m) exp(-t / tau_m)``; the
neuron fires when U reaches the threshold and is reset to rest.  Memristive
neurons of that review realise it with a volatile threshold switch: the input
current charges the membrane capacitor C_m, which leaks through R_leak
(R_m = R_leak, tau_m = R_leak C_m); when the membrane reaches V_th the switch
turns on and discharges C_m (the spike, read as a voltage pulse across
R_load), then relaxes OFF.

Circuit (nodes mem, n1, ref; timer r and adaptation a as 1 F state nodes)::

    C_m dV/dt = I_in - V/R_leak - i_ts - V G_reset c(r)
    i_ts = (V - a) / (R_ts(x) + R_load),  v_spk = i_ts R_load,  v_ts = V - a - v_spk
    spike output v(spk) = v_spk + 2 spike_level c_on(r)   (the switch's pulse plus the one-shot's)
    dx/dt = threshold-switch state equation at v_ts
    dr/dt = s (1 - r)/tau_arm - (1 - s) r / tau_r,   s = S((v_spk - v_trig (1 - r/2)) / w)
    da/dt = -a / tau_adapt + adapt_step c_on(r) / t_clamp

S is the logistic function and v_trig = 1.5 spike_level; the trigger falls as the timer
rises (a Schmitt trigger), so once a spike starts the timer latches to 1 even though the clamp
cuts the spike short.  Each spike arms the timer r (0 -> ~1 within
tau_arm) and then lets it decay; while r > 1/2 the reset switch c(r) =
S((r - 1/2)/0.002) clamps the membrane to rest (0 V) through R_reset: this is
the *reset to rest* and the *refractory period* (the clamp lasts ``t_ref``
after the spike), and because the switch then sees 0 V it relaxes fully OFF
whatever the input (without the clamp the membrane restarts from about
V_hold while the switch is still partly ON).  The adaptation node a rises by
``adapt_step`` per spike (while the clamp is on: c_on = S((r - 1/2)/0.002), for t_clamp =
max(t_ref, 5 R_reset C_m)) and decays with ``tau_adapt``; it sits in series
with the switch, so the firing threshold is V_th + a (adaptive threshold,
homeostasis: the review's adaptive neurons lower their rate under sustained
input).  The same equations run as a Python reference
(:meth:`LIFNeuron.simulate`) and as a SPICE subcircuit
(:meth:`LIFNeuron.library`); :class:`BehaviouralLIF` is the paper's LIF with
the threshold and dead time calibrated to the circuit
(:meth:`LIFNeuron.behavioural`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy.integrate import solve_ivp

from ..core.faces import Face
from ..core.units import spice_number
from ..core.waveforms import Waveforms
from ..models import ThresholdSwitch
from ..models.symbolic import to_numpy
from .spikes import firing_rate, spike_times  # noqa: F401  (re-exported for neuron users)

_TAU_ARM = 0.5e-9  # s; assumed: the timer arms within the few ns the spike lasts
_CLAMP_LEVEL = 0.5  # timer level that releases the clamp; assumed
_CLAMP_WIDTH = 0.002  # softness of the reset switch in r; assumed: release within ~10 ns, independent of the input


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


@dataclass(frozen=True)
class BehaviouralLIF:
    """The review's LIF: ``I R_m = U + tau_m dU/dt``, fire at threshold, reset to rest.

    Parameters
    ----------
    r_m : float
        Membrane resistance (Ohm).
    tau_m : float
        Membrane time constant (s).
    v_th : float
        Firing threshold (V).
    t_dead : float
        Time (s) from a spike until integration restarts at rest (spike width plus refractory period).
    adapt_step, tau_adapt : float
        Threshold rise per spike (V) and its decay time (s); 0 disables adaptation.
    """

    r_m: float
    tau_m: float
    v_th: float
    t_dead: float = 0.0
    adapt_step: float = 0.0
    tau_adapt: float = 100e-6

    def time_to_threshold(self, i_in: float, threshold: float | None = None) -> float:
        """Time (s) from rest to the threshold under a constant input (A); inf if never reached."""
        th = self.v_th if threshold is None else threshold
        u_inf = i_in * self.r_m
        if u_inf <= th:
            return math.inf
        return self.tau_m * math.log(u_inf / (u_inf - th))

    def rate(self, i_in: float) -> float:
        """Steady firing rate (Hz) under a constant input (A), without adaptation."""
        t = self.time_to_threshold(i_in)
        return 0.0 if math.isinf(t) else 1.0 / (t + self.t_dead)

    def spike_times(self, i_in: float, t_stop: float) -> np.ndarray:
        """Spike times (s) under a constant input from rest at t = 0 (event by event, adaptation included)."""
        times: list[float] = []
        t, a = 0.0, 0.0
        while True:
            dt = self.time_to_threshold(i_in, self.v_th + a)
            if math.isinf(dt) or t + dt > t_stop:
                return np.array(times)
            t += dt
            times.append(t)
            # threshold rise: decays while integrating, + adapt_step at the spike, decays through the dead time
            a = (a * math.exp(-dt / self.tau_adapt) + self.adapt_step) * math.exp(-self.t_dead / self.tau_adapt)
            t += self.t_dead


@dataclass(frozen=True)
class LIFNeuron:
    """Threshold-switch LIF neuron.

    Parameters
    ----------
    c_mem : float
        Membrane capacitance C_m (F); assumed 100 pF (tau_m = 10 us with R_leak).
    r_leak : float
        Leak resistance R_leak = R_m (Ohm); assumed 100 kOhm.
    r_load : float
        Spike read-out resistor (Ohm).  Must stay below the switch's negative differential
        resistance (~0.14 V_eff / I), or the load line crosses the NDR branch at a stable point
        and the neuron latches on.
    ts : ThresholdSwitch
        The volatile threshold switch.
    spike_level : float
        Spike output level (V) that counts as a spike.  The output ``v(spk)`` is the voltage across
        R_load plus a pulse of 2 spike_level while the reset clamp holds (the timer's one-shot),
        so every spike crosses it even when the clamp cuts the switch's own pulse short.
    reset_to_rest : bool
        Clamp the membrane to rest (0 V) after each spike (the review's reset to rest).  False:
        the bare switch circuit, whose membrane restarts near V_hold.
    t_ref : float
        Refractory period (s): how long the clamp holds after a spike.  Default (None): assumed
        3 tau_off of the switch, so its state has relaxed below 5 % (threshold within 3 % of V_th)
        before integration restarts; a shorter clamp restarts on a partly ON switch whose lowered
        threshold makes the rate depend on the spike history.
    r_reset : float
        Clamp resistance (Ohm); assumed 100 Ohm: R_reset C_m = 10 ns, and the clamped membrane
        sits I_in R_reset (mV) above rest.
    adapt_step : float
        Threshold rise per spike (V); 0 (default) disables the adaptive threshold.  While clamped
        the switch sees -a: keep the accumulated rise below V_hold, or an ON switch stays ON.
    tau_adapt : float
        Decay time of the threshold rise (s); assumed 100 us (ten membrane time constants).
    input_mirror : bool
        On crossbar columns (:meth:`column`): hold the column at virtual ground (0 V sense
        source) and mirror its current into the membrane (a unity current mirror, assumed), so
        the crossbar read does not depend on the membrane voltage.  False: the column node is
        the membrane.
    mirror_gain : float
        Current gain of the input mirror (with ``input_mirror``): the membrane receives
        ``mirror_gain`` times the column current.  Default 1 (unity, assumed); a spiking layer sets
        it to scale its drive to its input count (:mod:`memspice.systems.snn.rule`).
    """

    c_mem: float = 100e-12
    r_leak: float = 100e3
    r_load: float = 100.0
    ts: ThresholdSwitch = field(default_factory=ThresholdSwitch)
    spike_level: float = 0.02  # V across R_load that counts as a spike
    reset_to_rest: bool = True
    t_ref: float | None = None
    r_reset: float = 100.0
    adapt_step: float = 0.0
    tau_adapt: float = 100e-6
    input_mirror: bool = False
    mirror_gain: float = 1.0

    def __post_init__(self):
        for name in ("c_mem", "r_leak", "r_load", "spike_level", "r_reset", "tau_adapt", "mirror_gain"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"LIFNeuron.{name} must be a finite number > 0, got {v!r}")
        for name in ("t_ref", "adapt_step"):
            v = getattr(self, name)
            if name == "t_ref" and v is None:
                continue
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"LIFNeuron.{name} must be a finite number >= 0, got {v!r}")

    @property
    def threshold_current(self) -> float:
        """Smallest constant input (A) that can fire: V_th / R_leak."""
        return self.ts.params.v_th / self.r_leak

    @property
    def tau_m(self) -> float:
        """Membrane time constant R_leak C_m (s)."""
        return self.r_leak * self.c_mem

    @property
    def refractory(self) -> float:
        """Refractory period (s): ``t_ref``, or 3 tau_off of the switch when it is None."""
        return 3 * self.ts.params.tau_off if self.t_ref is None else float(self.t_ref)

    @property
    def _t_clamp(self) -> float:
        # the clamp holds max(t_ref, 5 R_reset C_m) after a spike: long enough to empty C_m
        return max(self.refractory, 5 * self.r_reset * self.c_mem)

    @property
    def _tau_r(self) -> float:
        # r falls from 1 to _CLAMP_LEVEL (release) in _t_clamp
        return self._t_clamp / math.log(1.0 / _CLAMP_LEVEL)

    @property
    def _spike_width(self) -> float:
        return self.spike_level / 40

    @property
    def _trigger(self) -> float:
        # the timer (and so the clamp) triggers at 1.5 spike levels (in effect ~1.3: the timer reaches 1/2
        # at s ~ tau_arm / tau_r), so every spike crosses spike_level before the clamp cuts it short
        return 1.5 * self.spike_level

    # -- SPICE face --------------------------------------------------------------------------
    def library(self, face: Face | str = Face.BEHAVIOURAL) -> str:
        """The ``ms_lif mem spk`` subcircuit; ``Face.VERILOG_A`` uses the switch's Verilog-A module."""
        if Face.parse(face) is Face.VERILOG_A:
            device, switch = self.ts.va_model_card("ms_ts_m") + "\n", "Nts mem n1 ms_ts_m"
        else:
            device, switch = self.ts.spice_subckt(), f"Xts mem n1 {self.ts.name}"
        n = spice_number
        c = f"(0.5*(1+tanh(0.5*(v(r)-{_CLAMP_LEVEL})/{_CLAMP_WIDTH})))"
        s = f"(0.5*(1+tanh(0.5*(v(n1,ref)-{n(self._trigger)}*(1-0.5*v(r)))/{n(self._spike_width)})))"
        clamp = f"Breset mem 0 I=v(mem)/{n(self.r_reset)}*{c}\n" if self.reset_to_rest else ""
        return device + (
            f".subckt ms_lif mem spk\n"
            f"Cm mem 0 {n(self.c_mem)}\n"
            f"Rleak mem 0 {n(self.r_leak)}\n"
            f"{switch}\n"
            f"Rload n1 ref {n(self.r_load)}\n"
            f"Eref ref 0 a 0 1\n"
            f"Bspk spk 0 V=v(n1,ref)+{n(2 * self.spike_level)}*{c}\n"
            f"* spike timer r (reset clamp, refractory period) and adaptive threshold a: 1 F state nodes\n"
            f"Br 0 r I={s}*(1-v(r))/{n(_TAU_ARM)}-(1-{s})*v(r)/{n(self._tau_r)}\n"
            f"Cr r 0 1\n"
            f"Ba 0 a I=-v(a)/{n(self.tau_adapt)}+{n(self.adapt_step / self._t_clamp)}*{c}\n"
            f"Ca a 0 1\n"
            f"{clamp}"
            f".ends ms_lif\n"
        )

    def osdi_libraries(self) -> list:
        """Compiled Verilog-A the ``Face.VERILOG_A`` library needs."""
        return [self.ts.compile_osdi()]

    def column(self, j: int, node: str, bias: float = 0.0) -> str:
        """Neuron j on crossbar column node ``node``; spikes appear as v(spk<j>).

        With ``input_mirror`` the column is held at ``bias`` (V) and its current (``i(vsense<j>)``)
        is copied into the membrane ``mem<j>``; otherwise ``node`` is the membrane.
        """
        if not self.input_mirror:
            return f"Xn{j} {node} spk{j} ms_lif\n"
        sense = f"Vsense{j} {node} 0 DC {spice_number(bias)}\n"
        return sense + f"Fmir{j} 0 mem{j} Vsense{j} {spice_number(self.mirror_gain)}\nXn{j} mem{j} spk{j} ms_lif\n"

    @staticmethod
    def _check_run(i_in, t_stop, step=None):
        if np.isscalar(i_in) and not math.isfinite(i_in):
            raise ValueError(f"input current i_in must be finite, got {i_in!r}")
        for name, value in (("t_stop", t_stop), ("step", step)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a finite time > 0 s, got {value!r}")

    def netlist(
        self,
        i_in: float,
        t_stop: float,
        step: float,
        options: str = ".options reltol=1e-6 abstol=1e-15 vntol=1e-9 chgtol=1e-18 trtol=1",
        face: Face | str = Face.BEHAVIOURAL,
    ) -> str:
        """Stand-alone neuron driven by a constant current ``i_in`` (A); time step ``step`` (s)."""
        self._check_run(i_in, t_stop, step)
        return (
            f"* memspice LIF neuron, I_in = {spice_number(i_in)} A\n{self.library(face)}"
            f"Iin 0 mem0 DC {spice_number(i_in)}\nXn0 mem0 spk0 ms_lif\n{options}\n"
            f".tran {spice_number(step)} {spice_number(t_stop)} 0 {spice_number(step)} uic\n.end\n"
        )

    # -- Python face -------------------------------------------------------------------------
    @cached_property
    def _ts_fns(self):
        # the switch's current and state equations compiled once (CompactModel.rate re-derives them per call)
        ts, values = self.ts, self.ts.param_values
        cur = to_numpy(ts.current_expr(), ts.param_names)
        rate = to_numpy(ts.full_rate_expr(), ts.param_names)
        return (lambda x: cur(1.0, x, *values)), (lambda x, v: rate(v, x, *values))

    def _rhs(self, current):
        r_load, c = self.r_load, self.c_mem
        conductance, ts_rate = self._ts_fns
        g_reset = 1.0 / self.r_reset if self.reset_to_rest else 0.0
        tau_r, w, level, t_clamp = self._tau_r, self._spike_width, self._trigger, self._t_clamp

        def rhs(t, y):
            v, x, r, a = y
            g = float(conductance(x))
            i = (v - a) * g / (1 + g * r_load)
            v_spk = i * r_load
            s = _sigmoid((v_spk - level * (1 - 0.5 * r)) / w)
            on = _sigmoid((r - _CLAMP_LEVEL) / _CLAMP_WIDTH)
            clamp = g_reset * on
            return [
                (current(t) - v / self.r_leak - i - v * clamp) / c,
                float(ts_rate(x, v - a - v_spk)),
                s * (1 - r) / _TAU_ARM - (1 - s) * r / tau_r,
                -a / self.tau_adapt + self.adapt_step * on / t_clamp,
            ]

        return rhs

    def simulate(self, i_in, t_stop: float, n_points: int = 20001, rtol: float = 1e-8) -> Waveforms:
        """Reference ODE; ``i_in`` is a constant (A) or a callable of t.

        Returns waveforms v_mem, x (switch state), v_spk (the spike output ``v(spk)``), r (spike
        timer) and a (threshold rise, V).
        """
        self._check_run(i_in, t_stop)
        current = (lambda t: i_in) if np.isscalar(i_in) else i_in
        p = self.ts.params
        t_eval = np.linspace(0, t_stop, n_points)
        # LSODA switches to its stiff (BDF) branch through the spikes: agrees with Radau within 1 ns, 6x faster
        sol = solve_ivp(
            self._rhs(current),
            (0, t_stop),
            [0.0, p.x0, 0.0, 0.0],
            method="LSODA",
            t_eval=t_eval,
            rtol=rtol,
            atol=1e-9,
            max_step=min(10 * p.tau_on, t_stop / 1000),
        )
        if sol.status != 0:
            raise RuntimeError(f"LIF reference failed: {sol.message}")
        v, x, r, a = sol.y
        g = self._ts_fns[0](x)
        i = (v - a) * g / (1 + g * self.r_load)
        v_spk = i * self.r_load + 2 * self.spike_level * _sigmoid((r - _CLAMP_LEVEL) / _CLAMP_WIDTH)
        return Waveforms(sol.t, {"v_mem": v, "x": x, "v_spk": v_spk, "r": r, "a": a}, title="LIF neuron (reference)")

    def spikes(self, i_in, t_stop: float, n_points: int | None = None) -> np.ndarray:
        """Spike times (s) of the reference ODE under ``i_in`` (A) over ``t_stop`` (s)."""
        n = n_points or max(2001, int(t_stop / 2e-9) + 1)  # >= one sample per 2 ns: spikes last ~100 ns
        w = self.simulate(i_in, t_stop, n)
        return spike_times(w.time, w["v_spk"], self.spike_level)

    # -- behavioural LIF and f-I curve ---------------------------------------------------------
    def behavioural(self, v_th: float | None = None, t_dead: float | None = None) -> BehaviouralLIF:
        """The review's LIF with this circuit's R_m, tau_m and options.

        Without ``v_th`` / ``t_dead`` the threshold is the switch's V_th and the dead time the
        refractory period; :meth:`calibrate` measures both on the circuit.
        """
        return BehaviouralLIF(
            r_m=self.r_leak,
            tau_m=self.tau_m,
            v_th=self.ts.params.v_th if v_th is None else v_th,
            t_dead=self.refractory if t_dead is None else t_dead,
            adapt_step=self.adapt_step,
            tau_adapt=self.tau_adapt,
        )

    def calibrate(self, i_in: float | None = None) -> BehaviouralLIF:
        """Behavioural LIF whose threshold and dead time are fitted to the circuit's spikes.

        One reference run at ``i_in`` (A; default 3 I_th): the first spike time gives the
        threshold (``U(t1) = I R_m (1 - exp(-t1/tau_m))``), the steady interval minus the
        time to threshold gives the dead time (spike width plus refractory period).
        """
        i_in = 3 * self.threshold_current if i_in is None else float(i_in)
        ideal = self.behavioural()
        period = ideal.time_to_threshold(i_in) + ideal.t_dead
        if math.isinf(period):
            raise ValueError(f"i_in must exceed the threshold current {self.threshold_current!r} A, got {i_in!r}")
        t = self.spikes(i_in, 1.2 * period + 2 * period + 1e-6)
        if t.size < 3:
            raise RuntimeError(f"calibration run at {i_in!r} A gave {t.size} spikes; need 3")
        u_inf = i_in * self.r_leak
        v_th = u_inf * (1 - math.exp(-t[0] / self.tau_m))
        t_dead = float(np.median(np.diff(t))) - self.tau_m * math.log(u_inf / (u_inf - v_th))
        return self.behavioural(v_th=v_th, t_dead=max(t_dead, 0.0))

    def steady_rate(self, i_in: float, intervals: int = 3) -> float:
        """Firing rate (Hz) from steady inter-spike intervals under a constant input (A).

        The run lasts long enough for the first spike plus ``intervals`` periods as predicted by
        the behavioural LIF (5 tau_m when it predicts none); the rate is 1 / median of
        the intervals after the first spike (the first one starts from rest).  0 when the run
        holds fewer than two spikes.  Independent of any fixed window, unlike count / duration.
        """
        ideal = self.behavioural()
        t1 = ideal.time_to_threshold(i_in)
        t_stop = 5 * self.tau_m if math.isinf(t1) else 1.3 * (t1 + intervals * (t1 + ideal.t_dead)) + 1e-6
        t = self.spikes(i_in, t_stop)
        if t.size < 2:
            return 0.0
        return float(1.0 / np.median(np.diff(t)))

    def f_i(self, currents) -> np.ndarray:
        """Steady firing rates (Hz) for constant inputs ``currents`` (A): the f-I curve."""
        return np.array([self.steady_rate(float(i)) for i in np.atleast_1d(currents)])
