"""Command line: ``memspice <command> --help`` explains each command."""
from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from .analysis.files import write_atomic


def _number(kind, low=None, high=None, low_open=False, allow_inf=False):
    """argparse ``type=``: a number of ``kind`` within bounds; the error names the option (argparse adds it)."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
        if kind is float and (math.isnan(value) or (math.isinf(value) and not allow_inf)):
            raise argparse.ArgumentTypeError(f"must be a {'number' if allow_inf else 'finite number'} (not NaN), "
                                             f"got {text!r}")
        if low is not None and (value <= low if low_open else value < low):
            raise argparse.ArgumentTypeError(f"must be {'>' if low_open else '>='} {low}, got {text!r}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be <= {high}, got {text!r}")
        return value
    parse.__name__ = kind.__name__
    return parse


COUNT = _number(int, 1)                    # rows, columns, sizes
INDEX = _number(int, 0)                    # seeds, row/column indices
FINITE = _number(float)                    # voltages, currents
NONNEG = _number(float, 0.0)               # resistances (0 = ideal wire)
POSITIVE = _number(float, 0.0, low_open=True)  # conductances, times, gains
FRACTION = _number(float, 0.0, 1.0)        # stuck-at fractions
TIMEOUT = _number(float, 0.0, low_open=True, allow_inf=True)

#: assumed peak memory per crossbar cell while a netlist is built and written, bytes: measured 430-490 B
#: (tracemalloc, 200x200, every cell kind, Python 3.11), rounded up for the interpreter's own overhead
BYTES_PER_CELL = 600


def available_memory() -> int:
    """Bytes of memory available to a new allocation (Linux MemAvailable, else free pages)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 62


def check_memory(what: str, cells: int, vectors: int = 1, bytes_per_cell: int = BYTES_PER_CELL) -> None:
    """Refuse (ValueError naming ``what``) work whose estimate ``cells*vectors*bytes_per_cell`` exceeds half
    the available memory, before anything is allocated."""
    need, avail = cells * vectors * bytes_per_cell, available_memory()
    if need > avail // 2:
        raise ValueError(f"{what}: {cells:,} cells x {vectors} vector(s) need about {need / 1e9:.3g} GB "
                         f"({bytes_per_cell} B per cell), more than half of the {avail / 1e9:.3g} GB available; "
                         "use a smaller array (the sparse solver handles large arrays without a netlist)")


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
        write_atomic(out / f"{m.name}.sub", m.spice_subckt())
        write_atomic(out / f"{m.va_module}.va", m.verilog_a())
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
    if args.circuit in ("crossbar", "write"):
        rows, cols = opts.get("rows", 8), opts.get("cols", 8)
        check_memory(f"--rows {rows} --cols {cols}", rows * cols * (2 if opts.get("signed") else 1))
        for name, limit in (("row", rows), ("col", cols)):
            if opts.get(name) is not None and opts[name] >= limit:
                raise ValueError(f"--{name} {opts[name]} is outside the array (0..{limit - 1})")
    if args.circuit == "solver" and opts.get("size"):
        check_memory(f"--size {opts['size']}", opts["size"] ** 2)
    text = BUILDERS[args.circuit](**opts)
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        write_atomic(args.output, text)
        print(f"wrote {args.output} ({len(text.splitlines())} lines)")
    return 0


def _header_libraries(path: Path, text: str, trust: bool) -> list[str]:
    """Libraries named by ``* memspice-osdi:`` header lines that may be loaded.

    Loaded without asking: memspice's own compiled models (its OSDI cache).
    Any other library only with ``--trust-header-osdi``: a header line is
    part of the file, and a netlist from elsewhere must not load code.
    """
    from .netlists.builders import osdi_tags
    from .spice.errors import UnsafeNetlistError
    from .spice.osdi import is_memspice_compiled

    libraries = []
    for tag in osdi_tags(text):
        if not (trust or is_memspice_compiled(tag)):
            raise UnsafeNetlistError(
                f"{path}: the header line '* memspice-osdi: {tag}' asks to load a shared library that memspice "
                f"did not compile; load it yourself with --osdi {tag}, or pass --trust-header-osdi if you trust "
                "this netlist")
        libraries.append(tag)
    return libraries


