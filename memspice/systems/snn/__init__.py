"""Seed 004: a spiking network that learns with memristor synapses and threshold-switch neurons.

After the review "Spiking networks with memristors" (Chip 3, 100093, 2024): a
memristor synapse crossbar with wire resistance (read through memspice's
solver) feeds threshold-switch LIF neurons (:class:`memspice.circuits.lif.LIFNeuron`,
a fast vectorised integrator calibrated to the circuit), inputs are rate- or
latency-coded, lateral inhibition makes the layer winner-take-all, and STDP is
the device's own response to overlapping pre- and post-synaptic programming
pulses.  :mod:`.reproduce` trains it on scikit-learn's bundled digits.
"""

from .encoding import latency_code, rate_code
from .network import NetworkConfig, SpikingNetwork
from .stdp import StdpPulses, SynapseDevice

__all__ = ["NetworkConfig", "SpikingNetwork", "StdpPulses", "SynapseDevice", "latency_code", "rate_code"]
