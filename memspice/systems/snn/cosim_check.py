"""Circuit check of the spiking layer at full size, by co-simulation: ngspice neurons, memspice synapse array.

The fast path (:meth:`SpikingNetwork.present`) replaces the synapse crossbar by its transfer matrix and the
threshold-switch neurons by calibrated behavioural LIFs.  This check runs the whole layer as a circuit: the
synapse array (``n_inputs x n_neurons`` 1R cells with wire resistance) as a crossbar marked for memspice, its
columns at virtual ground mirrored into threshold-switch LIF subcircuits
(:class:`memspice.circuits.lif.LIFNeuron`, the full circuit) in ngspice, and **lateral inhibition as a circuit**:
a shared inhibition line ``inh`` that rises whenever any neuron's reset clamp is on and clamps every membrane
of the layer to rest through the same clamp resistance (the winner's reset drives the others', as the fast
path's inhibition says).  Learning and the adaptive threshold are off in both (the check is about the read
path, the neurons and the inhibition).  Monolithic ngspice runs the same netlist with
:func:`memspice.cosim.monolithic_netlist`.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np

from ...circuits.spikes import spike_times
from ...core.units import spice_number
from .network import SpikingNetwork

EDGE = 2e-9  # s; PWL rise/fall time centred on the step boundary (as the ngspice check, assumed)
#: ngspice tolerances of the check (those of memspice's LIF neuron netlists: its spikes need them)
OPTIONS = ".options reltol=1e-6 abstol=1e-15 vntol=1e-9 chgtol=1e-18 trtol=1"
_CLAMP = "(0.5*(1+tanh(0.5*(v(xn{j}.r)-0.5)/0.002)))"  # the ms_lif reset clamp c(r), read from outside


def _pwl(levels, dt: float) -> str:
    pts = [(0.0, levels[0])]
    for k in range(1, len(levels)):
        if levels[k] != levels[k - 1]:
            pts += [(k * dt - EDGE / 2, levels[k - 1]), (k * dt + EDGE / 2, levels[k])]
    pts.append((len(levels) * dt, levels[-1]))
    return "PWL(" + " ".join(f"{spice_number(t)} {spice_number(v)}" for t, v in pts) + ")"


def write_netlist(net: SpikingNetwork, spikes, folder, step: float = 5e-9) -> Path:
    """Netlist (and ``synapses.npy``) of the layer driven by bool spike trains (steps, m); returns its path."""
    cfg = net.config
    s = np.asarray(spikes, bool)
    if s.ndim != 2 or s.shape[1] != cfg.n_inputs:
        raise ValueError(f"spikes must be (steps, {cfg.n_inputs}) bool, got shape {s.shape}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "synapses.npy", net.conductances)
    neuron = dataclasses.replace(cfg.neuron, input_mirror=True, adapt_step=0.0)
    m, n = cfg.n_inputs, cfg.n_neurons
    t_stop = s.shape[0] * cfg.dt
    lines = [f"* spiking layer {m} x {n}: synapse crossbar (memspice) + threshold-switch LIF neurons (ngspice)"]
    lines.append(neuron.library().rstrip())
    lines.append("* input spike trains: read pulses on the word lines")
    lines += [f"Vin{i} in{i} 0 {_pwl(s[:, i] * cfg.synapse.v_read, cfg.dt)}" for i in range(m)]
    lines.append("* neurons: columns at virtual ground, currents mirrored into the membranes")
    for j in range(n):
        lines.append(neuron.column(j, f"s{j}", 0.0).rstrip())
    if cfg.inhibition:
        r = spice_number(neuron.r_reset)
        lines.append("* lateral inhibition: any neuron's reset clamp clamps every membrane at rest")
        lines.append("Binh inh 0 V=min(1, " + " + ".join(_CLAMP.format(j=j) for j in range(n)) + ")")
        lines += [f"Binh{j} mem{j} 0 I=V(mem{j})/{r}*V(inh)" for j in range(n)]
    ports = [f"in{i}" for i in range(m)] + [f"s{j}" for j in range(n)]
    lines.append("Xsyn " + " ".join(ports[:16]))
    lines += ["+ " + " ".join(ports[q : q + 16]) for q in range(16, len(ports), 16)]
    r_wire = spice_number(cfg.r_wire)
    lines.append(f"+ memspice_crossbar weights=synapses.npy cell=1R r_word={r_wire} r_bit={r_wire}")
    lines += [OPTIONS, f".tran {spice_number(step)} {spice_number(t_stop)} 0 {spice_number(step)} uic", ".end"]
    path = folder / "layer.cir"
    path.write_text("\n".join(lines) + "\n")
    return path


def circuit_check(
    net: SpikingNetwork,
    image,
    steps: int | None = None,
    step: float = 5e-9,
    timeout: float = 3600.0,
    monolithic: bool = False,
):
    """Spikes of every neuron from the co-simulated circuit and from the fast path, for one image in [0, 1].

    Returns a dict: ``counts_circuit``, ``counts_fast`` (n,), ``times_circuit``, ``times_fast`` (lists of
    spike times per neuron, s), ``winner_circuit``, ``winner_fast`` (neuron that fired first, -1 if none),
    ``spikes`` (the input trains) and ``statistics`` (the co-simulation's counters).  The network's adaptive
    threshold state is ignored (the circuit has none); learning is off.  ``monolithic=True`` also runs the
    same netlist in ngspice alone (the array expanded) and adds ``counts_spice``, ``times_spice``: the
    check of the co-simulation itself.
    """
    from ...cosim import cosimulate, monolithic_netlist, parse

    cfg = net.config
    spikes = net.encode(np.atleast_2d(image), steps)[0]
    saved = net.adapt.copy()
    net.adapt[:] = 0.0
    try:
        fast = net.present(spikes[None])
    finally:
        net.adapt[:] = saved
    level = cfg.neuron.spike_level
    reference = None
    with tempfile.TemporaryDirectory(prefix="memspice-snn-cosim-") as tmp:
        path = write_netlist(net, spikes, tmp, step)
        res = cosimulate(path, timeout=timeout, progress=False)
        if monolithic:
            from ...spice import run

            design = parse(path.read_text(), path.parent)
            saves = [f"v(spk{j})" for j in range(cfg.n_neurons)]
            ref = run(monolithic_netlist(design, save=saves), timeout=timeout, progress=False).waveforms
            reference = [spike_times(ref.time, ref[f"v(spk{j})"], level) for j in range(cfg.n_neurons)]
    w = res.waveforms
    t_circuit = [spike_times(w.time, w[f"v(spk{j})"], level) for j in range(cfg.n_neurons)]
    t_fast = [np.array([t for _, j2, t in fast.spikes if j2 == j]) for j in range(cfg.n_neurons)]

    def winner(times):
        first = [t[0] if len(t) else np.inf for t in times]
        return int(np.argmin(first)) if np.isfinite(min(first)) else -1

    extra = {}
    if reference is not None:
        extra = {"counts_spice": np.array([len(t) for t in reference]), "times_spice": reference}
    return extra | {
        "counts_circuit": np.array([len(t) for t in t_circuit]),
        "counts_fast": fast.counts[0],
        "times_circuit": t_circuit,
        "times_fast": t_fast,
        "winner_circuit": winner(t_circuit),
        "winner_fast": winner(t_fast),
        "spikes": spikes,
        "statistics": res.statistics,
    }
