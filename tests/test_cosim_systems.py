"""Co-simulation in the seed systems: the spiking layer's circuit check and the RPCA forward read."""

from __future__ import annotations

import numpy as np
import pytest

from memspice.circuits.lif import LIFNeuron
from memspice.cosim.device import compiler
from memspice.spice.capabilities import ngspice_info

needs_cosim = pytest.mark.skipif(
    not ngspice_info().shared_library or compiler() is None,
    reason="co-simulation needs libngspice and a C compiler (for its OSDI port device)",
)


def _layer(m: int, n: int, inhibition: bool = True):
    from memspice.systems.snn.network import NetworkConfig, SpikingNetwork

    cfg = NetworkConfig(n_inputs=m, n_neurons=n, inhibition=inhibition, neuron=LIFNeuron(input_mirror=True))
    return SpikingNetwork(cfg, seed=0)


def test_snn_netlist_has_the_inhibition_line_and_one_mark(tmp_path):
    from memspice.cosim import parse
    from memspice.systems.snn.cosim_check import write_netlist

    net = _layer(8, 3)
    spikes = np.zeros((4, 8), bool)
    spikes[1, ::2] = True
    path = write_netlist(net, spikes, tmp_path)
    text = path.read_text()
    assert "Binh inh 0 V=min(1," in text and text.count("v(xn") == 3
    (mark,) = parse(text, tmp_path).marked
    assert mark.xbar.shape == (8, 3) and mark.xbar.cell.name == "1R"
    np.testing.assert_allclose(mark.xbar.conductances, net.conductances)
    with pytest.raises(ValueError, match=r"\(steps, 8\)"):
        write_netlist(net, np.zeros((4, 7), bool), tmp_path)


@needs_cosim
def test_snn_circuit_check_small_layer_agrees_with_the_fast_path():
    from memspice.systems.snn.cosim_check import circuit_check

    net = _layer(16, 4)
    res = circuit_check(net, np.random.default_rng(1).uniform(0, 1, 16), steps=20)
    assert res["counts_circuit"].sum() >= 1
    assert np.max(np.abs(res["counts_circuit"] - res["counts_fast"])) <= 1
    assert res["winner_circuit"] == res["winner_fast"]


@needs_cosim
@pytest.mark.slow
def test_snn_circuit_check_full_size_with_inhibition():
    """The layer at full size (64 inputs x 16 neurons, lateral inhibition on) as a circuit: co-simulation and
    ngspice alone give the same spikes (measured: every count equal, times within 2e-13 s over 50 us)."""
    from memspice.systems.snn.cosim_check import circuit_check

    net = _layer(64, 16)
    res = circuit_check(net, np.random.default_rng(1).uniform(0, 1, 64), steps=100, monolithic=True)
    assert res["counts_circuit"].sum() >= 5
    np.testing.assert_array_equal(res["counts_circuit"], res["counts_spice"])
    for a, b in zip(res["times_circuit"], res["times_spice"]):
        assert np.all(np.abs(a - b) < 1e-9)
    assert res["winner_circuit"] == res["winner_fast"]


def _rpca_array(**nonideal):
    from memspice.systems.rpca.array import NonIdealities, TiOxArray

    arr = TiOxArray(nonideal=NonIdealities(read_noise=0.0, **nonideal), seed=1)
    arr.state[0] = np.random.default_rng(0).uniform(0.1, 0.9, arr.state[0].shape)
    return arr


def test_rpca_forward_read_refuses_what_it_cannot_compare(tmp_path):
    from memspice.systems.rpca.array import NonIdealities, TiOxArray
    from memspice.systems.rpca.cosim_read import forward_read, write_netlist

    noisy = TiOxArray(nonideal=NonIdealities(read_noise=0.01), seed=1)
    with pytest.raises(ValueError, match="read_noise=0"):
        forward_read(noisy, np.zeros(noisy.shape))
    arr = _rpca_array()
    with pytest.raises(ValueError, match="y must have shape"):
        write_netlist(arr, np.zeros((1, 32, 31)), tmp_path)
    path, schedule = write_netlist(arr, np.full(arr.shape, 0.5), tmp_path, columns=[3])
    assert len(schedule) == 6 and all(k == 3 for k, _, _ in schedule)  # 6 DAC planes of column 3
    assert "memspice_crossbar weights=states.npy cell=tiox" in path.read_text()


@needs_cosim
def test_rpca_forward_read_through_op_amp_tias_matches_the_fast_path():
    """32 x 32 tile, three columns (near, middle, far end of the word lines), ADC off: the circuit's
    projections agree with the DC model of the TIA to 1e-3."""
    from memspice.systems.rpca.cosim_read import forward_read

    arr = _rpca_array(adc_bits=None)
    y = np.random.default_rng(0).uniform(0, 1, arr.shape)
    res = forward_read(arr, y, columns=[0, 15, 31])
    np.testing.assert_allclose(res["circuit"], res["fast"], rtol=1e-3)
    assert np.all(res["outputs"] < 0) and np.all(res["outputs"] > -1.5)  # inverting TIAs inside their swing
