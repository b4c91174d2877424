"""Seed-figure reproductions: numbers checked on small versions (full studies: memspice reproduce)."""

import numpy as np

from memspice.analysis import ddk, reproductions


def test_hysteresis_pinched_and_shrinking():
    table, fig = reproductions.hysteresis((10.0, 40.0, 160.0))
    areas = table.loop_area_W.values
    assert areas[0] > areas[1] > areas[2] > 0
    assert np.all(table.max_abs_i_at_v0_A < 1e-9)


def test_ddk_fit_recovers_known_alpha_beta():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, 100)
    x[0], x[1] = 0.0, 1.0  # already spans [0, 1]: normalisation leaves it unchanged
    y = ddk.ddk_trajectory(x, 0.02, 0.3, 0.9, 0.2)
    fit = ddk.fit_ddk(x, y)
    assert abs(fit["alpha"] - 0.02) < 0.002 and abs(fit["beta"] - 0.3) < 0.02


def test_mvm_error_grows_with_wire_resistance_and_size_for_every_cell():
    table, _ = reproductions.mvm_error(sizes=(16, 32, 64), r_wires=(0.5, 2.0))
    for cell, sub in table.groupby("cell"):
        grid = sub.pivot(index="n", columns="r_wire_ohm", values="rms_rel_error").to_numpy()
        assert np.all(np.diff(grid, axis=0) > 0), cell
        assert np.all(np.diff(grid, axis=1) > 0), cell


def test_reproduce_cli_writes_figure_table_and_headline_json(tmp_path):
    import json

    from memspice.cli import main

    assert main(["reproduce", "hysteresis", "-o", str(tmp_path)]) == 0
    assert (tmp_path / "hysteresis.png").stat().st_size > 10_000
    assert (tmp_path / "hysteresis.csv").read_text().startswith("w0_rad_s")
    headline = json.loads((tmp_path / "hysteresis.json").read_text())
    assert headline["area_falls_with_frequency"] is True
    assert len(headline["loop_area_W"]) == 3 and headline["loop_area_W"][0] > headline["loop_area_W"][2] > 0


def test_every_registered_reproduction_resolves_to_a_function():
    from memspice.reproduce import REGISTRY, available, reproduction_function

    for name in available():
        assert callable(reproduction_function(name)), name
    assert set(available()) == set(REGISTRY)  # every registered reproduction is installed


def test_reproduction_save_is_atomic_and_json_is_plain(tmp_path):
    import json

    import matplotlib.pyplot as plt
    import pandas as pd

    from memspice.analysis.reproduction import Reproduction

    fig = plt.figure()
    rep = Reproduction(
        fig,
        {"x": np.float64(1.5), "n": np.int64(3), "bad": float("nan"), "v": np.arange(2)},
        pd.DataFrame({"a": [1]}),
        {"extra": pd.DataFrame({"b": [2]})},
    )
    paths = rep.save("demo", tmp_path)
    assert sorted(p.name for p in paths) == ["demo.csv", "demo.json", "demo.png", "demo_extra.csv"]
    assert json.loads((tmp_path / "demo.json").read_text()) == {"x": 1.5, "n": 3, "bad": None, "v": [0, 1]}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left
    plt.close(fig)


def test_reproduction_options_come_from_the_function_signature(monkeypatch, tmp_path):
    """``memspice reproduce NAME --opt value``: options are the function's keywords, typed by annotation."""
    from pathlib import Path

    import pytest

    from memspice import reproduce as registry
    from memspice.analysis.reproduction import Reproduction
    from memspice.cli import main

    seen = {}

    def fake(quick: bool = False, seed: int = 0, data: Path | None = None, count: int = 3, scale: float = 1.0):
        import matplotlib.pyplot as plt

        seen.update(quick=quick, seed=seed, data=data, count=count, scale=scale)
        return Reproduction(figure=plt.figure(), headline={"count": count})

    monkeypatch.setitem(registry.REGISTRY, "fake", "fake_module:fake")
    monkeypatch.setattr(registry, "reproduction_function", lambda name: fake)
    assert set(registry.options("fake")) == {"data", "count", "scale"}
    opts = registry.parse_options("fake", ["--data", "clip.npy", "--count=5", "--scale", "2.5"])
    assert opts == {"data": Path("clip.npy"), "count": 5, "scale": 2.5}
    for words, message in (
        (["--colour", "red"], "unknown option --colour; options of fake: --data, --count, --scale"),
        (["--count"], "--count needs a value"),
        (["--count", "many"], "--count: invalid literal"),
        (["stray"], "unexpected argument 'stray'"),
    ):
        with pytest.raises(ValueError, match=message):
            registry.parse_options("fake", words)
    with pytest.raises(ValueError, match="has no option"):
        registry.reproduce("fake", bogus=1)
    assert main(["reproduce", "fake", "--count", "7", "--quick", "-o", str(tmp_path)]) == 0
    assert seen["count"] == 7 and seen["quick"] is True
    assert main(["reproduce", "fake", "--colour", "red"]) == 2  # a clear error, not a traceback


def test_reproduce_name_help_lists_that_reproductions_options(monkeypatch, capsys):
    """``memspice reproduce NAME --help``: the command's help, then NAME's own options and docstring."""
    from pathlib import Path

    import pytest

    from memspice import reproduce as registry
    from memspice.cli import main

    def fake(quick: bool = False, seed: int = 0, data: Path | None = None, count: int = 3, flag: bool = True):
        """A fake reproduction: counts things."""

    monkeypatch.setitem(registry.REGISTRY, "fake", "fake_module:fake")
    monkeypatch.setattr(registry, "reproduction_function", lambda name: fake)
    with pytest.raises(SystemExit) as stop:
        main(["reproduce", "fake", "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert "usage: memspice reproduce" in out
    for line in ("--data PATH (default none)", "--count INT (default 3)", "--flag TRUE|FALSE (default True)"):
        assert line in out
    assert "A fake reproduction: counts things." in out
    with pytest.raises(SystemExit):  # without a name: the command's help only
        main(["reproduce", "--help"])
    out = capsys.readouterr().out
    assert "usage: memspice reproduce" in out and "options of" not in out
    monkeypatch.undo()  # the real registry: every option of a system is listed with its type
    assert "--matrix PATH (default none)" in registry.option_lines("refine")
    assert "--dataset TEXT (default JapaneseVowels)" in registry.option_lines("ddk-network")
