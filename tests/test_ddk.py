"""Seed 003 (Shi et al. 2025, DDK): calibrated device, DDK layer and its adjoint, network, data."""

import numpy as np
import pytest

from memspice.analysis import ddk as ddk_maps
from memspice.systems.ddk import device, kinetics, mlp, network
from memspice.systems.ddk.data import bundled_folder, japanese_vowels, read_ts
from memspice.systems.ddk.kinetics import ConductanceRange, DeviceMapping, Polarity
from memspice.systems.ddk.reproduce import ddk_network, ddk_pulses

from .conftest import needs_ngspice


@pytest.fixture(scope="module")
def pulses():
    return ddk_pulses(quick=True)


def test_calibrated_range_linear_and_symmetric(pulses):
    h = pulses.headline
    # the paper's 6.1-202.1 uS, reached in both directions, from the 5 kOhm start
    assert h["g_min_uS"] < 6.1 * 1.02 and h["g_min_uS"] >= 6.1 * 0.999
    assert h["g_max_uS"] > 202.1 * 0.999 and h["g_max_uS"] <= 202.1 * 1.001
    assert h["g_initial_uS"] == pytest.approx(200.0)
    # near-linear and symmetric; the first reset step is no outlier
    assert h["nonlinearity_set"] < 0.07 and h["nonlinearity_reset"] < 0.07
    assert abs(h["nonlinearity_set"] - h["nonlinearity_reset"]) < 0.01
    assert 0.8 < h["first_step_over_mean_reset"] < 1.3
    t = pulses.table
    two = t[(t.amplitude_V == 2.0)]
    assert np.all(np.diff(two[two.direction == "reset"].g_uS) < 0)
    assert np.all(np.diff(two[two.direction == "set"].g_uS) > 0)
    # larger pulses move faster: after 30 reset pulses 3 V is lower than 2 V
    at30 = t[(t.direction == "reset") & (t.pulse == 30)].set_index("amplitude_V").g_uS
    assert at30[3.0] < at30[2.5] < at30[2.0]


def test_feature_map_rows_differ_visibly(pulses):
    assert pulses.headline["feature_map_row_spread_uS"] > 5.0
    rows = ddk_maps.pooled_features(ddk_maps.synthetic_call(seed=0), 8, 100)
    means = rows.mean(axis=1)
    assert means.max() / means.min() > 2


def test_parallel_conduction_and_fitted_constants():
    m = device.ddk_memristor()
    assert m.current(1.0, 0.0) == pytest.approx(device.G_MIN)
    assert m.current(1.0, 1.0) == pytest.approx(device.G_MAX)
    assert device.conductance_of(m.params.x0) == pytest.approx(1 / 5e3)
    assert device.fit_diffusion() == pytest.approx(device.DIFFUSION, rel=1e-3)
    with pytest.raises(ValueError, match="r_init"):
        device.ddk_params(r_init=-1.0)
    with pytest.raises(ValueError, match="amplitude"):
        device.conductance_curves(m, 0.0)


@pytest.mark.slow
def test_fitted_mobility_matches_constant():
    assert device.fit_mobility() == pytest.approx(device.MOBILITY, rel=1e-3)


@pytest.mark.parametrize("polarity", [Polarity.RESET, Polarity.SET])
def test_adjoint_matches_finite_differences(polarity):
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, (4, 3, 12))
    alpha = np.array([0.004, 0.01, 0.02])
    beta = np.array([0.05, 0.09, 0.3])  # the last channel runs into the range limit (clip active)
    w = rng.normal(size=x.shape)

    def loss(a, b):
        return float(np.sum(w * kinetics.software_forward(x, a, b, polarity)[0]))

    y, cache = kinetics.software_forward(x, alpha, beta, polarity)
    assert not np.all(cache[3])  # some steps clipped
    da, db = (g.sum(axis=0) for g in kinetics.software_backward(w, cache))
    h = 1e-7
    for i in range(3):
        e = np.eye(3)[i] * h
        assert da[i] == pytest.approx((loss(alpha + e, beta) - loss(alpha - e, beta)) / (2 * h), rel=1e-5, abs=1e-6)
        assert db[i] == pytest.approx((loss(alpha, beta + e) - loss(alpha, beta - e)) / (2 * h), rel=1e-5, abs=1e-6)


