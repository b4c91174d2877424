"""memspice fit: recovery of known parameters from noisy synthetic data, the three faces, bad CSVs."""

import json

import numpy as np
import pytest

from memspice.analysis.fit import (
    PulseResponse,
    Sweep,
    TransistorSweep,
    fit,
    load_params,
    write_fit,
)
from memspice.cli import main
from memspice.models import DriftDiffusion, Selector
from memspice.models.access_transistor import AccessTransistor
from memspice.models.drive import ParameterBatch, pulse_states, sweep_states


def _inside(result, truth: dict):
    for name, value in truth.items():
        row = result.estimate(name)
        assert row["determined"] and not row["at_bound"], row
        assert row["ci_low"] <= value <= row["ci_high"], (name, value, row)


def test_selector_sweep_recovered_within_ci():
    truth = {"i0": 2e-9, "v0": 0.1}
    v = np.linspace(-1.5, 1.5, 61)
    rng = np.random.default_rng(0)
    i = Selector(**truth).current(v) * (1 + 0.02 * rng.normal(size=v.size))
    result = fit("selector", Sweep(v, i), ["i0", "v0"], residual="log", starts=3)
    _inside(result, truth)
    for name, value in truth.items():
        assert result.estimate(name)["value"] == pytest.approx(value, rel=0.05)
    # the interval shrinks with the noise: 10x less noise, ~10x narrower
    quiet = Selector(**truth).current(v) * (1 + 0.002 * rng.normal(size=v.size))
    narrow = fit("selector", Sweep(v, quiet), ["i0", "v0"], residual="log", starts=1)
    wide_i0 = result.estimate("i0")["ci_high"] - result.estimate("i0")["ci_low"]
    assert 4 < wide_i0 / (narrow.estimate("i0")["ci_high"] - narrow.estimate("i0")["ci_low"]) < 25


def _dd_pulses(model, noise, rng):
    n = 15
    amp = np.r_[np.full(n, -1.0), np.full(n, 1.0)]
    width = np.full(2 * n, 10e-3)
    train = PulseResponse(amp, width, width, width / 20, np.ones(2 * n))
    batch = np.array([[getattr(model.params, f) for f in model.param_names]])
    from memspice.analysis.fit import _target

    g = train.predict(_target(model, None), batch)[0]
    # additive noise, the noise model of the intervals (multiplicative noise wants residual="log")
    g = g + noise * np.sqrt(np.mean(g**2)) * rng.normal(size=g.size)
    return PulseResponse(amp, width, width, width / 20, g, name="dd.csv")


def test_drift_diffusion_pulse_response_recovered_within_ci():
    truth = {"r_on": 150.0, "r_off": 3000.0, "mobility": 4e-14}
    model = DriftDiffusion(x0=0.9, **truth)
    data = _dd_pulses(model, 0.01, np.random.default_rng(1))
    start = DriftDiffusion(x0=0.9, r_on=100.0, r_off=2000.0, mobility=3e-14)
    # random starts within a decade: far-off mobilities make the device stiff and the fit slow, not wrong
    bounds = {"r_on": (30.0, 1000.0), "r_off": (1000.0, 20000.0), "mobility": (1e-14, 1e-13)}
    result = fit(start, data, list(truth), bounds=bounds, starts=2, seed=0)
    _inside(result, truth)
    assert result.relative_rms()[0] < 0.02
    assert result.model().params.r_off == pytest.approx(3000.0, rel=0.1)


def test_access_transistor_recovered_within_ci():
    truth = {"kp": 150e-6, "vt": 0.45}
    vg, vd = np.meshgrid(np.linspace(0.6, 1.8, 7), np.linspace(0.05, 1.5, 9))
    vg, vd = vg.ravel(), vd.ravel()
    i = AccessTransistor(**truth).current(vg, vd, 0.0)[0]
    rng = np.random.default_rng(2)
    data = TransistorSweep(vg, vd, np.zeros_like(vd), i * (1 + 0.01 * rng.normal(size=i.size)))
    result = fit("access_transistor", data, ["kp", "vt"], starts=2)
    _inside(result, truth)


def test_parameter_batch_matches_single_models():
    base = DriftDiffusion(x0=0.5)
    values = np.array([base.param_values, DriftDiffusion(x0=0.3, mobility=5e-14).param_values])
    batch = ParameterBatch(base, values)
    amps = np.tile(np.r_[np.full(4, 1.0), np.full(4, -1.0)], (2, 1))
    together = pulse_states(batch, amps, 0.01, 0.01, 5e-4)
    for k, m in enumerate((DriftDiffusion(x0=0.5), DriftDiffusion(x0=0.3, mobility=5e-14))):
        alone = pulse_states(m, amps[k : k + 1], 0.01, 0.01, 5e-4)[0]
        # the batch shares one substep count (its stiffest member's): equal to the integration accuracy
        np.testing.assert_allclose(together[k], alone, rtol=1e-5)
    # the sampled-sweep integrator agrees with the reference (Radau) face
    t = np.linspace(0, 4 * np.pi / 10, 400)
    v = np.sin(10 * t)
    x = sweep_states(DriftDiffusion(), t, v)[0]
    ref = DriftDiffusion().simulate(lambda tt: np.sin(10 * np.asarray(tt)), t[-1], t_eval=t)
    # one RK4 step per sample across the window's 1 mV direction switch at each zero crossing: ~4e-5
    assert np.max(np.abs(x - ref["x"])) < 1e-4


