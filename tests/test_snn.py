"""Seed 004 spiking network: device STDP, crossbar read path, circuit check, seeded learning."""

import dataclasses

import numpy as np
import pytest

from memspice.circuits.lif import BehaviouralLIF, LIFNeuron
from memspice.models import TiOx
from memspice.solver import solve_dc
from memspice.systems.snn import NetworkConfig, SpikingNetwork, StdpPulses, SynapseDevice, latency_code, rate_code
from memspice.systems.snn.read_check import read_law_error
from memspice.systems.snn.reproduce import confusion, digits, snn
from memspice.systems.snn.stdp import SynapseVariation

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
    assert h["accuracy"] > h["accuracy_frozen"] + 0.15  # learning, not the random synapses, does the work
    conf = np.asarray(h["confusion"])
    assert conf.shape == (10, 10) and np.allclose(conf.sum(axis=1), 1.0)
    assert h["ir"]["refresh_images"] == 1 and h["ir"]["staleness_max"] < h["ir"]["refresh_200"]["staleness_max"]
    assert set(h["sweeps"]) == {"d2d", "c2c", "read_noise", "r_wire"}
    for rows in h["sweeps"].values():
        assert all(0 <= r["accuracy"] <= 1 and 0 <= r["accuracy_frozen"] <= 1 for r in rows)
    wire = {r["level"]: r for r in h["sweeps"]["r_wire"]}
    assert wire[100.0]["attenuation_mean"] < wire[1.0]["attenuation_mean"] < 1.0  # IR drop grows with the wires
    assert h["read_law_check"][0]["linear_over_nonlinear"] > 1.0  # the linear read overstates a TiOx cell's current
    x = digits(0)[0][:40]
    nets = []
    for _ in range(2):
        net = SpikingNetwork(NetworkConfig(n_neurons=8), seed=5, lif=LIF)
        net.train(x)
        nets.append(net)
    np.testing.assert_array_equal(nets[0].state, nets[1].state)
    assert not np.allclose(nets[0].state, SpikingNetwork(NetworkConfig(n_neurons=8), seed=5, lif=LIF).state)


def test_device_variation_is_seeded_and_reaches_the_reads():
    ideal = SpikingNetwork(NetworkConfig(n_neurons=6), seed=1, lif=LIF)
    cfg = NetworkConfig(n_neurons=6, variation=SynapseVariation(d2d=0.3))
    a, b = SpikingNetwork(cfg, seed=1, lif=LIF), SpikingNetwork(cfg, seed=1, lif=LIF)
    np.testing.assert_array_equal(a.state, ideal.state)  # the same states, other devices
    np.testing.assert_array_equal(a.conductances, b.conductances)
    ratio = a.conductances / ideal.conductances
    assert 0.1 < np.std(np.log(ratio)) < 0.5  # each cell's own R_on
    x = digits(0)[0][:3]
    s = ideal.encode(x)
    noisy = SpikingNetwork(NetworkConfig(n_neurons=6, variation=SynapseVariation(read_noise=0.5)), seed=1, lif=LIF)
    assert not np.array_equal(noisy.present(s).counts, ideal.present(s).counts)
    with pytest.raises(ValueError, match="c2c"):
        SynapseVariation(c2c=-0.1)


def test_cycle_to_cycle_noise_changes_learning_but_not_its_direction():
    x = digits(0)[0][:20]
    runs = {}
    for c2c in (0.0, 0.5):
        net = SpikingNetwork(NetworkConfig(n_neurons=6, variation=SynapseVariation(c2c=c2c)), seed=5, lif=LIF)
        start = net.state.copy()
        net.train(x)
        runs[c2c] = net.state - start
    assert not np.allclose(runs[0.0], runs[0.5])
    assert np.corrcoef(runs[0.0].ravel(), runs[0.5].ravel())[0, 1] > 0.3


def test_ir_transfer_is_current_every_image_and_its_staleness_is_measured():
    net = SpikingNetwork(NetworkConfig(n_neurons=6, r_wire=20.0), seed=2, lif=LIF)
    net.train(digits(0)[0][:10])
    assert net.solves == 12 and len(net.staleness) == 11  # construction + 10 images + the end of training
    assert 0 < max(net.staleness) < 0.5
    fresh = solve_dc(net.crossbar(), np.eye(64) * net.config.synapse.v_read).output_currents
    np.testing.assert_allclose(net.transfer, fresh, rtol=1e-9)


def test_read_law_check_is_exact_without_wires_and_grows_with_them():
    x = digits(0)[0][:2]
    flat = SpikingNetwork(NetworkConfig(n_neurons=4, r_wire=0.0), seed=0, lif=LIF)
    assert read_law_error(flat, flat.encode(x, 5), max_patterns=2)["relative_rms_error"] < 1e-9
    wired = SpikingNetwork(NetworkConfig(n_neurons=4, r_wire=20.0), seed=0, lif=LIF)
    assert read_law_error(wired, wired.encode(x, 5), max_patterns=2)["relative_rms_error"] > 0.01


def test_confusion_rows_are_fractions():
    m = confusion([0, 0, 1, 2], [0, 1, 1, 2], classes=3)
    np.testing.assert_allclose(m, [[0.5, 0.5, 0], [0, 1, 0], [0, 0, 1]])


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


def test_snn_options_reach_the_run():
    from memspice.reproduce import parse_options, reproduce

    words = ["--d2d", "0.2", "--c2c", "0.3", "--read-noise", "0.05", "--r-wire", "5", "--refresh", "50"]
    h = reproduce("snn", quick=True, **parse_options("snn", words + ["--sweeps", "false"])).headline
    assert h["variation"] == {"d2d": 0.2, "c2c": 0.3, "read_noise": 0.05} and h["r_wire_ohm"] == 5.0
    assert h["ir"]["refresh_images"] == 50 and h["solver_refreshes"] == 6  # construction, 4 refreshes, the end
    assert h["sweeps"] == {} and h["ir"]["refresh_200"] is None and 0 <= h["accuracy"] <= 1
