"""Own data from the command line (issue 14): netlist --weights/--inputs, read, sweep, --version, --figure."""

import numpy as np
import pandas as pd
import pytest

from memspice.circuits.crossbar import Crossbar
from memspice.circuits.datafiles import map_weights
from memspice.cli import main
from memspice.solver import solve_dc

from .conftest import needs_ngspice, needs_osdi

RNG = np.random.default_rng(7)
W = RNG.uniform(-1, 1, (6, 3))  # 6 word lines, 3 signed outputs
X = RNG.uniform(0, 0.2, (4, 6))  # 4 vectors x 6 word lines


@pytest.fixture
def files(tmp_path):
    np.savetxt(tmp_path / "w.csv", W, delimiter=",", header="o0,o1,o2", comments="")
    np.save(tmp_path / "x.npy", X)
    return tmp_path


def _read(path):
    return pd.read_csv(path, index_col="vector")


def _read_command(files, out, *options):
    """``memspice read`` of the fixture's weights and inputs into ``out``; returns the exit code."""
    return main(["read", "--weights", str(files / "w.csv"), "--inputs", str(files / "x.npy"), "-o", str(out), *options])


def test_version_comes_from_the_package_metadata(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.strip() == f"memspice {version('memspice')}"


def test_cell_names_are_case_insensitive(capsys):
    assert main(["netlist", "crossbar", "--rows", "2", "--cols", "2", "--cell", "1s1r"]) == 0
    assert "1S1R" in capsys.readouterr().out


def test_read_sparse_gives_vectors_by_outputs_with_the_stated_mapping(files, capsys):
    out = files / "out.csv"
    assert _read_command(files, out, "--backend", "sparse", "--r-word", "2", "--r-bit", "2") == 0
    text = capsys.readouterr().out
    assert "column pairs" in text and "on sparse" in text
    df = _read(out)
    assert list(df.columns) == ["i0_A", "i1_A", "i2_A"] and df.shape == (4, 3)
    g, mapping = map_weights(W)
    sol = solve_dc(Crossbar(g, r_word=2.0, r_bit=2.0), X)
    assert np.allclose(df.to_numpy(), sol.output_currents[:, 0::2] - sol.output_currents[:, 1::2], rtol=1e-12)
    # without wires the differential outputs are exactly s W^T v
    assert _read_command(files, out, "--backend", "sparse", "--r-word", "0", "--r-bit", "0") == 0
    assert np.allclose(_read(out).to_numpy(), mapping.scale * X @ W, rtol=1e-9, atol=1e-15)


def test_read_with_dac_tia_and_adc(files, capsys):
    out = files / "p.csv"
    options = ["--backend", "sparse", "--r-word", "0", "--r-bit", "0", "--dac-bits", "1", "--dac-full-scale", "0.2"]
    assert _read_command(files, out, *options, "--tia", "ideal", "--r-f", "1000", "--adc-bits", "4") == 0
    df = _read(out)
    _, mapping = map_weights(W)
    x_dac = np.where(X >= 0.1, 0.2, 0.0)  # 1-bit DAC: 0 or v_max
    i = mapping.scale * x_dac @ W
    assert np.allclose(df[[f"i{j}_A" for j in range(3)]].to_numpy(), i, atol=1e-15)
    v = df[[f"v_out{j}_V" for j in range(3)]].to_numpy()
    assert np.allclose(v, -1000 * i, atol=1e-12)
    codes = df[[f"code{j}" for j in range(3)]].to_numpy()
    assert codes.dtype.kind == "i" and np.abs(codes).max() == 7  # signed 4 bits, full scale = largest |v|
    lsb = np.abs(v).max() / 7
    assert np.allclose(df[[f"adc{j}_V" for j in range(3)]].to_numpy(), codes * lsb)
    assert np.all(np.abs(codes * lsb - v) <= lsb / 2 + 1e-12)


def test_transposed_inputs_are_refused_with_the_option_named(files, capsys):
    np.save(files / "t.npy", X.T)
    assert (
        main(["read", "--weights", str(files / "w.csv"), "--inputs", str(files / "t.npy"), "-o", str(files / "o.csv")])
        == 2
    )
    err = capsys.readouterr().err
    assert "--inputs" in err and "transposed" in err


@needs_ngspice
def test_read_on_ngspice_agrees_with_the_sparse_solver(files, capsys):
    a, b = files / "a.csv", files / "b.csv"
    common = ["read", "--weights", str(files / "w.csv"), "--inputs", str(files / "x.npy"), "--cell", "1S1R"]
    assert main(common + ["-o", str(a), "--backend", "ngspice"]) == 0
    assert main(common + ["-o", str(b), "--backend", "sparse"]) == 0
    assert "on ngspice" in capsys.readouterr().out
    assert np.allclose(_read(a).to_numpy(), _read(b).to_numpy(), rtol=1e-6, atol=1e-12)


@needs_ngspice
def test_read_signed_inputs_on_the_default_backend_gives_the_right_numbers(files, capsys):
    """Small arrays read on ngspice by default; signed input vectors were misread there (issue 20)."""
    x = np.array([[0.1, -0.05, 0.2, 0.0, -0.2, 0.15], [-0.1, 0.1, -1e-3, 0.05, 0.2, -0.15], *X])
    np.save(files / "s.npy", x)
    a, b = files / "a.csv", files / "b.csv"
    common = ["read", "--weights", str(files / "w.csv"), "--inputs", str(files / "s.npy"), "--r-word", "1"]
    assert main(common + ["-o", str(a)]) == 0
    assert "on ngspice" in capsys.readouterr().out
    assert main(common + ["-o", str(b), "--backend", "sparse"]) == 0
    np.testing.assert_allclose(_read(a).to_numpy(), _read(b).to_numpy(), rtol=1e-8, atol=1e-15)


@needs_ngspice
def test_netlist_from_files_runs_one_operating_point_per_vector(files, capsys):
    cir = files / "x.cir"
    assert (
        main(
            ["netlist", "crossbar", "--weights", str(files / "w.csv"), "--inputs", str(files / "x.npy"), "-o", str(cir)]
        )
        == 0
    )
    text = cir.read_text()
    assert "column pairs" in text and text.count("\nop\n") == len(X)
    from memspice.spice import run

    res = run(cir)
    assert list(res.plots) == [f"op{k + 1}" for k in range(len(X))]
    g, _ = map_weights(W)
    sol = solve_dc(Crossbar(g, r_word=1.0, r_bit=1.0), X)
    spice = np.array([[res.plots[f"op{k + 1}"][f"i(vsense{j})"][0] for j in range(6)] for k in range(len(X))])
    assert np.allclose(spice, sol.output_currents, rtol=1e-6)
    # one vector only
    assert (
        main(
            [
                "netlist",
                "crossbar",
                "--weights",
                str(files / "w.csv"),
                "--inputs",
                str(files / "x.npy"),
                "--vector",
                "2",
                "-o",
                str(cir),
            ]
        )
        == 0
    )
    assert ".control" not in cir.read_text()
    assert np.allclose([run(cir).waveforms[f"i(vsense{j})"][0] for j in range(6)], sol.output_currents[2], rtol=1e-6)


def test_netlist_inputs_need_weights_and_signed_is_decided_by_them(files, capsys):
    assert main(["netlist", "crossbar", "--inputs", str(files / "x.npy")]) == 2
    assert "--inputs needs --weights" in capsys.readouterr().err
    assert main(["netlist", "crossbar", "--weights", str(files / "w.csv"), "--signed"]) == 2
    assert "--signed" in capsys.readouterr().err


def test_sweep_grid_times_samples_and_seeded(tmp_path, capsys):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    argv = [
        "sweep",
        "--n",
        "6",
        "--variation",
        "0",
        "0.2",
        "--r-word",
        "0",
        "1",
        "--r-bit",
        "0",
        "--samples",
        "2",
        "--scheduler",
        "synchronous",
        "--seed",
        "3",
    ]
    assert main(argv + ["-o", str(a)]) == 0 and main(argv + ["-o", str(b)]) == 0
    ta, tb = pd.read_csv(a), pd.read_csv(b)
    assert len(ta) == 2 * 2 * 2 and ta.equals(tb)
    ideal = ta[(ta.variation == 0) & (ta.r_word_ohm == 0)]
    assert np.all(ideal.mvm_max_rel_error < 1e-12)  # no variation, no wires: exact
    assert np.all(ta[ta.variation == 0.2].mvm_max_rel_error > 1e-3)
    assert "mvm" in capsys.readouterr().out.lower()


def test_sweep_on_own_data(files, capsys):
    pos = files / "wpos.npy"
    np.save(pos, np.abs(W))
    out = files / "s.csv"
    assert (
        main(
            [
                "sweep",
                "--weights",
                str(pos),
                "--inputs",
                str(files / "x.npy"),
                "--variation",
                "0",
                "0.1",
                "--r-word",
                "0",
                "--r-bit",
                "0",
                "--samples",
                "3",
                "--scheduler",
                "synchronous",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    table = pd.read_csv(out)
    assert len(table) == 6 and "conductances" not in table.columns
    assert np.all(table[table.variation == 0].mvm_max_rel_error < 1e-12)
    assert table[table.variation == 0.1].mvm_max_rel_error.nunique() == 3  # each sample its own seed
    assert main(["sweep", "--weights", str(pos), "-o", str(out)]) == 2
    assert "--inputs" in capsys.readouterr().err


@needs_ngspice
def test_run_writes_a_figure(tmp_path, capsys):
    cir = tmp_path / "rc.cir"
    cir.write_text("rc\nV1 a 0 PULSE(0 1 0 1n 1n 5u 10u)\nR1 a b 1k\nC1 b 0 1n\n.tran 10n 20u\n.end\n")
    png = tmp_path / "rc.png"
    assert main(["run", str(cir), "--signals", "v(b)", "--figure", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    assert main(["run", str(cir), "--figure", str(tmp_path / "rc.xyz")]) == 2
    assert "--figure" in capsys.readouterr().err


@needs_osdi
def test_verilog_a_netlist_from_files_names_osdi_without_a_folder(files, capsys):
    cir, beh = files / "va.cir", files / "beh.cir"
    common = [
        "netlist",
        "crossbar",
        "--weights",
        str(files / "w.csv"),
        "--inputs",
        str(files / "x.npy"),
        "--vector",
        "1",
        "--cell",
        "1S1R",
    ]
    assert main(common + ["--face", "veriloga", "-o", str(cir)]) == 0
    assert main(common + ["-o", str(beh)]) == 0
    tags = [ln for ln in cir.read_text().splitlines() if ln.startswith("* memspice-osdi:")]
    assert tags and all("/" not in t and t.endswith(".osdi") for t in tags)
    va_npz, beh_npz = files / "va.npz", files / "beh.npz"
    assert main(["run", str(cir), "--npz", str(va_npz)]) == 0 and main(["run", str(beh), "--npz", str(beh_npz)]) == 0
    from memspice.core.waveforms import Waveforms

    a, b = Waveforms.from_npz(va_npz), Waveforms.from_npz(beh_npz)
    assert all(np.isclose(a[f"i(vsense{j})"][0], b[f"i(vsense{j})"][0], rtol=1e-6) for j in range(6))
