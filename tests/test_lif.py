"""Threshold-switch LIF neuron: f-I curve, ngspice vs Python spike times, crossbar drive."""
import numpy as np
import pytest

from memspice.circuits.crossbar import Crossbar
from memspice.circuits.lif import LIFNeuron, firing_rate, spike_times
from memspice.netlists import crossbar_netlist
from memspice.spice import run

from .conftest import needs_ngspice, needs_osdi

T_STOP = 20e-6


def rate(neuron, current):
    w = neuron.simulate(current, T_STOP, 30001)
    return firing_rate(spike_times(w.time, w["v_spk"], neuron.spike_level), T_STOP)


def test_f_i_curve_is_zero_below_threshold_and_rises():
    neuron = LIFNeuron()
    i_th = neuron.threshold_current
    assert rate(neuron, 0.5 * i_th) == 0.0
    assert rate(neuron, 0.95 * i_th) == 0.0
    rates = [rate(neuron, k * i_th) for k in (1.5, 3.0, 5.0)]
    assert rates[0] > 0
    assert all(a < b for a, b in zip(rates, rates[1:])), rates


@needs_ngspice
def test_ngspice_spike_times_match_python_within_one_step():
    neuron, current, step = LIFNeuron(), 40e-6, 5e-9
    ref = neuron.simulate(current, T_STOP, 30001, rtol=1e-9)
    t_ref = spike_times(ref.time, ref["v_spk"], neuron.spike_level)
    w = run(neuron.netlist(current, T_STOP, step)).waveforms
    t_spice = spike_times(w.time, w["v(spk0)"], neuron.spike_level)
    assert len(t_ref) >= 5 and len(t_spice) == len(t_ref)
    assert np.max(np.abs(t_spice - t_ref)) <= step


@needs_ngspice
def test_crossbar_columns_drive_neurons():
    # column currents ~ G^T v: the column with the larger conductances fires more often
    g = np.array([[1.5e-5, 3e-5]] * 3)
    neuron = LIFNeuron()
    text = crossbar_netlist(Crossbar(g, r_word=1.0, r_bit=1.0), np.full(3, 1.0), sense=neuron,
                            analysis=f".tran 5e-9 {T_STOP} 0 5e-9 uic")
    w = run(text).waveforms
    counts = [len(spike_times(w.time, w[f"v(spk{j})"], neuron.spike_level)) for j in range(2)]
    assert 0 < counts[0] < counts[1]


def test_bad_neuron_parameters_are_named():
    with pytest.raises(ValueError, match="c_mem"):
        LIFNeuron(c_mem=-1e-12)


@needs_osdi
def test_verilog_a_neuron_spikes_like_behavioural():
    from memspice.spice import run as run_spice

    neuron, step = LIFNeuron(), 5e-9
    spikes = {}
    for face in ("behavioural", "veriloga"):
        osdi = neuron.osdi_libraries() if face == "veriloga" else []
        w = run_spice(neuron.netlist(40e-6, T_STOP, step, face=face), osdi=osdi).waveforms
        spikes[face] = spike_times(w.time, w["v(spk0)"], neuron.spike_level)
    assert len(spikes["veriloga"]) == len(spikes["behavioural"]) >= 5
    assert np.max(np.abs(spikes["veriloga"] - spikes["behavioural"])) <= step


def test_bad_run_settings_are_named():
    with pytest.raises(ValueError, match="i_in"):
        LIFNeuron().netlist(float("nan"), 1e-6, 1e-9)
    with pytest.raises(ValueError, match="t_stop"):
        LIFNeuron().simulate(1e-5, -1.0)
