"""The command line a designer meets in the first hour (issue 21): one module per subcommand, one name per
quantity, options that apply or are refused, outputs by default, files kept, errors at the user's line,
raw files for viewers, figures from every command, warnings on one line."""

import argparse
import inspect
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from memspice.cli import build_parser, commands, main
from memspice.core.waveforms import Waveforms

from .conftest import needs_ngspice

ROOT = Path(__file__).resolve().parents[1]


def _all_parsers():
    """(command path, parser) of every subcommand and netlist target."""

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield (*path, name), sub
                    yield from walk(sub, (*path, name))

    return list(walk(build_parser(), ()))


# --- structure -------------------------------------------------------------------------------------------
def test_every_subcommand_is_a_module_with_help_configure_and_run():
    found = commands()
    assert {"info", "demo", "models", "netlist", "run", "read", "sweep", "validate", "reproduce"} <= set(found)
    for name, module in found.items():
        assert module.HELP and callable(module.configure) and callable(module.run), name
        assert Path(module.__file__).name == f"{name}.py"
    assert len((ROOT / "memspice" / "cli" / "__init__.py").read_text().splitlines()) < 250  # a thin layer


def test_a_new_module_is_a_new_subcommand(tmp_path, monkeypatch, capsys):
    import memspice.cli as cli

    (tmp_path / "probe.py").write_text(
        'HELP = "a probe"\n\ndef configure(parser):\n    parser.add_argument("--x", type=int, default=1)\n\n'
        'def run(args):\n    print("probe", args.x)\n    return 0\n'
    )
    monkeypatch.setattr(cli, "__path__", [*cli.__path__, str(tmp_path)])
    monkeypatch.delitem(sys.modules, "memspice.cli.probe", raising=False)
    assert main(["probe", "--x", "7"]) == 0 and capsys.readouterr().out == "probe 7\n"
    sys.modules.pop("memspice.cli.probe", None)


