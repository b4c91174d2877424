"""Circuit-level check of the fast path: the same crossbar and neurons as one ngspice netlist.

The synapse array (1R cells, wire segments), word-line read pulses as PWL sources, columns at
virtual ground mirrored into threshold-switch LIF subcircuits (:class:`memspice.circuits.lif.LIFNeuron`,
the full circuit: switch, membrane, leak, reset clamp); ngspice integrates it and the spike count
of every neuron is compared with :meth:`SpikingNetwork.present` on the same spike trains.
Lateral inhibition and learning are off in both (the check is about the read path and the neuron
model).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ...analysis.metrics import spike_times
from ...core.units import spice_number
from ...netlists import crossbar_netlist
from .network import SpikingNetwork

EDGE = 2e-9  # s; PWL rise/fall time, centred on the step boundary so every pulse keeps its area (assumed)


def pwl_sources(spikes, dt: float, v_read: float) -> list[str]:
    """One PWL specification per word line for bool spike trains (steps, m): v_read during spike steps."""
    s = np.asarray(spikes, bool)
    out = []
    for i in range(s.shape[1]):
        level = s[:, i] * v_read
        pts = [(0.0, level[0])]
        for k in range(1, len(level)):
            if level[k] != level[k - 1]:
                pts += [(k * dt - EDGE / 2, level[k - 1]), (k * dt + EDGE / 2, level[k])]
        pts.append((len(level) * dt, level[-1]))
        out.append("PWL(" + " ".join(f"{spice_number(t)} {spice_number(v)}" for t, v in pts) + ")")
    return out


def netlist(net: SpikingNetwork, spikes, step: float = 5e-9) -> str:
    """ngspice transient of ``net``'s crossbar and neurons driven by ``spikes`` (steps, m)."""
    cfg = net.config
    neuron = dataclasses.replace(cfg.neuron, input_mirror=True, adapt_step=0.0)
    t_stop = np.asarray(spikes).shape[0] * cfg.dt
    options = ".options reltol=1e-6 abstol=1e-15 vntol=1e-9 chgtol=1e-18 trtol=1"
    return crossbar_netlist(
        net.crossbar(),
        pwl_sources(spikes, cfg.dt, cfg.synapse.v_read),
        transient=False,
        analysis=f".tran {spice_number(step)} {spice_number(t_stop)} 0 {spice_number(step)} uic",
        title="memspice SNN check: synapse crossbar + threshold-switch LIF neurons",
        sense=neuron,
        options=options,
    )


def compare(net: SpikingNetwork, image, steps: int | None = None, step: float = 5e-9) -> dict:
    """Spike counts per neuron from ngspice and from the fast path for one image (intensities in [0, 1]).

    ``net`` must have lateral inhibition off and no threshold adaptation (adaptive state zero), so
    both sides see the same circuit.  Returns counts and spike times of both, and the trains.
    """
    from ...spice import run

    if net.config.inhibition:
        raise ValueError("net.config.inhibition must be False for the circuit check")
    spikes = net.encode(np.atleast_2d(image), steps)[0]
    fast = net.present(spikes[None])
    w = run(netlist(net, spikes, step)).waveforms
    level = net.config.neuron.spike_level
    t_spice = [spike_times(w.time, w[f"v(spk{j})"], level) for j in range(net.config.n_neurons)]
    t_fast = [np.array([t for b, j2, t in fast.spikes if j2 == j]) for j in range(net.config.n_neurons)]
    return {
        "counts_spice": np.array([len(t) for t in t_spice]),
        "counts_fast": fast.counts[0],
        "times_spice": t_spice,
        "times_fast": t_fast,
        "spikes": spikes,
    }
