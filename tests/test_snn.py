"""Seed 004 spiking network: device STDP, crossbar read path, circuit check, seeded learning."""

import dataclasses

import numpy as np
import pytest

from memspice.circuits.lif import BehaviouralLIF, LIFNeuron
from memspice.models import TiOx
from memspice.solver import solve_dc
from memspice.systems.snn import NetworkConfig, SpikingNetwork, StdpPulses, SynapseDevice, latency_code, rate_code
from memspice.systems.snn.reproduce import digits, snn

from .conftest import needs_ngspice

# the calibrated neuron of LIFNeuron(input_mirror=True).calibrate(), fixed here so unit tests skip the ODE run
LIF = BehaviouralLIF(r_m=1e5, tau_m=1e-5, v_th=0.772, t_dead=2.91e-6, adapt_step=5e-3, tau_adapt=50e-3)


def test_stdp_potentiates_pre_before_post_and_depresses_otherwise():
    syn, pulses = SynapseDevice(), StdpPulses()
    dx = pulses.curve(syn, np.array([0.0, 0.5e-6, -1e-6, 20e-6, np.inf]))
    assert dx[0] > dx[1] > 0.005  # pre just before post: potentiation, weaker as dt grows
    assert dx[2] < -0.005 and dx[3] < -0.005  # pre after post, or long before: depression
    assert dx[4] == pytest.approx(dx[2])
    # the change is the device's: soft bounds of its window, nothing above its thresholds
    near_top = pulses.curve(syn, np.array([0.0]), x0=0.98)[0]
    assert 0 <= near_top < 0.5 * dx[0]
    stiff = SynapseDevice(TiOx(r_on=50e3, v_read=0.5, v_set=1.5, v_reset=1.5))
    assert np.all(np.abs(pulses.curve(stiff, np.array([0.0, np.inf]))) < 1e-4)


def test_every_pulse_alone_is_below_the_device_thresholds():
    syn = SynapseDevice()
    StdpPulses().check(syn)
    with pytest.raises(ValueError, match="post_depress"):
        StdpPulses(post_depress=1.1).check(syn)
    with pytest.raises(ValueError, match="v_set"):
        StdpPulses(pre_peak=0.1).check(syn)
    # a lone post pulse (pre idle at 0 V) or a lone pre level barely moves a cell
    x = np.full(3, 0.5)
    lone = dataclasses.replace(StdpPulses(), pre_idle=0.0, pre_peak=0.0)
    assert np.all(np.abs(lone.program(syn, x, np.inf) - x) < 1e-4)


def test_column_currents_are_the_solvers_reads():
    net = SpikingNetwork(NetworkConfig(n_neurons=6, r_wire=5.0), seed=1, lif=LIF)
    spikes = np.random.default_rng(2).random((5, 64)) < 0.4
    sol = solve_dc(net.crossbar(), spikes * net.config.synapse.v_read)
    np.testing.assert_allclose(net.column_currents(spikes), sol.output_currents, rtol=1e-9)
    ideal = spikes * net.config.synapse.v_read @ net.conductances
    assert np.all(net.column_currents(spikes) < ideal)  # the wires' IR drop is in the read


def test_encodings():
    img = np.array([[0.0, 0.5, 1.0]])
    rate = rate_code(np.repeat(img, 2000, 0), 10, 0.4, np.random.default_rng(0)).mean(axis=(0, 1))
    np.testing.assert_allclose(rate, [0.0, 0.2, 0.4], atol=0.01)
    lat = latency_code(img, 11)[0]
    assert lat[:, 0].sum() == 0 and np.argmax(lat[:, 2]) == 0 and np.argmax(lat[:, 1]) == 5
    with pytest.raises(ValueError, match="images"):
        rate_code(np.array([[2.0]]), 5, 0.5, np.random.default_rng(0))


def test_lateral_inhibition_makes_one_winner_per_spike_time():
    x = digits(0)[0][:20]
    on = SpikingNetwork(NetworkConfig(n_neurons=10), seed=3, lif=LIF)
    off = SpikingNetwork(NetworkConfig(n_neurons=10, inhibition=False), seed=3, lif=LIF)
    s = on.encode(x)
    a, b = on.present(s), off.present(s)
    assert a.counts.sum() < 0.5 * b.counts.sum()
    times = {}
    for img, _, t in a.spikes:  # no two neurons of one image fire within the dead time
        times.setdefault(img, []).append(t)
    assert all(np.min(np.diff(sorted(t))) >= LIF.t_dead * 0.999 for t in times.values() if len(t) > 1)


def test_training_is_seeded_and_learns_the_digits():
    res = snn(quick=True, seed=0)
    h = res.headline
    assert h["accuracy"] > 0.4 and h["neurons"] == 20 and h["train_images"] == 200 and h["seconds"] > 0
    x = digits(0)[0][:40]
    nets = []
    for _ in range(2):
        net = SpikingNetwork(NetworkConfig(n_neurons=8), seed=5, lif=LIF)
        net.train(x)
        nets.append(net)
    np.testing.assert_array_equal(nets[0].state, nets[1].state)
    assert not np.allclose(nets[0].state, SpikingNetwork(NetworkConfig(n_neurons=8), seed=5, lif=LIF).state)


def test_bad_configuration_is_named():
    with pytest.raises(ValueError, match="n_neurons"):
        NetworkConfig(n_neurons=0)
    with pytest.raises(ValueError, match="pre_peak"):
        NetworkConfig(pulses=StdpPulses(pre_peak=1.2))
    with pytest.raises(ValueError, match="B = 1"):
        SpikingNetwork(NetworkConfig(n_neurons=2), lif=LIF).present(np.zeros((2, 5, 64), bool), learn=True)


@needs_ngspice
def test_ngspice_crossbar_and_neurons_match_the_fast_path():
    from memspice.systems.snn import spice_check

    net = SpikingNetwork(NetworkConfig(n_neurons=3, inhibition=False, neuron=LIFNeuron(input_mirror=True)), seed=0)
    res = spice_check.compare(net, digits(0)[0][0], steps=40)
    assert res["counts_spice"].min() >= 2
    assert np.max(np.abs(res["counts_spice"] - res["counts_fast"])) <= 1