def test_python_dash_m_and_the_console_script_entry_point():
    from importlib.metadata import entry_points

    proc = subprocess.run([sys.executable, "-m", "memspice", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0 and "read" in proc.stdout and "sweep" in proc.stdout
    script = [e for e in entry_points(group="console_scripts") if e.name == "memspice"]
    assert script and script[0].value == "memspice.cli:main" and script[0].load() is main


def test_no_library_logic_in_the_cli():
    """The read, sweep and header rules live in the library; the CLI modules only call them."""
    text = "\n".join(p.read_text() for p in (ROOT / "memspice" / "cli").glob("*.py"))
    for gone in ("def read_outputs", "def sweep_point", "def _header_libraries", "def _cached_osdi", "adc_quantize("):
        assert gone not in text
    from memspice.analysis.readout import read_crossbar  # noqa: F401
    from memspice.analysis.sweeps import sweep_crossbar  # noqa: F401
    from memspice.netlists.headers import header_libraries  # noqa: F401


# --- one name per quantity ---------------------------------------------------------------------------------
def test_every_option_has_help_and_one_meaning_everywhere():
    seen: dict[str, tuple] = {}
    for path, parser in _all_parsers():
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if action.help is argparse.SUPPRESS:  # a renamed option's pointer
                continue
            assert action.help, f"memspice {' '.join(path)} {action.option_strings or action.dest} has no help"
            for opt in action.option_strings:
                kind = getattr(action.type, "__name__", None), tuple(action.choices or ())
                if opt in seen and opt not in ("--cell", "--seed", "-o", "--output", "--tia"):
                    assert seen[opt][0][0] == kind[0], f"{opt}: {seen[opt][1]} and {path} parse it differently"
                seen.setdefault(opt, (kind, path))
    assert "--r-wire" not in seen and "--v-max" not in seen and "--sigma" in seen  # --sigma: --variation's alias
    assert "--dac-full-scale" in seen and "--adc-full-scale" in seen


def test_renamed_sweep_option_says_the_new_name(capsys):
    with pytest.raises(SystemExit) as info:
        main(["sweep", "--r-wire", "1"])
    assert info.value.code == 2 and "--r-word" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, option, owners",
    [
        (["netlist", "lif", "--rows", "32"], "--rows", "netlist crossbar, netlist write"),
        (["netlist", "solver", "--cell", "1T1R"], "--cell", "netlist crossbar"),
        (["netlist", "write", "--weights", "w.csv"], "--weights", "netlist crossbar"),
    ],
)
def test_inapplicable_netlist_options_are_errors(argv, option, owners, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and f"{option} does not apply to 'netlist {argv[1]}'" in err and owners in err


def test_one_default_timeout_for_python_and_the_command_line():
    from memspice import spice
    from memspice.analysis.read_cost import read_latency
    from memspice.netlists.multi_vector import read_many_ngspice
    from memspice.simulate import solve_spice

    default = spice.DEFAULT_TIMEOUT
    for func in (spice.run, spice.run_batch, solve_spice, read_many_ngspice, read_latency):
        assert inspect.signature(func).parameters["timeout"].default == default, func.__name__
    for path, parser in _all_parsers():
        for action in parser._actions:
            if "--timeout" in action.option_strings:
                assert action.default == default, path


# --- memspice run ------------------------------------------------------------------------------------------
@needs_ngspice
def test_run_shows_a_memspice_netlists_outputs_not_its_internals(tmp_path, capsys):
    cir = tmp_path / "x.cir"
    assert main(["netlist", "crossbar", "--rows", "4", "--cols", "3", "--tia", "opamp", "-o", str(cir)]) == 0
    assert "* memspice-outputs: v(out0) v(out1) v(out2)" in cir.read_text()
    capsys.readouterr()
    assert main(["run", str(cir)]) == 0
    out = capsys.readouterr().out
    printed = [ln.split()[0] for ln in out.splitlines() if ln.startswith("  v(") or ln.startswith("  i(")]
    assert printed == ["v(out0)", "v(out1)", "v(out2)"]


@needs_ngspice
def test_run_shows_top_level_nodes_of_other_netlists_and_filters_the_csv(tmp_path, capsys):
    net = tmp_path / "amp.cir"
    net.write_text(
        "two stages\n.subckt stage a b\nR1 a m 1k\nR2 m b 1k\nR3 b 0 2k\n.ends\n"
        "V1 in 0 1\nX1 in mid stage\nX2 mid out stage\n.op\n.end\n"
    )
    assert main(["run", str(net)]) == 0
    out = capsys.readouterr().out
    assert "v(out)" in out and "v(mid)" in out and "x1.m" not in out
    csv = tmp_path / "o.csv"
    assert main(["run", str(net), "--signals", "v(out)", "--csv", str(csv)]) == 0
    assert list(pd.read_csv(csv).columns) == ["index", "v(out)_V"]  # --signals filters the file too


@needs_ngspice
def test_bad_signal_names_get_close_matches_not_a_wall_of_names(tmp_path, capsys):
    cir = tmp_path / "big.cir"
    assert main(["netlist", "crossbar", "--rows", "16", "--cols", "16", "--save", "all", "-o", str(cir)]) == 0
    capsys.readouterr()
    assert main(["run", str(cir), "--signals", "i(vsens3)"]) == 2
    err = capsys.readouterr().err
    assert "did you mean i(vsense3)" in err and "v(w15_15)" not in err and len(err) < 600


@needs_ngspice
def test_keep_copies_the_netlists_own_files_and_print_output_is_shown(tmp_path, capsys):
    net = tmp_path / "w.cir"
    net.write_text(
        "divider\nV1 a 0 1\nR1 a b 1k\nR2 b 0 1k\n.control\nop\nprint v(b)\necho done-here\n"
        "wrdata table.txt v(b)\n.endc\n.end\n"
    )
    keep = tmp_path / "kept"
    assert main(["run", str(net), "--keep", str(keep)]) == 0
    out = capsys.readouterr().out
    assert "v(b) = 5.000000e-01" in out and "done-here" in out
    assert (keep / "table.txt").exists() and float((keep / "table.txt").read_text().split()[1]) == 0.5
    assert main(["run", str(net), "--keep", str(keep), "--mode", "shared"]) == 2
    assert "--keep needs --mode batch" in capsys.readouterr().err


@needs_ngspice
def test_errors_cite_the_users_file_and_line_also_in_includes(tmp_path, capsys):
    (tmp_path / "parts.inc").write_text("* parts\nR9 a 0 1k\nX7 a b nosuch_sub\n")
    net = tmp_path / "top.cir"
    net.write_text("top\nV1 a 0 1\n.include parts.inc\n.control\nop\n.endc\nR2 b 0 1k\n.op\n.end\n")
    assert main(["run", str(net)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'parts.inc'}:3: X7 a b nosuch_sub" in err
    bad = tmp_path / "bad.cir"
    bad.write_text("bad\nV1 a 0 1\nR1 a b 1k\n\nXq a b nowhere\n.op\n.end\n")
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:5: Xq a b nowhere" in err and "from file circuit.cir" not in err


@needs_ngspice
def test_raw_file_keeps_every_plot_for_viewers(tmp_path, capsys):
    spicelib = pytest.importorskip("spicelib", reason="spicelib (test extra) reads raw files as viewers do")
    from memspice.spice import read_raw_plots

    net = tmp_path / "rc.cir"
    net.write_text("rc\nV1 a 0 PULSE(0 1 0 1n 1n 5u 10u)\nR1 a b 1k\nC1 b 0 1n\n.op\n.tran 10n 5u\n.end\n")
    raw = tmp_path / "rc.raw"
    assert main(["run", str(net), "--raw", str(raw)]) == 0
    plots = {w.title: w for w in read_raw_plots(raw)}
    assert "Operating Point" in plots and "Transient Analysis" in plots
    viewer = spicelib.RawRead(str(raw))
    names = viewer.get_plot_names()
    tran = viewer.plots[names.index("Transient Analysis")]
    assert np.allclose(tran.get_trace("v(b)").get_wave(), plots["Transient Analysis"]["v(b)"])
    only = tmp_path / "only.raw"
    assert main(["run", str(net), "--signals", "v(b)", "--raw", str(only)]) == 0
    assert spicelib.RawRead(str(only)).get_trace_names() == ["time", "v(b)"]


@needs_ngspice
def test_vectors_and_plots_agree_from_0(tmp_path, capsys):
    w, x = tmp_path / "w.csv", tmp_path / "x.csv"
    np.savetxt(w, np.array([[1.0, 2.0], [3.0, 1.0], [2.0, 2.0]]), delimiter=",")
    rng = np.random.default_rng(0)
    np.savetxt(x, rng.uniform(0, 0.2, (4, 3)), delimiter=",")
    cir, out = tmp_path / "v.cir", tmp_path / "read.csv"
    assert main(["netlist", "crossbar", "--weights", str(w), "--inputs", str(x), "-o", str(cir)]) == 0
    assert "* memspice-vectors: 4" in cir.read_text() and "input vectors 0..3 (plots op1..op4)" in cir.read_text()
    assert main(["read", "--weights", str(w), "--inputs", str(x), "--backend", "ngspice", "-o", str(out)]) == 0
    table = pd.read_csv(out, index_col="vector")
    capsys.readouterr()
    for k in (0, 3):
        npz = tmp_path / f"v{k}.npz"
        assert main(["run", str(cir), "--vector", str(k), "--npz", str(npz)]) == 0
        got = Waveforms.from_npz(npz)
        assert np.allclose([got[f"i(vsense{j})"][0] for j in range(2)], table.loc[k].to_numpy(), rtol=1e-6)
    assert main(["run", str(cir), "--vector", "4"]) == 2
    assert "vectors 0..3" in capsys.readouterr().err


# --- tables and figures ------------------------------------------------------------------------------------
def _unit_columns_ok(columns):
    from memspice.core.units import split_column

    for c in columns:
        assert " " not in c and "[" not in c, c
    return {split_column(c)[1] for c in columns}


def test_read_and_sweep_tables_use_name_unit_and_make_figures(tmp_path, capsys):
    w, x = tmp_path / "w.npy", tmp_path / "x.npy"
    np.save(w, np.random.default_rng(1).uniform(-1, 1, (5, 3)))
    np.save(x, np.random.default_rng(2).uniform(0, 0.2, (7, 5)))
    out, png = tmp_path / "r.csv", tmp_path / "r.png"
    argv = ["read", "--weights", str(w), "--inputs", str(x), "--backend", "sparse", "--tia", "ideal"]
    assert main([*argv, "--adc-bits", "6", "-o", str(out), "--figure", str(png)]) == 0
    table = pd.read_csv(out)
    assert table.columns[0] == "vector" and list(table["vector"]) == list(range(7))
    assert _unit_columns_ok(table.columns) >= {"A", "V", ""} and "i0_A" in table and "adc2_V" in table
    assert png.read_bytes()[:4] == b"\x89PNG"
    sweep, spng = tmp_path / "s.csv", tmp_path / "s.png"
    grid = ["--n", "6", "--r-source", "0", "50", "--g-max", "1e-4", "2e-4", "--adc-bits", "0", "4"]
    more = ["--stuck-on", "0", "0.1", "--cell", "1R", "1S1R", "--variation", "0", "--samples", "1"]
    assert main(["sweep", *grid, *more, "--scheduler", "synchronous", "-o", str(sweep), "--figure", str(spng)]) == 0
    s = pd.read_csv(sweep)
    assert len(s) == 2 * 2 * 2 * 2 * 2
    assert {"r_source_ohm", "g_max_S", "adc_bits", "stuck_on", "cell", "r_word_ohm", "mean_output_A"} <= set(s)
    assert _unit_columns_ok(s.columns) >= {"Ohm", "S", "V", "A"}
    assert spng.read_bytes()[:4] == b"\x89PNG"
    # each varied parameter moves the error the way physics says
    base = s[(s.r_source_ohm == 0) & (s.adc_bits == 0) & (s.stuck_on == 0) & (s.cell == "1R")]
    worse = s[(s.r_source_ohm == 50) & (s.adc_bits == 0) & (s.stuck_on == 0) & (s.cell == "1R")]
    assert (worse.mvm_max_rel_error.to_numpy() > base.mvm_max_rel_error.to_numpy()).all()


def test_sweep_refuses_random_array_options_on_own_data(tmp_path, capsys):
    w, x = tmp_path / "w.csv", tmp_path / "x.csv"
    w.write_text("1,2\n3,4\n")
    x.write_text("0.1,0.2\n")
    assert main(["sweep", "--weights", str(w), "--inputs", str(x), "--n", "8"]) == 2
    assert "--n applies to random arrays" in capsys.readouterr().err


def test_1t1r_warning_prints_as_one_line(tmp_path, capsys):
    w, x = tmp_path / "w.csv", tmp_path / "x.csv"
    w.write_text("1,2\n3,4\n")
    x.write_text("0.1,0.2\n")
    argv = ["read", "--weights", str(w), "--inputs", str(x), "--cell", "1T1R", "--backend", "sparse"]
    assert main([*argv, "-o", str(tmp_path / "o.csv")]) == 0
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "1T1R" in ln]
    assert lines and all(ln.startswith("memspice read: warning: 1T1R:") for ln in lines)
    assert ".py:" not in err and "warnings.warn" not in err


def test_sweep_warnings_from_workers_print_once_per_kind(tmp_path, capsys):
    w, x = tmp_path / "w.csv", tmp_path / "x.csv"
    w.write_text("1,2\n3,4\n")
    x.write_text("0.1,0.2\n")
    argv = ["sweep", "--weights", str(w), "--inputs", str(x), "--cell", "1T1R", "--samples", "3"]
    assert main([*argv, "--scheduler", "threads", "-o", str(tmp_path / "s.csv")]) == 0
    lines = [ln for ln in capsys.readouterr().err.splitlines() if "1T1R" in ln]
    assert len(lines) == 1 and lines[0].startswith("memspice sweep: warning: 1T1R:") and "similar warning" in lines[0]