def test_mlp_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    net = mlp.MLP(5, 4, 3, rng)
    x, labels = rng.normal(size=(6, 5)), rng.integers(0, 3, 6)
    logits, cache = net.forward(x)
    _, dlogits = mlp.softmax_cross_entropy(logits, labels)
    grads, dx = net.backward(dlogits, cache)
    h = 1e-6
    for key in ("W1", "b2"):
        p = net.params[key]
        idx = (0,) * p.ndim
        old = p[idx]
        p[idx] = old + h
        up = mlp.softmax_cross_entropy(net.forward(x)[0], labels)[0]
        p[idx] = old - h
        down = mlp.softmax_cross_entropy(net.forward(x)[0], labels)[0]
        p[idx] = old
        assert grads[key][idx] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-8)


def test_device_form_follows_software_form():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (3, 2, 15))
    alpha, beta = np.array([0.005, 0.02]), np.array([0.05, 0.1])
    m = device.ddk_memristor()
    mapping = DeviceMapping()
    ra, rb = mapping.realised(m, alpha, beta)
    np.testing.assert_allclose(ra, alpha, rtol=1e-9)
    np.testing.assert_allclose(rb, beta, rtol=1e-9)
    y_sw = kinetics.software_forward(x, alpha, beta)[0]
    y_dev = kinetics.device_forward(x, alpha, beta, model=m)
    assert np.max(np.abs(y_dev - y_sw)) < 0.03  # same law, continuous vs stepwise
    assert np.all(y_dev[:, :, -1] < y_dev[:, :, 0] - 0.2)  # RESET channels fall overall
    with pytest.raises(ValueError, match="non-negative"):
        kinetics.software_forward(-x, alpha, beta)
    with pytest.raises(ValueError, match="y_min"):
        ConductanceRange(y_min=2.0)


@needs_ngspice
def test_device_form_matches_ngspice_transient():
    from memspice.spice.device_bench import simulate_spice

    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, 10)
    m = device.ddk_memristor()
    mapping = DeviceMapping()
    width, gap = mapping.timing(m, 0.005, 0.15)
    width, gap = float(width), float(gap)
    y = kinetics.device_forward(x[None, None, :], 0.005, 0.15, Polarity.RESET, m, mapping)[0, 0]
    x_python = device.state_of(y * device.G_MAX)
    period = width + 2 * mapping.rise + gap
    wave = simulate_spice(
        m, device.pulse_source(-mapping.v_max * x, width, gap, mapping.rise), x.size * period, n_steps=2000
    )
    x_spice = np.interp(np.arange(1, x.size + 1) * period, wave.time, wave["x"])
    assert np.ptp(x_spice) > 0.3  # the train really moves the device
    assert np.max(np.abs(x_spice - x_python)) < 1e-4


def test_japanese_vowels_bundled_split():
    d = japanese_vowels(steps=10)
    assert d.x_train.shape == (270, 12, 10) and d.x_test.shape == (370, 12, 10)
    assert d.n_classes == 9 and np.all(np.bincount(d.y_train) == 30)
    assert d.x_train.min() == 0.0 and d.x_train.max() == 1.0 and 0 <= d.x_test.min() <= d.x_test.max() <= 1


@pytest.mark.slow
def test_own_ts_reader_matches_aeon():
    from aeon.datasets import load_from_ts_file

    for split in ("TRAIN", "TEST"):
        path = bundled_folder() / f"JapaneseVowels_{split}.ts"
        ours, labels = read_ts(path)
        theirs, y = load_from_ts_file(str(path))
        assert len(ours) == len(theirs) and list(labels) == [str(v) for v in y]
        assert all(np.array_equal(a, b) for a, b in zip(ours, theirs))


def test_quick_network_is_seeded_and_beats_chance():
    first = ddk_network(quick=True, seed=0).headline
    second = ddk_network(quick=True, seed=0).headline
    for key in ("accuracy_software", "accuracy_device", "accuracy_baseline"):
        assert first[key] == second[key]
        assert first[key] > 3 / 9  # chance is 1/9
    assert first["n_trainable_ddk"] == 2 * first["n_ddk_channels"] == 24


def test_imprecision_rejects_bad_values():
    with pytest.raises(ValueError, match="failure_rate"):
        network.Imprecision(failure_rate=1.5)
    with pytest.raises(ValueError, match="read_noise"):
        network.Imprecision(read_noise=-1.0)
