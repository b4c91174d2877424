"""Command line: ``memspice <command> --help`` explains each command."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _cmd_info(args) -> int:
    from .spice.capabilities import ngspice_info

    print(ngspice_info().summary())
    return 0


def _cmd_models(args) -> int:
    from .models import MODELS

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    for key, cls in MODELS.items():
        m = cls()
        (out / f"{m.name}.sub").write_text(m.spice_subckt())
        (out / f"{m.va_module}.va").write_text(m.verilog_a())
        print(f"{key:18s} -> {out / (m.name + '.sub')}, {out / (m.va_module + '.va')}")
    return 0


def _cmd_demo(args) -> int:
    from .demo import main_job

    return main_job(verbose=True)


def _cmd_validate(args) -> int:
    from .analysis.validate import validate

    summary = validate(args.output, quick=args.quick)
    for r in summary["comparisons"]:
        print(f"{'PASS' if r['pass'] else 'FAIL'}  {r['circuit']:38s} {r['a']:>20s} vs {r['b']:<20s} "
              f"{r['signal']:15s} {r['max_error']:.2e} (tol {r['tolerance']:.0e})")
    for s in summary["skipped"]:
        print(f"SKIP  {s['circuit']:38s} {s['backend']}: {s['why']}")
    print(f"report: {Path(args.output) / 'report.md'}  overall {'PASS' if summary['pass'] else 'FAIL'}")
    return 0 if summary["pass"] else 1


def _cmd_reproduce(args) -> int:
    from .reproduce import available, reproduce

    out = Path(args.output)
    names = available() if args.name == "all" else [args.name]
    for name in names:
        result = reproduce(name, quick=args.quick, seed=args.seed)
        paths = result.save(name, out)
        print(f"{name}: wrote " + ", ".join(str(p) for p in paths))
        for key, value in result.headline.items():
            if not isinstance(value, (dict, list)):
                print(f"  {key} = {value}")
    return 0


def _cmd_netlist(args) -> int:
    from .netlists.builders import BUILDERS

    opts = {k: v for k, v in vars(args).items() if k in BUILDER_OPTIONS[args.circuit] and v is not None}
    text = BUILDERS[args.circuit](**opts)
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
        print(f"wrote {args.output} ({len(text.splitlines())} lines)")
    return 0


def _cmd_run(args) -> int:
    from .spice import run

    from .netlists.builders import osdi_tags

    text = Path(args.netlist).read_text()
    res = run(text, mode=args.mode, timeout=args.timeout, osdi=list(args.osdi or ()) + osdi_tags(text))
    w = res.waveforms
    print(f"{args.netlist}: {w.title or 'results'}; {len(w)} point(s) along {w.axis_name}, {len(w.names)} signals")
    show = [n for n in w.names if args.signals is None or n in [s.lower() for s in args.signals]]
    for name in show[: args.max_print]:
        values = w[name]
        last = values[-1]
        print(f"  {name:24s} {'final' if len(w) > 1 else 'value'} {last: .6e} {w.units.get(name, '')}")
    if len(show) > args.max_print:
        print(f"  ... {len(show) - args.max_print} more (use --signals NAME ..., or --csv/--npz)")
    if args.csv:
        w.to_csv(args.csv)
        print(f"wrote {args.csv}")
    if args.npz:
        w.to_npz(args.npz)
        print(f"wrote {args.npz}")
    return 0


#: options each netlist builder accepts (argparse destinations)
BUILDER_OPTIONS = {
    "crossbar": {"rows", "cols", "cell", "r_word", "r_bit", "r_source", "r_sense", "v_read", "g_min", "g_max",
                 "seed", "variation", "stuck_off", "stuck_on", "signed", "tia", "r_f", "analysis", "face"},
    "lif": {"current", "t_stop", "step", "face"},
    "solver": {"size", "seed", "gain"},
    "write": {"rows", "cols", "cell", "row", "col", "v_write", "scheme", "r_word", "r_bit"},
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="memspice",
        description="SPICE-coupled simulation of memristive in-memory-computing circuits.",
        epilog="Run 'memspice demo' for the built-in example; 'memspice info' tells what ngspice can do here.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("info", help="show the ngspice found here: version, KLU, Verilog-A/OSDI, shared library")
    s.set_defaults(func=_cmd_info)
    s = sub.add_parser("demo", help="main job: check every device model's three faces and solve a small "
                                    "crossbar in ngspice and the sparse solver")
    s.set_defaults(func=_cmd_demo)
    s = sub.add_parser("models", help="write every model's behavioural .subckt and Verilog-A module to a folder")
    s.add_argument("-o", "--output", default="models_out", help="folder to write into (default: models_out)")
    s.set_defaults(func=_cmd_models)
    s = sub.add_parser(
        "netlist", help="write a ready-to-run ngspice netlist of a whole circuit",
        description="Write a readable, hierarchical ngspice netlist. Circuits: crossbar (MVM read with "
                    "wires, drivers and TIAs), lif (threshold-switch neuron), solver (closed-loop A x = b), "
                    "write (V/2 or V/3 programming bias). Values are SI units (Ohm, S, V, A, s).")
    s.add_argument("circuit", choices=["crossbar", "lif", "solver", "write"])
    s.add_argument("-o", "--output", help="netlist file (default: print to the terminal)")
    s.add_argument("--face", choices=["behavioural", "veriloga"],
                   help="device models as B-source subcircuits (default) or Verilog-A N instances; the "
                        "compiled .osdi files are named in the header and loaded by 'memspice run'")
    g = s.add_argument_group("crossbar / write")
    g.add_argument("--rows", type=int, help="word lines (default 8)")
    g.add_argument("--cols", type=int, help="bit lines (default 8)")
    g.add_argument("--cell", choices=["1R", "1S1R", "1T1R", "tiox"], help="cell type (default 1R; write: 1S1R)")
    g.add_argument("--r-word", type=float, help="word-line resistance per segment, Ohm")
    g.add_argument("--r-bit", type=float, help="bit-line resistance per segment, Ohm")
    g.add_argument("--r-source", type=float, help="driver (DAC) output resistance, Ohm")
    g.add_argument("--r-sense", type=float, help="sense resistance before each TIA, Ohm")
    g.add_argument("--v-read", type=float, help="largest input voltage, V (inputs are random up to it)")
    g.add_argument("--g-min", type=float, help="lowest cell conductance, S")
    g.add_argument("--g-max", type=float, help="highest cell conductance, S")
    g.add_argument("--seed", type=int, help="random seed for weights, inputs, variation and faults")
    g.add_argument("--variation", type=float, help="log-normal device-to-device sigma (e.g. 0.1)")
    g.add_argument("--stuck-off", type=float, help="fraction of cells stuck at g_min")
    g.add_argument("--stuck-on", type=float, help="fraction of cells stuck at g_max")
    g.add_argument("--signed", action="store_true", default=None, help="signed weights as G+/G- column pairs")
    g.add_argument("--tia", choices=["none", "ideal", "opamp"], help="column read-out (default none: 0 V sense)")
    g.add_argument("--r-f", type=float, help="TIA feedback resistance, Ohm")
    g.add_argument("--analysis", help="analysis line (default .op)")
    g.add_argument("--row", type=int, help="write: selected row")
    g.add_argument("--col", type=int, help="write: selected column")
    g.add_argument("--v-write", type=float, help="write: programming voltage, V")
    g.add_argument("--scheme", choices=["V/2", "V/3"], help="write: half-select scheme")
    g = s.add_argument_group("lif")
    g.add_argument("--current", type=float, help="input current, A (default 20e-6)")
    g.add_argument("--t-stop", type=float, help="simulated time, s (default 20e-6)")
    g.add_argument("--step", type=float, help="time step, s (default 5e-9)")
    g = s.add_argument_group("solver")
    g.add_argument("--size", type=int, help="n for the n x n system (default 3)")
    g.add_argument("--gain", type=float, help="op-amp open-loop gain (default 1e6)")
    s.set_defaults(func=_cmd_netlist)

    s = sub.add_parser("run", help="run a netlist in ngspice and print/save its waveforms",
                       description="Run a netlist with ngspice (batch: child process and raw file; shared: "
                                   "libngspice) and print the final value of each signal; save CSV/NPZ.")
    s.add_argument("netlist", help="netlist file with an analysis line (.op, .dc, .tran, ...)")
    s.add_argument("--mode", choices=["batch", "shared"], default="batch")
    s.add_argument("--timeout", type=float, default=600.0, help="seconds before ngspice is stopped")
    s.add_argument("--osdi", nargs="*", help="compiled Verilog-A (.osdi) libraries to load, besides those "
                                             "named by '* memspice-osdi:' header lines")
    s.add_argument("--signals", nargs="*", help="only these signals, e.g. v(out0) i(vsense0)")
    s.add_argument("--max-print", type=int, default=20, help="print at most this many signals")
    s.add_argument("--csv", help="write all waveforms to this CSV file")
    s.add_argument("--npz", help="write all waveforms to this NumPy .npz file")
    s.set_defaults(func=_cmd_run)

    s = sub.add_parser("validate", help="run the same circuits on every backend and write a comparison report",
                       description="Compare the Python reference, the sparse solver, ngspice (behavioural and "
                                   "Verilog-A/OSDI) and VACASK on the same circuits; writes report.md, report.json "
                                   "and plots. Exit status 1 if any comparison exceeds its tolerance.")
    s.add_argument("-o", "--output", default="validation", help="folder for the report")
    s.add_argument("--quick", action="store_true", help="one device and an 8x8 crossbar only")
    s.set_defaults(func=_cmd_validate)

    from .reproduce import REGISTRY

    s = sub.add_parser("reproduce", help="reproduce a source-paper figure or system (png, csv, json)",
                       description="Writes NAME.png, NAME.csv where a table fits and NAME.json with the headline "
                                   "numbers, all computed by running the simulation. Names: "
                                   + ", ".join(REGISTRY) + ", or all.")
    s.add_argument("name", choices=[*REGISTRY, "all"])
    s.add_argument("-o", "--output", default="reproductions", help="folder for figures and tables")
    s.add_argument("--quick", action="store_true", help="a smaller, faster run (for tests and previews)")
    s.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")
    s.set_defaults(func=_cmd_reproduce)

    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"memspice {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
