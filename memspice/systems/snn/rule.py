"""The rule that sizes the network for a data set: no per-data-set tuning.

The defaults of :class:`~.network.NetworkConfig` were chosen on scikit-learn's 8x8 digits (64 inputs, pixel
intensities / 16, mean intensity 0.305, so the inputs' mean intensities sum to 19.5), 10 classes, 150 neurons.
The review the network follows ("Spiking networks with memristors", Chip 3, 100093, 2024) gives no rule for
other inputs; this module states one (assumed) and derives, from the training set only, every parameter that
depends on the input count or the input scale:

* **Intensities**: features min-max scaled to [0, 1] on the training set (:class:`.data.MinMax`).
* **Drive** (dimensionless): the membrane's expected steady input over its threshold for an average training
  image on the untrained synapses, ``D = g p v_read G(x0) S R_m / V_th``: ``S`` the sum over inputs of the
  mean training intensity, ``p`` the spikes per step of a full-intensity input (``p_max``), ``G(x0)`` the
  synapse conductance at the centre of the initial states, ``R_m`` and ``V_th`` the calibrated neuron's
  (:meth:`memspice.circuits.lif.LIFNeuron.calibrate`), ``g`` the neuron's input-mirror gain.  On the digits
  with ``g = 1`` it is 9.7 (the membrane would settle at ~10 thresholds: the neuron fires within a few
  steps, and the winner-take-all and the adaptive threshold pick the best match).
* **Input-mirror gain** ``g`` (the one parameter that absorbs the input count and scale): chosen so that ``D``
  equals the digits' :data:`REFERENCE_DRIVE`, i.e. ``g = D_ref / D(g=1)``, rounded to a 1/16-octave grid
  (4.4 % steps; assumed: a mirror ratio is built from unit transistors, and a drive within 2.2 % of the
  reference, the spread of the training mean between splits, keeps the calibrated unity mirror, so the
  digits run is unchanged at any split).  Everything else in the neuron (threshold, dead time, adaptation as
  a fraction of the threshold) stays the calibrated circuit's.
* **Neurons**: :data:`NEURONS_PER_CLASS` per class (quick runs :data:`QUICK_NEURONS_PER_CLASS`), at most
  one per training sample.
* Not scaled, by design: the initial synapse states (a range of device states, not of weights), the STDP
  pulses (each cell's update depends only on its own input's last spike, not on the input count: there is
  no weight normalisation to scale) and the spike code (per input).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ...circuits.lif import BehaviouralLIF
from .network import Coding, NetworkConfig

#: the drive D of the digits configuration (64 inputs, summed mean intensity 19.5, unity mirror): 9.7
REFERENCE_DRIVE = 9.7
#: mirror gains are rounded to this fraction of an octave (assumed; see the module)
GAIN_STEP_OCTAVES = 1 / 16
#: neurons per class of a full run (digits: 150 for 10 classes) and of a quick run (digits: 20)
NEURONS_PER_CLASS = 15
QUICK_NEURONS_PER_CLASS = 2


def spikes_per_step(cfg: NetworkConfig) -> float:
    """Spikes per step of a full-intensity input: ``p_max`` (rate code) or one per latency-burst period."""
    if cfg.coding is Coding.RATE:
        return cfg.p_max
    return 1.0 / max(1, int(round(1 / cfg.p_max)))


def drive(cfg: NetworkConfig, lif: BehaviouralLIF, intensities) -> float:
    """The dimensionless drive D of ``cfg`` (its mirror gain included) for training intensities (N, m) in [0, 1]."""
    x = np.asarray(intensities, float)
    total = float(x.mean(axis=0).sum())
    g0 = float(cfg.synapse.conductance(np.array(0.5 * (cfg.x_init[0] + cfg.x_init[1]))))
    current = spikes_per_step(cfg) * cfg.synapse.v_read * g0 * total
    return cfg.neuron.mirror_gain * current * lif.r_m / lif.v_th


def mirror_gain(cfg: NetworkConfig, lif: BehaviouralLIF, intensities) -> float:
    """Input-mirror gain that brings the drive to :data:`REFERENCE_DRIVE` (1/16-octave grid); ``ValueError``
    when the training intensities are all zero (every feature constant: nothing to encode)."""
    unity = dataclasses.replace(cfg, neuron=dataclasses.replace(cfg.neuron, mirror_gain=1.0))
    d = drive(unity, lif, intensities)
    if not d > 0:
        raise ValueError("every training feature is constant (all intensities 0): there is nothing to encode")
    octaves = math.log2(REFERENCE_DRIVE / d)
    return float(2.0 ** (round(octaves / GAIN_STEP_OCTAVES) * GAIN_STEP_OCTAVES))


def n_neurons(n_classes: int, n_train: int, quick: bool = False) -> int:
    """Neurons of the layer: a fixed number per class, at most one per training sample."""
    per = QUICK_NEURONS_PER_CLASS if quick else NEURONS_PER_CLASS
    return max(1, min(per * int(n_classes), int(n_train)))


def sized(cfg: NetworkConfig, lif: BehaviouralLIF, intensities, n_classes: int, quick: bool = False) -> NetworkConfig:
    """``cfg`` with ``n_inputs``, ``n_neurons`` and the neuron's mirror gain derived from the training set."""
    x = np.asarray(intensities, float)
    gain = mirror_gain(cfg, lif, x)
    return dataclasses.replace(
        cfg,
        n_inputs=x.shape[1],
        n_neurons=n_neurons(n_classes, len(x), quick),
        neuron=dataclasses.replace(cfg.neuron, mirror_gain=gain),
    )
