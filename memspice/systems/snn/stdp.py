"""STDP as programming pulses whose effect is the synapse device's own state equation.

Pulse scheme (in the spirit of the overlapping pre/post waveforms reviewed in "Spiking networks
with memristors", Chip 3, 100093, 2024): every input neuron leaves its word line at a level that
relaxes after its spike, and every firing output neuron applies a two-phase pulse to its bit line.
The cell sees ``v = v_pre - v_post``:

* word line, ``dt`` after the input's last spike:
  ``v_pre(dt) = -pre_idle + (pre_peak + pre_idle) exp(-dt / tau_pre)`` (+pre_peak fresh, -pre_idle long after);
* bit line of the neuron that fired: ``+post_depress`` for ``t_phase``, then ``-post_potentiate``
  for ``t_phase``.

Every level alone stays below the device's SET and RESET thresholds (half-selected cells are not
disturbed); only overlaps cross them: phase 2 with a recent pre spike exceeds v_set (potentiation,
pre before post), phase 1 with an input silent for long exceeds -v_reset (depression: input after
or without the output spike).  The state change is the device's rate equation integrated over
the two phases (classical RK4), so it inherits the device's thresholds, soft bounds (window) and
non-linearity; there is no abstract weight update.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ...models import CompactModel, TiOx
from ...models.symbolic import to_numpy


def _synapse_tiox() -> TiOx:
    # assumed for the network: an interface-type TiOx cell (Jeong et al., Nat. Electron. 8, 168, 2025,
    # which gives no device numbers) scaled so a few read pulses drive a 100 pF / 100 kOhm neuron:
    # 50 kOhm ON at a 0.5 V read, on/off 10, SET/RESET thresholds 1.0 V (twice the read voltage)
    return TiOx(r_on=50e3, v_read=0.5, v_set=1.0, v_reset=1.0)


@dataclass(frozen=True)
class SynapseDevice:
    """A memristor synapse: state x in [0, 1], read conductance at the read voltage.

    ``device``: any memspice model with state (default: the TiOx cell above, assumed values).
    The crossbar is read with pulses of the device's ``v_read``; the cell's conductance is its
    chord conductance there, ``G(x) = i(v_read, x) / v_read`` (exact at v_read; the wire drops in
    the network are below 1 % of v_read).
    """

    device: CompactModel = field(default_factory=_synapse_tiox)

    @property
    def v_read(self) -> float:
        """Read pulse amplitude (V)."""
        return float(self.device.params.v_read)

    def _values(self, params) -> list:
        """Parameter values in the model's order, with per-cell arrays from ``params`` (name -> array) where given."""
        if not params:
            return list(self.device.param_values)
        unknown = set(params) - set(self.device.param_names)
        if unknown:
            raise ValueError(f"unknown {type(self.device).__name__} parameter(s): {sorted(unknown)}")
        return [params.get(k, v) for k, v in zip(self.device.param_names, self.device.param_values)]

    @cached_property
    def _current_fn(self):
        return to_numpy(self.device.current_expr(), self.device.param_names)

    def conductance(self, x, params: dict | None = None) -> np.ndarray:
        """Read conductance (S) at state ``x``; ``params``: per-cell parameter arrays (device-to-device variation)."""
        if not params:
            return np.asarray(self.device.current(self.v_read, x), float) / self.v_read
        i = self._current_fn(self.v_read, np.asarray(x, float), *self._values(params))
        return np.asarray(i, float) / self.v_read

    @cached_property
    def _rate_fn(self):
        # the device's full state equation compiled once (CompactModel.rate re-derives it per call)
        return to_numpy(self.device.full_rate_expr(), self.device.param_names)

    def rate(self, x, v, params: dict | None = None) -> np.ndarray:
        """dx/dt (1/s) under cell voltage ``v`` (V): the device's state equation (retention included)."""
        return self._rate_fn(np.asarray(v, float), np.asarray(x, float), *self._values(params))


@dataclass(frozen=True)
class SynapseVariation:
    """Non-idealities of the synapse array (relative sigmas; all 0 = ideal devices).

    ``d2d``: device-to-device, each cell's R_on, SET rate and RESET rate lognormal (drawn once);
    ``c2c``: cycle-to-cycle, each programming pulse's state change times (1 + c2c z), z ~ N(0, 1) per cell and
    pulse; ``read_noise``: each cell's read current per read pulse times (1 + read_noise z).  Reported ranges
    for filamentary and interface devices are a few to tens of per cent (the review "Spiking networks with
    memristors", Chip 3, 100093, 2024, discusses variability without numbers: the values are the user's).
    """

    d2d: float = 0.0
    c2c: float = 0.0
    read_noise: float = 0.0

    def __post_init__(self):
        for name in ("d2d", "c2c", "read_noise"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"SynapseVariation.{name} must be a finite number >= 0, got {v!r}")

    def draw(self, synapse: SynapseDevice, shape, rng) -> dict | None:
        """Per-cell parameter arrays (device-to-device variation), or None without it."""
        if self.d2d == 0:
            return None
        p = synapse.device.params
        names = [k for k in ("r_on", "k_set", "k_reset") if k in synapse.device.param_names]
        return {k: float(getattr(p, k)) * np.exp(self.d2d * rng.standard_normal(shape)) for k in names}


