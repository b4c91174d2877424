"""A designer's own netlist (control block, .meas, relative include of a model in a subfolder, .ac)
runs unmodified through `memspice run` from any working directory, equal to plain `ngspice -b` (issue 9)."""

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from memspice.analysis import Waveforms
from memspice.cli import main
from memspice.spice import read_raw_plots, run

from .conftest import INFO, needs_shared

FIXTURE = Path(__file__).parent / "data" / "thirdparty"
NETLIST = "diode_filter.cir"


@pytest.fixture(scope="module")
def plain_ngspice(tmp_path_factory):
    """Plain `ngspice -b` in a copy of the fixture folder: its measurements, printed op value and AC raw file."""
    if INFO.executable is None:
        pytest.skip("ngspice not installed (scripts/install_system.sh): nothing to compare against")
    work = tmp_path_factory.mktemp("plain") / "thirdparty"
    shutil.copytree(FIXTURE, work)
    out = subprocess.run(
        [INFO.executable, "-b", NETLIST], cwd=work, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    ).stdout
    meas = {}
    for name, value in re.findall(r"^(gain_1k|f3db|phase_1k)\s*=\s*(\S+)", out, re.M):
        meas.setdefault(name, float(value))  # ngspice -b re-runs the analyses after the block: keep the first
    v_out = float(re.search(r"^v\(out\) = (\S+)", out, re.M).group(1))
    (ac,) = read_raw_plots(work / "diode_filter_ac.raw")
    return meas, v_out, ac


def _check(meas, plots, plain):
    plain_meas, plain_v_out, plain_ac = plain
    assert set(plain_meas) == {"gain_1k", "f3db", "phase_1k"}
    for name, value in plain_meas.items():
        assert meas[name] == pytest.approx(value, rel=1e-5), name  # ngspice prints 6 digits
    assert plots["op1"]["v(out)"][0] == pytest.approx(plain_v_out, rel=1e-6)
    ac = plots["ac1"]
    np.testing.assert_allclose(ac.axis, plain_ac.axis, rtol=1e-12)
    np.testing.assert_allclose(ac["v(out)"], plain_ac["v(out)"], rtol=1e-9, atol=1e-15)
    assert np.iscomplexobj(ac["v(out)"])


@pytest.mark.parametrize("cwd", ["fixture_parent", "unrelated"])
def test_memspice_run_cli_matches_plain_ngspice(plain_ngspice, tmp_path, monkeypatch, capsys, cwd):
    here = FIXTURE.parent if cwd == "fixture_parent" else tmp_path
    monkeypatch.chdir(here)
    target = Path("thirdparty") / NETLIST if cwd == "fixture_parent" else FIXTURE / NETLIST
    npz = tmp_path / "ac.npz"
    assert main(["run", str(target), "--plot", "ac1", "--npz", str(npz)]) == 0
    out = capsys.readouterr().out
    measured = {m: float(v) for m, v in re.findall(r"\.meas (\S+)\s+(\S+)", out)}
    ac = Waveforms.from_npz(npz)
    _check(measured, {"ac1": ac, "op1": _op_from_python()}, plain_ngspice)
    assert not (FIXTURE / "diode_filter_ac.raw").exists()  # the block's own write went to the private folder


def _op_from_python():
    return run(FIXTURE / NETLIST).plots["op1"]


@pytest.mark.parametrize("mode", ["batch", pytest.param("shared", marks=needs_shared)])
def test_python_api_matches_plain_ngspice(plain_ngspice, mode, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = run(FIXTURE / NETLIST, mode=mode)
    assert list(res.plots) == ["ac1", "op1"]
    _check(res.measurements, res.plots, plain_ngspice)
    assert list(tmp_path.iterdir()) == []  # the block's write went to the run's private folder
