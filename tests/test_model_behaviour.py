"""Physical behaviour each model must show (Python reference; faces agree by test_model_faces)."""

import numpy as np

from memspice.circuits import Sine, pulse_train
from memspice.models import DriftDiffusion, Selector, ThresholdSwitch, TiOx


def loop_area(v, i):
    """|closed-path integral of i dv| over the loop (W-like units, V*A)."""
    return abs(np.trapezoid(i, v))


def test_drift_diffusion_loop_is_pinched_at_origin_and_shrinks_with_frequency():
    m = DriftDiffusion()
    areas = []
    for w0 in (10.0, 40.0, 160.0):  # rad/s; Shi et al. 2025 Fig. 1b/c uses w0 = 10, v0 = 1 V
        period = 2 * np.pi / w0
        w = m.simulate(Sine(1.0, w0 / (2 * np.pi)), 2 * period, 4001)
        second = w.time >= period
        v, i = w["v"][second], w["i"][second]
        assert np.all(np.abs(i[np.abs(v) < 1e-3]) < 1e-3 * np.abs(i).max())  # i = 0 whenever v = 0
        areas.append(loop_area(v, i))
        if w0 == 10.0:
            x = w["x"]
            assert x.max() - x.min() > 0.5  # strong switching: a wide, pinched loop
            # two branches: same voltage, different current on the up and down sweeps
            k_up = np.argmin(np.abs(v - 0.5) + (np.gradient(v) < 0))
            k_dn = np.argmin(np.abs(v - 0.5) + (np.gradient(v) > 0))
            assert abs(i[k_up] - i[k_dn]) > 0.1 * abs(i).max()
    assert areas[0] > areas[1] > areas[2]
    assert areas[2] < 0.5 * areas[0]


def test_drift_diffusion_diffusion_term_moves_state_without_bias():
    w = DriftDiffusion(x0=0.3).simulate(lambda t: 0.0 * np.asarray(t), 5.0, 101)
    assert w["x"][-1] > 0.3  # D/w drives w up at zero bias
    still = DriftDiffusion(x0=0.3, diffusion=0.0).simulate(lambda t: 0.0 * np.asarray(t), 5.0, 101)
    assert abs(still["x"][-1] - 0.3) < 1e-9


def test_threshold_switch_fires_above_vth_and_relaxes_below_vhold():
    p = ThresholdSwitch().params
    m = ThresholdSwitch()
    below = m.simulate(pulse_train([0.9 * p.v_th], 2e-6, 3e-6), 3e-6, 601)
    assert below["x"].max() < 0.01
    fire = m.simulate(pulse_train([1.2 * p.v_th], 2e-6, 12e-6), 12e-6, 2401)
    on = fire.time < 2e-6
    assert fire["x"][on].max() > 0.99
    assert fire["i"].max() > 100 * below["i"].max()
    assert fire["x"][-1] < 0.01  # bias removed: relaxes to OFF within a few tau_off


def test_threshold_switch_holds_between_vhold_and_vth():
    m = ThresholdSwitch()
    p = m.params
    amps = [1.2 * p.v_th, 0.5 * (p.v_th + p.v_hold)]
    src = pulse_train(amps, 1e-6, 1e-6 + 2 * 5e-8, rise=5e-8)
    w = m.simulate(src, 2.2e-6, 2201)
    assert w.at("x", [2.0e-6])[0] > 0.9  # stays ON while v is in the hysteresis window


def test_tiox_rectifies_at_read_voltage():
    for rr in (1e2, 1e3, 1e4):
        m = TiOx(rectification_ratio=rr)
        for x in (0.0, 0.5, 1.0):
            ratio = abs(m.current(m.params.v_read, x) / m.current(-m.params.v_read, x))
            assert ratio >= rr * (1 - 1e-9)


def test_tiox_on_off_ratio_and_read_current():
    m = TiOx()
    p = m.params
    assert np.isclose(m.current(p.v_read, 1.0), p.v_read / p.r_on)
    assert np.isclose(m.current(p.v_read, 1.0) / m.current(p.v_read, 0.0), p.on_off_ratio)


def test_tiox_gradual_near_linear_potentiation_and_depression():
    m = TiOx()
    n = 20
    src = pulse_train([2.0] * n + [-2.0] * n, 1e-6, 3e-6)
    w = m.simulate(src, 2 * n * 3e-6, 8001)
    x_after = w.at("x", [(k + 1) * 3e-6 - 1e-8 for k in range(2 * n)])
    g = m.current(m.params.v_read, x_after)
    up, down = g[:n], g[n:]
    assert np.all(np.diff(up) > 0) and np.all(np.diff(down) < 0)
    for seg in (up, down):
        k = np.arange(seg.size)
        r = np.corrcoef(k, seg)[0, 1]
        assert abs(r) > 0.99  # near-linear in pulse number
    # sub-threshold read pulses do not move the state
    reads = m.simulate(pulse_train([m.params.v_read] * 5, 1e-6, 3e-6), 15e-6, 1501)
    assert np.ptp(reads["x"]) < 1e-6


def test_selector_is_odd_and_strongly_nonlinear():
    s = Selector()
    v = np.linspace(-3, 3, 61)
    np.testing.assert_allclose(s.current(v), -s.current(-v), rtol=1e-12)
    assert s.current(1.0) / s.current(0.5) > 100
    assert np.all(np.isfinite(s.current(np.array([-1e3, 1e3]))))


def test_state_jacobian_is_finite_at_the_window_edges():
    """d(dx/dt)/dx at x = 0 and x = 1 (stuck cells) is finite and matches a one-sided difference."""
    from memspice.models import DriftDiffusion, TiOx

    for model, v in ((TiOx(), 2.0), (TiOx(), -2.0), (DriftDiffusion(), 1.0)):
        x = np.array([0.0, 1.0])
        d = model.rate_dx(x, np.full(2, v))
        assert np.all(np.isfinite(d)), type(model).__name__
        h = np.array([1e-6, -1e-6])
        fd = (model.rate(x + h, np.full(2, v)) - model.rate(x, np.full(2, v))) / h
        assert np.allclose(d, fd, rtol=1e-2, atol=1e-6 * np.max(np.abs(fd)) + 1e-12), (type(model).__name__, d, fd)
