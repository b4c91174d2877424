"""Waveforms in the bottom layer (issue 14): DataFrame export with units, plots in engineering units."""

import matplotlib

matplotlib.use("Agg")  # tests save figures; notebooks show them inline

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from memspice.core.waveforms import Waveforms, engineering_scale  # noqa: E402


@pytest.fixture
def tran():
    t = np.linspace(0, 20e-6, 201)
    return Waveforms(
        t,
        {
            "v(out0)": 0.3 * np.sin(2e5 * t),
            "i(vsense0)": 40e-6 * np.cos(2e5 * t),
            "v(spk0)": np.where(t > 10e-6, 0.5, 0.0),
        },
        title="tran1",
    )


def test_to_dataframe_uses_the_axis_as_index_and_keeps_units(tran):
    df = tran.to_dataframe()
    assert df.index.name == "time" and np.array_equal(df.index.to_numpy(), tran.time)
    assert list(df.columns) == ["v(out0)", "i(vsense0)", "v(spk0)"]
    assert np.array_equal(df["i(vsense0)"].to_numpy(), tran["i(vsense0)"])
    assert df.attrs["units"] == {"time": "s", "v(out0)": "V", "i(vsense0)": "A", "v(spk0)": "V"}
    assert df.attrs["title"] == "tran1"
    only = tran.to_dataframe(["I(VSENSE0)"])
    assert list(only.columns) == ["i(vsense0)"] and only.attrs["units"] == {"time": "s", "i(vsense0)": "A"}
    with pytest.raises(ValueError, match="v\\(nosuch\\).*available"):
        tran.to_dataframe(["v(nosuch)"])


def test_to_dataframe_keeps_ac_results_complex():
    f = np.logspace(0, 6, 7)
    w = Waveforms(f, {"v(out)": 1 / (1 + 1j * f / 1e3)}, "frequency")
    df = w.to_dataframe()
    assert np.iscomplexobj(df["v(out)"].to_numpy()) and df.attrs["units"]["frequency"] == "Hz"


def test_engineering_scale_picks_prefixes():
    assert engineering_scale([2e-5], "s") == (pytest.approx(1e6), "µs")  # the SI symbol, not "u" (issue 21)
    assert engineering_scale([40e-6], "A") == (pytest.approx(1e6), "µA")
    assert engineering_scale([0.3], "V") == (pytest.approx(1e3), "mV")
    assert engineering_scale([2000.0], "Ohm") == (pytest.approx(1e-3), "kOhm")
    assert engineering_scale([0.0], "V") == (1.0, "V") and engineering_scale([5.0], "") == (1.0, "")


def test_plot_groups_by_unit_in_engineering_units(tran):
    fig = tran.plot()
    axes = fig.axes
    assert len(axes) == 2  # volts and amperes
    # a panel of several signals names the quantity and has a legend; a single-signal panel names the signal
    assert axes[0].get_ylabel() == "voltage (mV)" and axes[1].get_ylabel() == "i(vsense0) (µA)"
    assert axes[-1].get_xlabel() == "time (µs)"
    line = axes[1].lines[0]
    assert np.allclose(line.get_xdata(), tran.time * 1e6) and np.allclose(line.get_ydata(), tran["i(vsense0)"] * 1e6)
    assert {t.get_text() for t in axes[0].get_legend().get_texts()} == {"v(out0)", "v(spk0)"}
    plt.close(fig)


def test_plot_into_given_axes_and_selected_signals(tran):
    fig, ax = plt.subplots()
    out = tran.plot(["v(spk0)"], ax=ax)
    assert out is fig and len(ax.lines) == 1 and ax.get_ylabel() == "voltage (mV)"
    with pytest.raises(ValueError, match="available"):
        tran.plot(["v(nosuch)"])
    plt.close(fig)