@dataclass(frozen=True)
class StdpPulses:
    """Pre (word-line) and post (bit-line) programming waveforms; amplitudes in V, times in s.

    Defaults are assumed (the review gives no numbers), chosen for a device with 1.0 V SET/RESET
    thresholds: every level alone is <= 0.8 V; a fresh pre spike plus the potentiation phase
    gives +1.3 V, a silent input plus the depression phase -1.3 V: 0.3 V overdrive for 2 us, a few
    per cent of the state range per pulse.
    """

    pre_peak: float = 0.5
    pre_idle: float = 0.5
    tau_pre: float = 4e-6
    post_depress: float = 0.8
    post_potentiate: float = 0.8
    t_phase: float = 2e-6
    substeps: int = 1

    def __post_init__(self):
        for name in ("pre_peak", "pre_idle", "tau_pre", "post_depress", "post_potentiate", "t_phase"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"StdpPulses.{name} must be a finite number >= 0, got {v!r}")
        if not (isinstance(self.substeps, int) and self.substeps > 0):
            raise ValueError(f"StdpPulses.substeps must be a positive integer, got {self.substeps!r}")

    def check(self, synapse: SynapseDevice) -> None:
        """``ValueError`` unless each waveform alone is sub-threshold and the overlaps are not."""
        p = synapse.device.params
        v_set, v_reset = float(p.v_set), float(p.v_reset)
        alone = {
            "pre_peak": self.pre_peak,
            "pre_idle": self.pre_idle,
            "post_depress": self.post_depress,
            "post_potentiate": self.post_potentiate,
        }
        for name, v in alone.items():
            if v >= min(v_set, v_reset):
                raise ValueError(
                    f"StdpPulses.{name} = {v!r} V alone reaches the device threshold "
                    f"(v_set {v_set!r}, v_reset {v_reset!r}): half-selected cells would switch"
                )
        if self.pre_peak + self.post_potentiate <= v_set:
            raise ValueError("pre_peak + post_potentiate must exceed v_set: no potentiation otherwise")
        if self.pre_idle + self.post_depress <= v_reset:
            raise ValueError("pre_idle + post_depress must exceed v_reset: no depression otherwise")

    def pre_level(self, dt_pre) -> np.ndarray:
        """Word-line level (V) ``dt_pre`` s after the input's last spike (inf: no spike yet)."""
        d = np.asarray(dt_pre, float)
        decay = np.exp(-np.clip(d, 0.0, None) / self.tau_pre)
        return -self.pre_idle + (self.pre_peak + self.pre_idle) * decay

    def cell_voltages(self, dt_pre) -> tuple[np.ndarray, np.ndarray]:
        """Cell voltages (V) during the depression and the potentiation phase of the post pulse."""
        v_pre = self.pre_level(dt_pre)
        return v_pre - self.post_depress, v_pre + self.post_potentiate

    def program(self, synapse: SynapseDevice, x, dt_pre, params: dict | None = None) -> np.ndarray:
        """States after one post pulse: the device rate integrated over both phases (RK4).

        ``x``: states of the cells on the firing neuron's column; ``dt_pre``: time (s) from each
        input's last spike to the post spike (inf where the input has not spiked); ``params``: the cells'
        own parameter arrays (device-to-device variation), if any.
        """
        x = np.asarray(x, float).copy()
        h = self.t_phase / self.substeps
        for v in self.cell_voltages(np.broadcast_to(dt_pre, x.shape)):
            for _ in range(self.substeps):
                k1 = synapse.rate(x, v, params)
                k2 = synapse.rate(x + 0.5 * h * k1, v, params)
                k3 = synapse.rate(x + 0.5 * h * k2, v, params)
                k4 = synapse.rate(x + h * k3, v, params)
                x = np.clip(x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), 0.0, 1.0)
        return x

    def curve(self, synapse: SynapseDevice, dts, x0: float = 0.5) -> np.ndarray:
        """STDP window: state change per post pulse vs t_post - t_pre (s) from state ``x0``.

        Negative ``dts`` (input spiking after the output) see the input's idle level at the post
        pulse, like an input that has not spiked.
        """
        d = np.asarray(dts, float)
        d = np.where(d < 0, np.inf, d)
        return self.program(synapse, np.full(d.shape, x0), d) - x0
