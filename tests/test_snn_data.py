"""The spiking network on a user's data: file formats, named errors, the scaling and sizing rule, baselines."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memspice.circuits.lif import BehaviouralLIF
from memspice.systems.snn import NetworkConfig, rule
from memspice.systems.snn.data import MAX_INPUTS, MinMax, Scaling, bundled_digits, complement_code, load_data
from memspice.systems.snn.reproduce import digits, snn

from .conftest import needs_ngspice

LIF = BehaviouralLIF(r_m=1e5, tau_m=1e-5, v_th=0.772, t_dead=2.91e-6, adapt_step=5e-3, tau_adapt=50e-3)


def _blobs(n=90, features=6, classes=3, seed=0):
    from sklearn.datasets import make_blobs

    return make_blobs(n_samples=n, n_features=features, centers=classes, cluster_std=0.5, random_state=seed)


def test_npz_with_x_and_y_is_split_like_the_digits(tmp_path):
    x, y = _blobs()
    np.savez(tmp_path / "b.npz", x=x, y=y + 5)
    ds = load_data(tmp_path / "b.npz", seed=3)
    assert ds.name == "b.npz" and ds.n_inputs == 6 and ds.n_classes == 3 and list(ds.classes) == [5, 6, 7]
    assert len(ds.x_test) == 23 and len(ds.x_train) == 67 and set(ds.y_train) == {0, 1, 2}
    assert np.bincount(ds.y_test).min() >= 7  # stratified: every class in the held-out quarter
    again = load_data(tmp_path / "b.npz", seed=3)
    np.testing.assert_array_equal(ds.x_test, again.x_test)  # seeded
    assert not np.array_equal(ds.x_test, load_data(tmp_path / "b.npz", seed=4).x_test)


def test_npz_with_a_given_split_is_used_as_given(tmp_path):
    x, y = _blobs()
    np.savez(tmp_path / "s.npz", x_train=x[:60], y_train=y[:60], x_test=x[60:], y_test=y[60:])
    ds = load_data(tmp_path / "s.npz")
    np.testing.assert_array_equal(ds.x_train, x[:60])
    np.testing.assert_array_equal(ds.classes[ds.y_test], y[60:])


def test_csv_label_column_by_name_or_last_with_or_without_header(tmp_path):
    rows = [(k, -k, "cat" if k % 2 else "dog") for k in range(8)]
    (tmp_path / "named.csv").write_text("Class,a,b\n" + "".join(f"{c},{a},{b}\n" for a, b, c in rows))
    ds = load_data(tmp_path / "named.csv")
    assert list(ds.classes) == ["cat", "dog"] and ds.n_inputs == 2
    x = np.vstack([ds.x_train, ds.x_test])
    assert sorted(map(tuple, x)) == sorted((float(a), float(b)) for a, b, _ in rows)
    (tmp_path / "last.csv").write_text("a,b,kind\n" + "".join(f"{a},{b},{a % 2}\n" for a, b, _ in rows))
    assert load_data(tmp_path / "last.csv").n_inputs == 2
    (tmp_path / "bare.csv").write_text("".join(f"{a},{b},{a % 2}\n" for a, b, _ in rows))
    bare = load_data(tmp_path / "bare.csv")
    assert bare.n_inputs == 2 and list(bare.classes) == [0, 1] and len(bare.x_train) + len(bare.x_test) == 8


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: None, "does not exist"),
        (lambda p: (p / "d.txt").write_text("1,2"), "unknown file type '.txt'"),
        (lambda p: np.savez(p / "d.npz", a=np.zeros((4, 2))), r"needs arrays 'x' and 'y'"),
        (lambda p: np.savez(p / "d.npz", x=np.zeros(8), y=np.arange(8) % 2), "x must be 2-D"),
        (lambda p: np.savez(p / "d.npz", x=np.array([["a", "b"]] * 8), y=np.arange(8) % 2), "x must be numeric"),
        (lambda p: np.savez(p / "d.npz", x=np.r_[np.zeros((7, 2)), [[np.nan, 1]]], y=np.arange(8) % 2), "NaN/inf"),
        (lambda p: np.savez(p / "d.npz", x=np.r_[np.zeros((7, 2)), [[np.inf, 1]]], y=np.arange(8) % 2), "NaN/inf"),
        (lambda p: np.savez(p / "d.npz", x=np.random.rand(8, 2), y=np.zeros(8)), "single class"),
        (lambda p: np.savez(p / "d.npz", x=np.random.rand(6, 2), y=np.arange(6) // 2), "6 samples are too few"),
        (lambda p: np.savez(p / "d.npz", x=np.random.rand(8, 2), y=np.arange(7) % 2), "x has 8 samples but y has 7"),
        (lambda p: np.savez(p / "d.npz", x=np.random.rand(9, 2), y=np.r_[np.zeros(8), 1]), "one sample; the strat"),
        (lambda p: np.savez(p / "d.npz", x=np.random.rand(4, 2), y=[0, 1, 0, 1]), "too few for a stratified"),
        (lambda p: np.savez(p / "d.npz", x=np.random.rand(8, MAX_INPUTS + 1), y=np.arange(8) % 2), "at most 1024"),
        (
            lambda p: np.savez(
                p / "d.npz", x_train=np.ones((4, 2)), y_train=[0, 1, 0, 1], x_test=np.ones((2, 2)), y_test=[2, 0]
            ),  # fmt: skip
            "class.es. 2 that y_train lacks",
        ),
        (
            lambda p: np.savez(
                p / "d.npz", x_train=np.ones((4, 2)), y_train=[0, 1, 0, 1], x_test=np.ones((2, 3)), y_test=[1, 0]
            ),  # fmt: skip
            "x_train has 2 inputs but x_test has 3",
        ),
        (lambda p: (p / "d.csv").write_text("a,label\n1,0\nx,1\n2,0\n3,1\n"), "column 'a' is not numeric .line 3: 'x'"),
        (lambda p: (p / "d.csv").write_text("a,y,class\n1,0,0\n2,1,1\n"), "several label columns"),
        (lambda p: (p / "d.csv").write_text("1\n2\n"), "needs features and a label column"),
        (lambda p: (p / "d.npz").write_text("not a zip"), "cannot read as .npz"),
    ],
)
def test_bad_data_files_are_named(tmp_path, make, message):
    make(tmp_path)
    found = sorted(tmp_path.iterdir())
    path = found[0] if found else tmp_path / "missing.npz"
    with pytest.raises((ValueError, FileNotFoundError), match=message) as err:
        load_data(path)
    assert path.name in str(err.value)


def test_min_max_fits_the_training_set_clips_the_test_set_and_encodes_negatives():
    train = np.array([[-2.0, 5.0, 1.0], [2.0, 7.0, 1.0]])
    scale = MinMax.fit(train)
    np.testing.assert_allclose(scale(train), [[0, 0, 0], [1, 1, 0]])  # a constant feature never spikes
    np.testing.assert_allclose(scale([[0.0, 9.0, 3.0], [-5.0, 6.0, 0.0]]), [[0.5, 1, 0], [0, 0.5, 0]])
    glob = MinMax.fit(train, "global")
    np.testing.assert_allclose(glob(train), (train + 2) / 9)
    x_train, x_test, _, _ = digits(0)
    raw = bundled_digits(0)
    np.testing.assert_array_equal(x_train, raw.x_train / 16.0)  # the digits' global rule is pixels / 16
    with pytest.raises(ValueError, match="scaling must be one of"):
        MinMax.fit(train, "zscore")


def test_the_rule_keeps_the_digits_configuration():
    x = digits(0)[0]
    cfg = rule.sized(NetworkConfig(), LIF, x, 10)
    assert cfg.neuron.mirror_gain == 1.0 and cfg.n_neurons == 150 and cfg.n_inputs == 64
    assert rule.sized(NetworkConfig(), LIF, x[:200], 10, quick=True).n_neurons == 20
    assert rule.drive(cfg, LIF, x) == pytest.approx(rule.REFERENCE_DRIVE, rel=0.01)
    assert rule.n_neurons(3, 20) == 20  # at most one neuron per training sample
    with pytest.raises(ValueError, match="constant"):
        rule.mirror_gain(NetworkConfig(), LIF, np.zeros((5, 3)))


@settings(max_examples=40, deadline=None)
@given(
    m=st.integers(1, 1024),
    level=st.floats(0.01, 1.0),
    seed=st.integers(0, 2**16),
)
def test_the_rule_brings_any_input_count_and_scale_to_the_reference_drive(m, level, seed):
    x = np.random.default_rng(seed).uniform(0, 1, (20, m)) * level
    if not x.mean(axis=0).sum() > 0:
        return
    cfg = rule.sized(NetworkConfig(), LIF, x, 4)
    ratio = rule.drive(cfg, LIF, x) / rule.REFERENCE_DRIVE
    assert 2 ** (-1 / 32) * 0.9999 <= ratio <= 2 ** (1 / 32) * 1.0001  # within half a grid step
    assert cfg.n_inputs == m


def test_quick_run_on_separable_blobs_learns_and_reports_the_baselines(tmp_path):
    x, y = _blobs()
    np.savez(tmp_path / "blobs.npz", x=x, y=y)
    res = snn(quick=True, sweeps=False, data=tmp_path / "blobs.npz")
    h = res.headline
    for key in ("accuracy", "accuracy_frozen", "accuracy_raw_logistic", "accuracy_majority"):
        assert 0 <= h[key] <= 1
    assert h["data"] == "blobs.npz" and (h["n_inputs"], h["n_classes"], h["n_train"], h["n_test"]) == (6, 3, 67, 23)
    assert h["neurons"] == 6 and h["scaling"] == "feature" and h["chance"] == pytest.approx(1 / 3)
    assert h["accuracy"] >= 0.8 and h["accuracy"] >= h["accuracy_frozen"] + 0.3  # learning does the work
    assert h["accuracy_raw_logistic"] >= 0.95 and h["accuracy_majority"] < 0.4
    assert np.asarray(h["confusion"]).shape == (3, 3) and len(res.table) == 3
    assert h["mirror_gain"] > 1 and h["drive"] == pytest.approx(rule.REFERENCE_DRIVE, rel=0.03)
    res.save("snn", tmp_path / "out")
    assert json.loads((tmp_path / "out" / "snn.json").read_text())["n_classes"] == 3
    assert (tmp_path / "out" / "snn.png").stat().st_size > 0


def test_complement_coding_doubles_the_inputs_and_keeps_the_baselines(tmp_path):
    x, y = _blobs()
    np.savez(tmp_path / "blobs.npz", x=x, y=y)
    plain = snn(quick=True, sweeps=False, data=tmp_path / "blobs.npz").headline
    both = snn(quick=True, sweeps=False, data=tmp_path / "blobs.npz", complement=True).headline
    assert both["complement"] and both["inputs"] == 12 and both["n_inputs"] == 6
    assert both["accuracy_raw_logistic"] == plain["accuracy_raw_logistic"]  # the baseline sees the scaled features
    assert both["drive"] == pytest.approx(rule.REFERENCE_DRIVE, rel=0.03)
    np.testing.assert_allclose(complement_code([[0.25, 1.0]]), [[0.25, 1.0, 0.75, 0.0]])
    with pytest.raises(ValueError, match="doubles 600 inputs to 1200"):
        complement_code(np.zeros((2, 600)))


def test_digits_as_a_file_give_the_built_in_run(tmp_path):
    from sklearn.datasets import load_digits

    d = load_digits()
    np.savez(tmp_path / "digits.npz", x=d.data, y=d.target)
    built_in = snn(quick=True, seed=1, sweeps=False).headline
    own = snn(quick=True, seed=1, sweeps=False, data=tmp_path / "digits.npz", scale="global").headline
    for key in ("accuracy", "accuracy_frozen", "accuracy_raw_logistic", "accuracy_majority", "mirror_gain"):
        assert own[key] == built_in[key], key
    np.testing.assert_array_equal(own["confusion"], built_in["confusion"])
    assert built_in["data"] == "digits" and built_in["scaling"] == "global" and own["data"] == "digits.npz"


def test_data_and_scale_options_reach_the_run(tmp_path):
    from pathlib import Path

    from memspice.reproduce import parse_options

    opts = parse_options("snn", ["--data", str(tmp_path / "x.csv"), "--scale", "global"])
    assert opts == {"data": Path(tmp_path / "x.csv"), "scale": "global"}
    assert Scaling.parse("Feature") is Scaling.FEATURE
    with pytest.raises(FileNotFoundError, match="x.csv"):
        snn(quick=True, sweeps=False, data=tmp_path / "x.csv")


@needs_ngspice
def test_the_mirror_gain_is_the_circuits_current_mirror():
    from memspice.circuits.lif import LIFNeuron
    from memspice.systems.snn import SpikingNetwork, spice_check

    assert "Fmir0 0 mem0 Vsense0 500m" in LIFNeuron(input_mirror=True, mirror_gain=0.5).column(0, "s0")
    counts, lif = {}, None
    for gain in (1.0, 0.5):
        neuron = LIFNeuron(input_mirror=True, mirror_gain=gain)
        net = SpikingNetwork(NetworkConfig(n_neurons=3, inhibition=False, neuron=neuron), seed=0, lif=lif)
        lif = net.lif  # calibrated once: the mirror is outside the neuron's calibration
        res = spice_check.compare(net, digits(0)[0][0], steps=40)
        assert np.max(np.abs(res["counts_spice"] - res["counts_fast"])) <= 1
        counts[gain] = res["counts_fast"]
    assert counts[0.5].sum() < counts[1.0].sum()  # half the current into the membrane: fewer spikes
