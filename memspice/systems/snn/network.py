"""Memristor-crossbar spiking layer: reads through the solver, calibrated LIF neurons, device STDP.

* Synapses: an m x n 1R crossbar of :class:`~.stdp.SynapseDevice` cells with wire resistance
  ``r_wire`` per segment on word and bit lines.  Columns sit at virtual ground and their currents
  are mirrored into the neurons (``LIFNeuron(input_mirror=True)``).  The read is linear in the
  word-line pulses, so :func:`memspice.solver.solve_dc` on the m unit read vectors gives the
  transfer matrix T (A per read pulse, IR drop included) and the column currents of every time
  step at once are ``spikes @ T`` (superposition, exact for 1R cells).  T comes from the
  transfer-matrix solver (:func:`memspice.solver.transfer.transfer_matrix`, the same exact solve as
  ``solve_dc`` on the unit reads, ~25x faster) after every ``refresh`` images (default 1: current
  at the start of every image); within an image a programmed column is updated with the last
  solve's IR-drop attenuation of each cell, and the error this leaves is measured at every refresh
  (``staleness``: max |T_stale - T| / max |T|).
* Device non-idealities (:class:`~.stdp.SynapseVariation`): device-to-device parameters per cell,
  cycle-to-cycle noise on every programming pulse, read noise on every cell current of every read.
* Neurons: the review's LIF (``I R_m = U + tau_m dU/dt``, fire at threshold, reset to rest) with the
  threshold and dead time calibrated on the threshold-switch circuit
  (:meth:`memspice.circuits.lif.LIFNeuron.calibrate`), integrated exactly for the piecewise
  constant input of each step and vectorised over neurons (and over images when not learning);
  spike times are located inside the step.  Adaptive threshold (homeostasis): each spike adds
  ``neuron.adapt_step`` to the threshold, which decays with ``neuron.tau_adapt``.
* Lateral inhibition (winner-take-all): the first neuron to fire in a step clamps every membrane
  of the layer at rest for the dead time (its own reset clamp drives the others'), so all restart
  together and the best-matching neuron wins again.
* Learning: each output spike applies :class:`~.stdp.StdpPulses` to its column.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from ...circuits.crossbar import Crossbar
from ...circuits.lif import BehaviouralLIF, LIFNeuron
from ...solver.transfer import transfer_matrix
from .encoding import latency_code, rate_code
from .stdp import StdpPulses, SynapseDevice, SynapseVariation


class Coding(Enum):
    """Input spike code."""

    RATE = "rate"
    LATENCY = "latency"


def _network_neuron() -> LIFNeuron:
    # threshold-switch neuron with the mirrored column input; adaptive threshold: assumed 5 mV per
    # spike (0.6 % of V_th) decaying over 50 ms (hundreds of presentations): slow homeostasis
    return LIFNeuron(input_mirror=True, adapt_step=5e-3, tau_adapt=50e-3)


@dataclass(frozen=True)
class NetworkConfig:
    """Everything that defines the network (SI units).  Defaults are assumed, chosen for 8x8 digits; for
    other data :func:`.rule.sized` derives ``n_inputs``, ``n_neurons`` and the neuron's input-mirror gain
    from the training set by one stated rule.

    ``dt``: simulation step = read-pulse width (s); ``steps``: steps per training presentation;
    ``eval_steps``: steps per presentation when labelling and testing (longer: more spikes, a
    less noisy read-out); ``p_max``:
    spike probability per step of a full-intensity input (rate code); ``t_rest``: pause between
    presentations (s; membranes return to rest); ``x_init``: range of the random initial states;
    ``refresh``: images between exact solver refreshes of the transfer matrix (1: every image);
    ``variation``: the synapses' device-to-device, cycle-to-cycle and read variation.
    """

    n_inputs: int = 64
    n_neurons: int = 150
    dt: float = 0.5e-6
    steps: int = 100
    eval_steps: int = 400
    p_max: float = 0.6
    coding: Coding = Coding.RATE
    r_wire: float = 1.0
    refresh: int = 1
    t_rest: float = 50e-6
    x_init: tuple[float, float] = (0.4, 0.8)
    inhibition: bool = True
    neuron: LIFNeuron = field(default_factory=_network_neuron)
    synapse: SynapseDevice = field(default_factory=SynapseDevice)
    pulses: StdpPulses = field(default_factory=StdpPulses)
    variation: SynapseVariation = field(default_factory=SynapseVariation)

    def __post_init__(self):
        for name in ("n_inputs", "n_neurons", "steps", "eval_steps", "refresh"):
            v = getattr(self, name)
            if not (isinstance(v, (int, np.integer)) and v > 0):
                raise ValueError(f"NetworkConfig.{name} must be a positive integer, got {v!r}")
        for name in ("dt", "p_max", "t_rest", "r_wire"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0) or (name != "r_wire" and v == 0):
                raise ValueError(f"NetworkConfig.{name} must be a finite number > 0 (r_wire >= 0), got {v!r}")
        if not isinstance(self.coding, Coding):
            raise ValueError(f"NetworkConfig.coding must be a Coding, got {self.coding!r}")
        lo, hi = self.x_init
        if not 0 <= lo <= hi <= 1:
            raise ValueError(f"NetworkConfig.x_init must satisfy 0 <= lo <= hi <= 1, got {self.x_init!r}")
        self.pulses.check(self.synapse)
        if not isinstance(self.variation, SynapseVariation):
            raise ValueError(f"NetworkConfig.variation must be a SynapseVariation, got {self.variation!r}")

    @property
    def window(self) -> float:
        """Presentation time (s)."""
        return self.steps * self.dt


@dataclass
class Presentation:
    """Result of presenting a batch of B images.

    ``counts`` (B, n) spikes per neuron; ``score`` (B, n) spikes plus the peak membrane as a fraction of
    the threshold (ranks neurons that stayed silent); ``spikes``: (image, neuron, time s) of every spike.
    """

    counts: np.ndarray
    score: np.ndarray
    spikes: list


class SpikingNetwork:
    """One winner-take-all layer of threshold-switch neurons on a memristor crossbar."""

    def __init__(self, config: NetworkConfig | None = None, seed: int = 0, lif: BehaviouralLIF | None = None):
        self.config = cfg = config or NetworkConfig()
        self.rng = np.random.default_rng(seed)
        self.state = self.rng.uniform(*cfg.x_init, (cfg.n_inputs, cfg.n_neurons))
        # device-to-device parameters from their own stream, so an ideal network's random draws do not change
        self.cell_params = cfg.variation.draw(cfg.synapse, self.state.shape, np.random.default_rng([seed, 1]))
        self._noise_rng = np.random.default_rng([seed, 2])  # cycle-to-cycle and read noise
        self.staleness: list[float] = []
        if lif is None:
            base = dataclasses.replace(cfg.neuron, adapt_step=0.0).calibrate()
            lif = dataclasses.replace(base, adapt_step=cfg.neuron.adapt_step, tau_adapt=cfg.neuron.tau_adapt)
        self.lif = lif
        self.adapt = np.zeros(cfg.n_neurons)
        self.solves = 0
        self._since_refresh = 0
        self.refresh()

    # -- synapse crossbar ------------------------------------------------------------------------
    @property
    def conductances(self) -> np.ndarray:
        """Cell read conductances (S), m x n (each cell's own parameters under device-to-device variation)."""
        return self.config.synapse.conductance(self.state, self.cell_params)

    def _column_params(self, j: int) -> dict | None:
        return None if self.cell_params is None else {k: v[:, j] for k, v in self.cell_params.items()}

    def crossbar(self) -> Crossbar:
        """The synapse array as a memspice 1R crossbar with wire resistance."""
        r = self.config.r_wire
        return Crossbar(self.conductances, r_word=r, r_bit=r)

    def refresh(self) -> None:
        """Exact transfer matrix T (A per read pulse on each input) from the transfer-matrix solver; the error of
        the transfer it replaces is appended to ``staleness``."""
        v = self.config.synapse.v_read
        g = self.conductances
        exact = transfer_matrix(self.crossbar()) * v  # (m, n): row i = column currents for a pulse on input i
        stale: np.ndarray | None = getattr(self, "transfer", None)
        if stale is not None:
            self.staleness.append(float(np.max(np.abs(stale - exact)) / np.max(np.abs(exact))))
        self.transfer: np.ndarray = exact
        self._atten = self.transfer / (g * v)
        self.solves += 1
        self._since_refresh = 0

    def column_currents(self, spikes) -> np.ndarray:
        """Column currents (A) for word-line spikes (..., m) bool: superposition of the solver's reads."""
        # einsum, not @: a multithreaded BLAS call costs more than this small product on a busy machine
        return np.einsum("...m,mn->...n", np.asarray(spikes, float), self.transfer)

    # -- encoding --------------------------------------------------------------------------------
    def encode(self, images, steps: int | None = None) -> np.ndarray:
        """Spike trains (B, steps, m) for intensities in [0, 1] (B, m); ``steps`` defaults to the training window."""
        cfg = self.config
        steps = cfg.steps if steps is None else steps
        if cfg.coding is Coding.RATE:
            return rate_code(images, steps, cfg.p_max, self.rng)
        return latency_code(images, steps, repeat=max(1, int(round(1 / cfg.p_max))))

    # -- dynamics --------------------------------------------------------------------------------
    def present(self, spikes, learn: bool = False) -> Presentation:
        """Present spike trains (B, steps, m); ``learn`` (B must be 1) applies STDP pulses at each spike.

        Membranes start at rest; the adaptive threshold carries over between presentations (it
        decays over the presentation and the rest after it) and only grows while learning.
        """
        cfg, lif = self.config, self.lif
        s = np.asarray(spikes, bool)
        if s.ndim != 3 or s.shape[2] != cfg.n_inputs:
            raise ValueError(f"spikes must be (B, steps, {cfg.n_inputs}) bool, got shape {s.shape}")
        if learn and s.shape[0] != 1:
            raise ValueError("learning presents one image at a time (B = 1)")
        b, n, dt, tau = s.shape[0], cfg.n_neurons, cfg.dt, lif.tau_m
        current = self.column_currents(s)  # (B, steps, n)
        sigma = cfg.variation.read_noise
        z = self._noise_rng.standard_normal(current.shape) * sigma if sigma > 0 else None
        if z is not None:  # each spiking cell's current times (1 + sigma z): column noise sqrt(sum I_i^2)
            current += z * np.sqrt(np.einsum("bkm,mn->bkn", s.astype(float), self.transfer**2))
        u = np.zeros((b, n))
        u_peak = np.zeros((b, n))
        release = np.zeros((b, n))
        counts = np.zeros((b, n), int)
        last_pre = np.full((b, cfg.n_inputs), -np.inf)
        adapt = np.broadcast_to(self.adapt, (b, n)).copy()
        step_decay = math.exp(-dt / lif.tau_adapt)
        r_in = lif.r_m * cfg.neuron.mirror_gain  # membrane volts per column ampere (the mirror's gain)
        events: list[tuple[int, int, float]] = []
        rows = np.arange(b)
        for k in range(s.shape[1]):
            t0, t1 = k * dt, (k + 1) * dt
            last_pre[s[:, k]] = t0
            u_inf = current[:, k] * r_in
            theta = lif.v_th + adapt
            start = np.maximum(release, t0)
            active = start < t1
            u_end = np.where(active, u_inf + (u - u_inf) * np.exp(-(t1 - start) / tau), u)
            cross = active & (u_end >= theta)
            if cross.any():
                with np.errstate(divide="ignore", invalid="ignore"):
                    t_cross = start + tau * np.log((u_inf - u) / (u_inf - theta))
                t_cross = np.where(cross, np.clip(t_cross, start, t1), np.inf)
                if cfg.inhibition:
                    first = np.argmin(t_cross, axis=1)
                    fired = np.zeros_like(cross)
                    fired[rows, first] = cross[rows, first]
                    t_win = np.where(fired.any(axis=1), t_cross[rows, first], np.inf)
                    # the others restart from rest at the winner's spike (lateral inhibition)
                    # the others are clamped at rest for the same dead time (lateral inhibition)
                    losers = ~fired & np.isfinite(t_win)[:, None]
                    u_end = np.where(losers, 0.0, u_end)
                    release = np.where(losers, np.maximum(release, t_win[:, None] + lif.t_dead), release)
                else:
                    fired = cross
                bi, ni = np.nonzero(fired)
                tf = t_cross[bi, ni]
                counts[bi, ni] += 1
                release[bi, ni] = tf + lif.t_dead
                u_end[bi, ni] = 0.0
                adapt[bi, ni] += lif.adapt_step if learn else 0.0
                events.extend(zip(bi.tolist(), ni.tolist(), tf.tolist()))
                if learn:
                    for j, t_post in zip(ni, tf):
                        noise = None if z is None else z[0, k + 1 :]
                        self._learn(j, t_post - last_pre[0], s[0, k + 1 :], current[0, k + 1 :], noise)
            u_peak = np.maximum(u_peak, np.where(active, np.maximum(u, u_end), u) / theta)
            u = u_end
            if learn:
                adapt *= step_decay
        if learn:
            self.adapt = adapt[0] * math.exp(-cfg.t_rest / lif.tau_adapt)
            self._since_refresh += 1
            if self._since_refresh >= cfg.refresh:
                self.refresh()
        return Presentation(counts, counts + np.minimum(u_peak, 1.0 - 1e-9), events)

    def _learn(self, j: int, dt_pre, future_spikes, future_current, noise=None) -> None:
        """Programming pulse on column j (cycle-to-cycle noise on its state change); the column's read path
        follows the new states with the last solve's IR-drop attenuation."""
        cfg = self.config
        params = self._column_params(j)
        old = self.state[:, j]
        new = cfg.pulses.program(cfg.synapse, old, dt_pre, params)
        if cfg.variation.c2c > 0:
            step = (new - old) * (1 + cfg.variation.c2c * self._noise_rng.standard_normal(old.shape))
            new = np.clip(old + step, 0.0, 1.0)
        self.state[:, j] = new
        g = cfg.synapse.conductance(new, params)
        self.transfer[:, j] = self._atten[:, j] * g * cfg.synapse.v_read
        if future_spikes.shape[0]:
            f = future_spikes.astype(float)
            future_current[:, j] = f @ self.transfer[:, j]
            if noise is not None:
                future_current[:, j] += noise[:, j] * np.sqrt(f @ self.transfer[:, j] ** 2)

    # -- training and evaluation -------------------------------------------------------------------
    def train(self, images, epochs: int = 1) -> None:
        """Unsupervised STDP training on intensities (N, m) in [0, 1], one image at a time."""
        x = np.asarray(images, float)
        for _ in range(epochs):
            for idx in self.rng.permutation(len(x)):
                self.present(self.encode(x[idx : idx + 1]), learn=True)
        self.refresh()

    def respond(self, images, batch: int = 256) -> np.ndarray:
        """Scores (N, n) without learning (spike counts plus sub-threshold peak fraction)."""
        x = np.asarray(images, float)
        steps = self.config.eval_steps
        out = [self.present(self.encode(x[k : k + batch], steps)).score for k in range(0, len(x), batch)]
        return np.vstack(out)

    def label(self, images, classes) -> np.ndarray:
        """Label each neuron by the class it responds to most (mean score per class)."""
        y = np.asarray(classes)
        r = self.respond(images)
        labels = np.unique(y)
        mean = np.stack([r[y == c].mean(axis=0) for c in labels])  # (classes, n)
        self.labels = labels[np.argmax(mean, axis=0)]
        return self.labels

    def predict(self, images) -> np.ndarray:
        """Class of the most responsive neuron of each image (after :meth:`label`)."""
        return self.labels[np.argmax(self.respond(images), axis=1)]