def _format_value(value) -> str:
    if isinstance(value, complex) or getattr(value, "imag", 0):
        return f"{value.real: .6e}{value.imag:+.6e}j (|{abs(value):.6e}|)"
    return f"{value: .6e}"


def _cmd_run(args) -> int:
    from .spice import run
    from .spice.netlist_text import read_netlist

    path = Path(args.netlist)
    src = read_netlist(path)
    libraries = list(args.osdi or ()) + _header_libraries(path, src.text, args.trust_header_osdi)
    klu = {"auto": None, "klu": True, "sparse": False}[args.solver]
    res = run(path, mode=args.mode, timeout=args.timeout, osdi=libraries, klu=klu, allow_shell=args.allow_shell)
    if args.plot is not None and args.plot not in res.plots:
        raise ValueError(f"--plot {args.plot}: no such plot; this run made: {', '.join(res.plots)}")
    w = res.plots[args.plot] if args.plot else res.waveforms
    wanted = [s.lower() for s in args.signals] if args.signals else None
    if wanted:
        missing = [s for s in wanted if s not in w.signals and s != w.axis_name.lower()]
        if missing:
            raise ValueError(f"--signals: no signal {', '.join(missing)} in plot {w.title or 'results'}; "
                             f"available: {', '.join(w.names)}")
    # save first: printing can fail (a closed pipe) and must not lose the files
    if args.csv:
        w.to_csv(args.csv)
    if args.npz:
        w.to_npz(args.npz)
    for line in res.warnings:
        print(f"ngspice warning: {line}", file=sys.stderr)
    print(f"{args.netlist}: {w.title or 'results'}; {len(w)} point(s) along {w.axis_name}, {len(w.names)} signals"
          + (f"; plots: {', '.join(res.plots)}" if len(res.plots) > 1 else ""))
    show = [n for n in w.names if wanted is None or n in wanted]
    for name in show[: args.max_print]:
        print(f"  {name:24s} {'final' if len(w) > 1 else 'value'} {_format_value(w[name][-1])} "
              f"{w.units.get(name, '')}")
    if len(show) > args.max_print:
        print(f"  ... {len(show) - args.max_print} more (use --signals NAME ..., or --csv/--npz)")
    for name, value in res.measurements.items():
        print(f"  .meas {name:18s} {value: .6e}")
    if args.csv:
        print(f"wrote {args.csv}")
    if args.npz:
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
                        "compiled .osdi files are named in '* memspice-osdi:' header lines, which 'memspice run' "
                        "loads because memspice compiled them itself")
    g = s.add_argument_group("crossbar / write")
    g.add_argument("--rows", type=COUNT, help="word lines (default 8)")
    g.add_argument("--cols", type=COUNT, help="bit lines (default 8)")
    g.add_argument("--cell", choices=["1R", "1S1R", "1T1R", "tiox"], help="cell type (default 1R; write: 1S1R)")
    g.add_argument("--r-word", type=NONNEG, help="word-line resistance per segment, Ohm")
    g.add_argument("--r-bit", type=NONNEG, help="bit-line resistance per segment, Ohm")
    g.add_argument("--r-source", type=NONNEG, help="driver (DAC) output resistance, Ohm")
    g.add_argument("--r-sense", type=NONNEG, help="sense resistance before each TIA, Ohm")
    g.add_argument("--v-read", type=FINITE, help="largest input voltage, V (inputs are random up to it)")
    g.add_argument("--g-min", type=POSITIVE, help="lowest cell conductance, S")
    g.add_argument("--g-max", type=POSITIVE, help="highest cell conductance, S")
    g.add_argument("--seed", type=INDEX, help="random seed for weights, inputs, variation and faults")
    g.add_argument("--variation", type=NONNEG, help="log-normal device-to-device sigma (e.g. 0.1)")
    g.add_argument("--stuck-off", type=FRACTION, help="fraction of cells stuck at g_min")
    g.add_argument("--stuck-on", type=FRACTION, help="fraction of cells stuck at g_max")
    g.add_argument("--signed", action="store_true", default=None, help="signed weights as G+/G- column pairs")
    g.add_argument("--tia", choices=["none", "ideal", "opamp"], help="column read-out (default none: 0 V sense)")
    g.add_argument("--r-f", type=POSITIVE, help="TIA feedback resistance, Ohm")
    g.add_argument("--analysis", help="analysis line (default .op)")
    g.add_argument("--row", type=INDEX, help="write: selected row")
    g.add_argument("--col", type=INDEX, help="write: selected column")
    g.add_argument("--v-write", type=FINITE, help="write: programming voltage, V")
    g.add_argument("--scheme", choices=["V/2", "V/3"], help="write: half-select scheme")
    g = s.add_argument_group("lif")
    g.add_argument("--current", type=FINITE, help="input current, A (default 20e-6)")
    g.add_argument("--t-stop", type=POSITIVE, help="simulated time, s (default 20e-6)")
    g.add_argument("--step", type=POSITIVE, help="time step, s (default 5e-9)")
    g = s.add_argument_group("solver")
    g.add_argument("--size", type=COUNT, help="n for the n x n system (default 3)")
    g.add_argument("--gain", type=POSITIVE, help="op-amp open-loop gain (default 1e6)")
    s.set_defaults(func=_cmd_netlist)

    s = sub.add_parser(
        "run", help="run any ngspice netlist and print/save its waveforms and measurements",
        description="Run a netlist as 'ngspice -b' would (batch: child process and raw file; shared: libngspice): "
                    "relative .include/.lib paths resolve against the netlist's folder, .control blocks and .meas "
                    "work, every plot is kept. Prints each signal's final value and the measurements; saves the "
                    "last plot (or --plot NAME) as CSV/NPZ. Netlists are untrusted: control commands that run "
                    "programs (shell, backquotes, gnuplot ...), load libraries or write outside the run's private "
                    "folder are refused unless --allow-shell; libraries load only when named with --osdi (or "
                    "memspice's own compiled models named in '* memspice-osdi:' header lines).")
    s.add_argument("netlist", help="netlist file with an analysis line (.op, .dc, .tran, .ac ...) or a .control block")
    s.add_argument("--mode", choices=["batch", "shared"], default="batch")
    s.add_argument("--timeout", type=TIMEOUT, default=600.0,
                   help="seconds before ngspice is stopped (default 600; inf for no limit)")
    s.add_argument("--osdi", nargs="*", metavar="FILE", help="compiled Verilog-A (.osdi) libraries to load")
    s.add_argument("--trust-header-osdi", action="store_true",
                   help="also load any library named by '* memspice-osdi:' header lines (by default only those "
                        "memspice compiled itself)")
    s.add_argument("--allow-shell", action="store_true",
                   help="trust the netlist: allow control commands that run programs, load libraries or write "
                        "files outside the run's folder")
    s.add_argument("--solver", choices=["auto", "klu", "sparse"], default="auto",
                   help="linear solver: auto (KLU when available and the netlist names none), klu, or sparse "
                        "(turns a netlist's .options klu off)")
    s.add_argument("--plot", help="which plot to print and save (e.g. op1, tran1, ac1; default the last)")
    s.add_argument("--signals", nargs="*", help="only these signals, e.g. v(out0) i(vsense0)")
    s.add_argument("--max-print", type=INDEX, default=20, help="print at most this many signals")
    s.add_argument("--csv", help="write the plot's waveforms to this CSV file (complex: re()/im() columns)")
    s.add_argument("--npz", help="write the plot's waveforms to this NumPy .npz file")
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


def _stdout_closed() -> int:
    """The reader of stdout went away (``memspice run ... | head``): stop quietly, as the shell's tools do."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return 141  # 128 + SIGPIPE, what a shell reports for a tool stopped by a closed pipe


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:
        return _stdout_closed()
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"memspice {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
