"""Measurements, plots and Dask sweeps."""

import numpy as np
import pytest

from memspice.analysis import metrics, plots
from memspice.analysis.sweeps import monte_carlo_crossbar, point_seeds, run_sweep
from memspice.circuits.crossbar import Crossbar
from memspice.solver import solve_dc


def test_metrics():
    t = np.linspace(0, 1, 1001)
    y = 1 - np.exp(-t / 0.1)
    assert metrics.settling_time(t, y, 0.01, final=1.0) == pytest.approx(0.1 * np.log(100), abs=2e-3)
    assert np.allclose(metrics.spike_times(t, np.sin(2 * np.pi * 3 * t), 0.5), (np.arange(3) + 1 / 12) / 3, atol=1e-3)
    assert metrics.firing_rate([0.1, 0.2, 0.3], 1.0) == pytest.approx(10.0)
    assert metrics.energy(t, np.ones_like(t), 2 * np.ones_like(t)) == pytest.approx(2.0)
    xbar = Crossbar(np.full((4, 4), 1e-3), r_word=5.0, r_bit=5.0)
    v = np.full(4, 0.2)
    drop = metrics.ir_drop_map(solve_dc(xbar, v))
    assert drop.shape == (4, 4) and np.all(drop > 0) and drop[0, 0] < drop[0, -1]
    e = metrics.mvm_error(solve_dc(xbar, v).output_currents, xbar.ideal_outputs(v))
    assert 0 < e["rms_rel"] <= e["max_rel"] < 1


def test_plots_return_figures():
    import matplotlib.figure

    for fig in (
        plots.crossbar_heatmap(np.eye(3), "G", "S"),
        plots.raster([[1e-6], [2e-6, 3e-6]]),
        plots.xy([1, 2, 3], {"a": [1, 2, 3]}, "x (1)", "y (1)"),
    ):
        assert isinstance(fig, matplotlib.figure.Figure)


def _square(x, seed):
    return {"y": x * x, "noise": float(np.random.default_rng(seed).normal())}


def test_sweep_is_seeded_and_order_independent():
    pts = [{"x": float(k)} for k in range(6)]
    a = run_sweep(_square, pts, seed=1, scheduler="threads", progress=False)
    b = run_sweep(_square, pts, seed=1, scheduler="synchronous", progress=False)
    assert a.equals(b) and list(a["y"]) == [k * k for k in range(6)]
    assert point_seeds(1, 3) == point_seeds(1, 3) != point_seeds(2, 3)


def test_monte_carlo_64x64_100_points_through_dask_is_reproducible():
    a = monte_carlo_crossbar(samples=100, n=64, sigma=0.1, seed=7, progress=False)
    b = monte_carlo_crossbar(samples=100, n=64, sigma=0.1, seed=7, progress=False, scheduler="threads")
    assert len(a) == 100
    assert a.equals(b)
    assert a["mvm_rms_rel_error"].std() > 0  # the samples really differ


def test_every_plot_helper_returns_the_figure_and_accepts_ax():
    """One convention (issue 21): a plot helper returns the Figure; with ``ax=`` it draws there and returns
    ``ax.figure``."""
    import inspect

    import matplotlib.figure
    import matplotlib.pyplot as plt
    import pandas as pd

    from memspice.core.waveforms import Waveforms

    t = np.linspace(0, 1e-6, 11)
    dev = Waveforms(t, {"v": np.sin(t * 1e6), "i": 1e-5 * np.sin(t * 1e6), "x": t * 1e5})
    sweep = pd.DataFrame({"r_word_ohm": [0.0, 1.0, 0.0, 1.0], "sample": [0, 0, 1, 1], "seed": [1, 2, 3, 4]})
    sweep["mvm_max_rel_error"] = [1e-3, 2e-2, 1.1e-3, 2.1e-2]
    calls = {
        "iv_loop": lambda ax: plots.iv_loop(dev, ax=ax),
        "state_vs_time": lambda ax: plots.state_vs_time(dev, ax=ax),
        "crossbar_heatmap": lambda ax: plots.crossbar_heatmap(np.eye(3), "G", "S", ax=ax),
        "raster": lambda ax: plots.raster([[1e-7], [2e-7]], ax=ax),
        "xy": lambda ax: plots.xy([1, 2], {"a": [1, 2]}, "x", "y", ax=ax),
        "read_outputs": lambda ax: plots.read_outputs(np.ones((2, 3)) * 1e-5, np.ones((2, 3)) * 1.1e-5, ax=ax),
        "sweep_summary": lambda ax: plots.sweep_summary(sweep, ax=ax),
        "confusion_matrix": lambda ax: plots.confusion_matrix(np.eye(3) * 5, ax=ax),
        "Waveforms.plot": lambda ax: dev.plot(["v"], ax=ax),
    }
    public = {
        n for n, f in inspect.getmembers(plots, inspect.isfunction) if f.__module__ == plots.__name__ and n[0] != "_"
    }
    assert public - {"engineering_scale"} <= set(calls), "a new plot helper needs a line here"
    for name, call in calls.items():
        alone = call(None)
        assert isinstance(alone, matplotlib.figure.Figure), name
        fig, ax = plt.subplots()
        assert call(ax) is fig and ax.has_data(), name
        plt.close("all")


def test_confusion_matrix_is_row_normalised_on_a_fixed_scale_and_names_small_confusions():
    import matplotlib.pyplot as plt

    counts = np.array([[98, 2, 0], [10, 0, 90], [0, 0, 0]])  # a class never predicted right; an empty row
    fig = plots.confusion_matrix(counts, labels=["a", "b", "c"], title="t")
    ax = fig.axes[0]
    image = ax.images[0]
    np.testing.assert_allclose(image.get_array(), [[0.98, 0.02, 0], [0.1, 0, 0.9], [0, 0, 0]])
    assert image.get_clim() == (0.0, 1.0)  # the same scale for every matrix, whatever its largest cell
    assert sorted(t.get_text() for t in ax.texts) == ["10", "2", "90", "98"]  # zeros blank, small ones shown
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    plt.close(fig)
    with pytest.raises(ValueError, match="square"):
        plots.confusion_matrix(np.ones((2, 3)))
