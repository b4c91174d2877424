"""Threshold-switch LIF neuron: f-I curve, options (reset, refractory, adaptation), behavioural LIF, ngspice."""

import numpy as np
import pytest

from memspice.circuits.crossbar import Crossbar
from memspice.circuits.lif import LIFNeuron, spike_times
from memspice.netlists import crossbar_netlist
from memspice.spice import run

from .conftest import needs_ngspice, needs_osdi

T_STOP = 20e-6


def test_f_i_curve_is_zero_below_threshold_and_rises():
    neuron = LIFNeuron()
    i_th = neuron.threshold_current
    rates = neuron.f_i(i_th * np.array([0.9, 1.5, 3.0, 5.0]))
    assert rates[0] == 0.0
    assert rates[1] > 0
    assert all(a < b for a, b in zip(rates[1:], rates[2:])), rates


def test_f_i_uses_steady_intervals_not_a_window():
    # 10 uA fires once every ~16 us: a 20 us window would count 1 spike; steady intervals give the rate
    neuron = LIFNeuron()
    rate = neuron.steady_rate(10e-6)
    expected = neuron.calibrate().rate(10e-6)
    assert rate == pytest.approx(expected, rel=0.05)
    assert abs(rate * 20e-6 - 1) > 0.08  # not one spike per 20 us window


def test_circuit_and_behavioural_lif_agree_on_spike_times():
    neuron = LIFNeuron()
    lif = neuron.calibrate(3 * neuron.threshold_current)
    assert 0.7 < lif.v_th <= neuron.ts.params.v_th and abs(lif.t_dead - neuron.refractory) < 0.1e-6
    for current in (20e-6, 40e-6):
        t_circuit = neuron.spikes(current, 30e-6)
        t_lif = lif.spike_times(current, 30e-6)
        assert len(t_circuit) == len(t_lif) >= 3
        assert np.max(np.abs(t_circuit - t_lif)) < 0.05 * neuron.tau_m


def test_reset_to_rest_and_full_turn_off():
    current = 40e-6
    for reset, low in ((True, 0.01), (False, 0.1)):
        neuron = LIFNeuron(reset_to_rest=reset)
        w = neuron.simulate(current, 12e-6, 12001)
        t = spike_times(w.time, w["v_spk"], neuron.spike_level)
        after = (w.time > t[0] + 0.2e-6) & (w.time < t[0] + 1.0e-6)
        v_after = w["v_mem"][after].min()
        if reset:  # clamped at rest (I_in R_reset = 4 mV), switch relaxed OFF before integration restarts
            assert v_after < low
            restart = np.searchsorted(w.time, t[0] + neuron.refractory)
            assert w["x"][restart] < 0.1
        else:  # the bare circuit restarts from about V_hold
            assert v_after > low


def test_refractory_period_spaces_spikes():
    short, long = LIFNeuron(t_ref=1e-6), LIFNeuron(t_ref=6e-6)
    t_short, t_long = short.spikes(60e-6, 20e-6), long.spikes(60e-6, 20e-6)
    assert len(t_long) < len(t_short)
    assert np.min(np.diff(t_long)) > 6e-6 and np.min(np.diff(t_short)) < 6e-6


def test_adaptive_threshold_lowers_the_rate_under_sustained_input():
    plain, adaptive = LIFNeuron(), LIFNeuron(adapt_step=0.06, tau_adapt=20e-6)
    t_plain, t_adapt = plain.spikes(25e-6, 40e-6), adaptive.spikes(25e-6, 40e-6)
    assert len(t_adapt) <= len(t_plain) and len(t_adapt) >= 4
    isi = np.diff(t_adapt)
    assert np.mean(isi[1:]) > 1.05 * np.mean(np.diff(t_plain)[1:])
    assert isi[-1] > isi[0]  # intervals grow as the threshold rises
    w = adaptive.simulate(25e-6, 40e-6, 4001)
    assert 0.1 < w["a"].max() < adaptive.ts.params.v_hold  # the rise accumulates over spikes, below V_hold
    assert plain.simulate(25e-6, 10e-6, 1001)["a"].max() == 0.0


@needs_ngspice
def test_ngspice_spike_times_match_python_within_one_step():
    neuron, current, step = LIFNeuron(), 60e-6, 5e-9
    ref = neuron.simulate(current, T_STOP, 40001, rtol=1e-9)
    t_ref = spike_times(ref.time, ref["v_spk"], neuron.spike_level)
    w = run(neuron.netlist(current, T_STOP, step)).waveforms
    t_spice = spike_times(w.time, w["v(spk0)"], neuron.spike_level)
    assert len(t_ref) >= 4 and len(t_spice) == len(t_ref)
    assert np.max(np.abs(t_spice - t_ref)) <= step


@needs_ngspice
def test_crossbar_columns_drive_neurons():
    # column currents ~ G^T v: the column with the larger conductances fires more often
    g = np.array([[1.5e-5, 3e-5]] * 3)
    neuron = LIFNeuron()
    text = crossbar_netlist(
        Crossbar(g, r_word=1.0, r_bit=1.0),
        np.full(3, 1.0),
        sense=neuron,
        analysis=f".tran 5e-9 {2 * T_STOP} 0 5e-9 uic",
    )
    w = run(text).waveforms
    counts = [len(spike_times(w.time, w[f"v(spk{j})"], neuron.spike_level)) for j in range(2)]
    assert 0 < counts[0] < counts[1]


def test_bad_neuron_parameters_are_named():
    with pytest.raises(ValueError, match="c_mem"):
        LIFNeuron(c_mem=-1e-12)
    with pytest.raises(ValueError, match="t_ref"):
        LIFNeuron(t_ref=-1e-6)
    with pytest.raises(ValueError, match="i_in"):
        LIFNeuron().calibrate(1e-6)


@needs_osdi
def test_verilog_a_neuron_spikes_like_behavioural():
    from memspice.spice import run as run_spice

    neuron, step = LIFNeuron(), 5e-9
    spikes = {}
    for face in ("behavioural", "veriloga"):
        osdi = neuron.osdi_libraries() if face == "veriloga" else []
        w = run_spice(neuron.netlist(60e-6, T_STOP, step, face=face), osdi=osdi).waveforms
        spikes[face] = spike_times(w.time, w["v(spk0)"], neuron.spike_level)
    assert len(spikes["veriloga"]) == len(spikes["behavioural"]) >= 4
    assert np.max(np.abs(spikes["veriloga"] - spikes["behavioural"])) <= step


def test_bad_run_settings_are_named():
    with pytest.raises(ValueError, match="i_in"):
        LIFNeuron().netlist(float("nan"), 1e-6, 1e-9)
    with pytest.raises(ValueError, match="t_stop"):
        LIFNeuron().simulate(1e-5, -1.0)