def test_plot_of_an_operating_point_draws_bars_and_of_ac_a_log_axis():
    op = Waveforms(np.zeros(1), {"i(vsense0)": [3e-5], "i(vsense1)": [5e-5]}, "index", title="op1")
    fig = op.plot()
    bars = fig.axes[0].patches
    assert [round(b.get_height(), 6) for b in bars] == [30.0, 50.0] and fig.axes[0].get_ylabel() == "current (µA)"
    plt.close(fig)
    f = np.logspace(0, 6, 7)
    ac = Waveforms(f, {"v(out)": 1 / (1 + 1j * f / 1e3)}, "frequency")
    fig = ac.plot()  # Bode plot: magnitude in dB and phase in degrees on a log frequency axis (issue 21)
    mag, phase = fig.axes
    assert mag.get_xscale() == "log" and phase.get_xscale() == "log"
    assert np.allclose(mag.lines[0].get_ydata(), 20 * np.log10(np.abs(ac["v(out)"])))
    assert np.allclose(phase.lines[0].get_ydata(), np.degrees(np.angle(ac["v(out)"])))
    assert "dB" in mag.get_ylabel() and "v(out)" in mag.get_ylabel() and "°" in phase.get_ylabel()
    assert phase.get_xlabel() == "frequency (Hz)"
    plt.close(fig)


def test_plot_limits_the_default_number_of_signals():
    from memspice.core.waveforms import MAX_PLOTTED

    w = Waveforms(np.arange(3.0), {f"v(n{k})": np.arange(3.0) * k for k in range(MAX_PLOTTED + 5)})
    fig = w.plot()
    assert len(fig.axes[0].lines) == MAX_PLOTTED and f"of {MAX_PLOTTED + 5}" in fig.axes[0].get_title()
    plt.close(fig)


def test_single_signal_panels_are_labelled_with_the_signal(tran):
    fig = tran.plot(["i(vsense0)"])
    assert fig.axes[0].get_ylabel() == "i(vsense0) (µA)"
    plt.close(fig)
    op = Waveforms(np.zeros(1), {"v(out)": [0.25]}, "index")
    fig = op.plot()
    assert fig.axes[0].get_ylabel() == "v(out) (mV)"
    plt.close(fig)


def test_unknown_signals_suggest_close_matches_not_every_name():
    many = Waveforms(np.arange(3.0), {f"v(n{k})": np.arange(3.0) for k in range(900)} | {"i(vsense3)": np.zeros(3)})
    with pytest.raises(ValueError) as info:
        many.select(["i(vsens3)"])
    text = str(info.value)
    assert "did you mean i(vsense3)" in text and "901 signals" in text and "v(n899)" not in text
    few = Waveforms(np.arange(3.0), {"v(a)": np.zeros(3), "v(b)": np.ones(3)})
    with pytest.raises(ValueError, match=r"available: v\(a\), v\(b\)"):
        few.select("v(c)")
    assert few.select(["V(B)"]).names == ["v(b)"] and few.select(None).names == ["v(a)", "v(b)"]


def test_csv_columns_carry_units_as_name_unit(tran):
    import io

    import pandas as pd

    df = pd.read_csv(io.StringIO(tran.to_csv()))
    assert list(df.columns) == ["time_s", "v(out0)_V", "i(vsense0)_A", "v(spk0)_V"]
    assert np.allclose(df["i(vsense0)_A"], tran["i(vsense0)"])


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "ascii"])
@pytest.mark.parametrize("kind", ["tran", "ac", "op"])
def test_to_raw_round_trips_through_memspice_and_spicelib(tmp_path, binary, kind, tran):
    from memspice.spice.raw import read_raw

    f = np.logspace(0, 6, 13)
    waves = {
        "tran": tran,
        "ac": Waveforms(f, {"v(out)": 1 / (1 + 1j * f / 1e3), "i(vin)": 1e-3 / (1 + 1j * f / 1e4)}, "frequency"),
        "op": Waveforms(np.zeros(1), {"v(a)": [1.0], "i(v1)": [-5e-4]}, "index"),
    }[kind]
    path = tmp_path / f"{kind}.raw"
    waves.to_raw(path, binary=binary)
    back = read_raw(path)
    assert back.axis_name == waves.axis_name and back.names == waves.names
    for name in waves.names:
        assert np.allclose(back[name], waves[name], rtol=1e-15, atol=0)
    spicelib = pytest.importorskip("spicelib", reason="spicelib (test extra) reads raw files as viewers do")
    raw = spicelib.RawRead(str(path))
    for name in waves.names:
        got = np.asarray(raw.get_trace(name).get_wave())
        assert np.allclose(got, waves[name], rtol=1e-12), name
    if kind != "op":
        assert np.allclose(np.real(raw.get_axis()), waves.axis)