def test_write_fit_gives_three_faces_and_a_loadable_python_face(tmp_path):
    v = np.linspace(-1.2, 1.2, 31)
    i = Selector(i0=3e-9).current(v)
    result = fit("selector", Sweep(v, i * (1 + 1e-3 * np.sin(7 * v))), ["i0"], residual="log", starts=1)
    paths = {p.name for p in write_fit(result, tmp_path)}
    assert {"fit.json", "params.json", "ms_selector.sub", "ms_selector_va.va", "fit.csv", "residuals.png"} <= paths
    loaded = load_params(tmp_path / "params.json")
    assert isinstance(loaded, Selector) and loaded.params.i0 == pytest.approx(result.estimate("i0")["value"])
    sub = (tmp_path / "ms_selector.sub").read_text()
    assert f"i0={loaded.params.i0:.6e}"[:9] in sub.replace("i0=", "i0=") or "i0=" in sub
    assert loaded.spice_subckt() == sub and loaded.verilog_a() == (tmp_path / "ms_selector_va.va").read_text()
    report = json.loads((tmp_path / "fit.json").read_text())
    assert report["estimates"][0]["name"] == "i0" and "linearised" in report["confidence_note"]


def _write(path, text):
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    "kind, text, message",
    [
        ("sweep", "v,i\n", "no data rows"),
        ("sweep", "1,2\n3,4\n", "missing column"),
        ("sweep", "v,current\n0,1\n1,2\n", "missing column"),
        ("sweep", "v,i,q\n0,1,2\n1,2,3\n", "unknown column"),
        ("sweep", "v,i\n0,1\n1,abc\n", "row 2"),
        ("sweep", "t,v,i\n0,0,0\n0,1,1\n", "strictly increasing"),
        ("pulses", "pulse,amplitude,width,g\n1,1,1e-3,1e-4\n3,1,1e-3,1e-4\n", "pulse must count"),
        ("pulses", "pulse,amplitude,width,g\n1,1,0,1e-4\n", "width"),
        ("pulses", "pulse,amplitude,width,g\n1,1,1e-3,-1e-4\n", "g must"),
        ("pulses", "pulse,amplitude,width,g\n0,1,1e-3,1e-4\n1,1,1e-3,1e-4\n", "amplitude must be 0"),
    ],
)
def test_bad_csv_gives_a_clear_error(tmp_path, capsys, kind, text, message):
    path = _write(tmp_path / "bad.csv", text)
    model = "selector" if kind == "sweep" else "drift_diffusion"
    assert main(["fit", model, f"--{kind}", path, "--free", "i0" if kind == "sweep" else "mobility"]) == 2
    err = capsys.readouterr().err
    assert message in err and "bad.csv" in err


def test_cli_errors_name_the_problem(tmp_path, capsys):
    sweep = _write(tmp_path / "s.csv", "# a comment\nv [V];i (A)\n0;0\n0.5;1e-6\n1;5e-6\n")
    pulses = _write(tmp_path / "p.csv", "pulse,amplitude,width,g\n1,1,1e-3,1e-4\n2,1,1e-3,2e-4\n")
    for argv, message in (
        (["fit", "nomodel", "--sweep", sweep, "--free", "i0"], "unknown model"),
        (["fit", "selector", "--free", "i0"], "give the data"),
        (["fit", "selector", "--sweep", sweep, "--free", "nope"], "unknown parameter"),
        (["fit", "selector", "--sweep", sweep, "--free", "i0", "--set", "v0"], "NAME=VALUE"),
        (["fit", "selector", "--sweep", sweep, "--free", "i0", "--set", "v0=abc"], "expected a number"),
        (["fit", "selector", "--sweep", sweep, "--free", "i0", "--bounds", "i0=1"], "LOW:HIGH"),
        (["fit", "selector", "--sweep", sweep, "--free", "i0", "--bounds", "v0=0:1"], "not being fitted"),
        (["fit", "selector", "--pulses", pulses, "--free", "i0"], "has no state"),
        (["fit", "drift_diffusion", "--sweep", sweep, "--free", "r_on"], "needs a t column"),
    ):
        assert main(argv) == 2, argv
        assert message in capsys.readouterr().err, argv


def test_cli_fit_writes_the_folder(tmp_path, capsys):
    v = np.linspace(-1.5, 1.5, 31)
    rows = "\n".join(f"{a},{b}" for a, b in zip(v, Selector(i0=2e-9).current(v)))
    sweep = _write(tmp_path / "s.csv", "v,i\n" + rows + "\n")
    out = tmp_path / "out"
    assert main(["fit", "selector", "--sweep", sweep, "--free", "i0", "--residual", "log", "--starts", "1",
                 "-o", str(out)]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert "95% CI" in text and (out / "ms_selector_va.va").is_file()
    assert load_params(out / "params.json").params.i0 == pytest.approx(2e-9, rel=1e-4)
