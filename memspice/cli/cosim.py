"""memspice cosim NETLIST: co-simulate a netlist, its periphery in ngspice and its marked crossbars in memspice."""

from __future__ import annotations

import io
import sys

from ._common import INDEX, POSITIVE, TIMEOUT, check_figure_path, save_figure

HELP = "co-simulate a netlist: periphery in ngspice, marked crossbars in memspice's array solver"
DESCRIPTION = (
    "Run an ngspice netlist whose crossbars are marked for memspice, a subcircuit call 'X1 <m word-line ports> "
    "<n bit-line ports> memspice_crossbar weights=W.npy cell=tiox r_word=10 r_bit=10 ...' (see "
    "memspice.cosim.syntax): ngspice runs everything else, memspice the arrays, coupled at the ports in one "
    "transient by Newton's method inside ngspice (memspice.cosim.coupling). Prints each signal's final value "
    "and the arrays' final states; saves every signal (periphery and array port currents) as CSV/NPZ. The "
    "netlist is untrusted as in 'memspice run' (control commands that run programs, load libraries or write "
    "outside the run's folder are refused unless --allow-shell). --write-monolithic writes the same design "
    "with every array expanded, for ngspice alone."
)


def configure(parser) -> None:
    parser.add_argument("netlist", help="netlist file with marked crossbars and a .tran line")
    from ..spice.job import DEFAULT_TIMEOUT

    parser.add_argument(
        "--timeout",
        type=TIMEOUT,
        default=DEFAULT_TIMEOUT,
        help=f"seconds before the run is stopped (default {DEFAULT_TIMEOUT:g}, as in Python; raise it for "
        "arrays of 256 x 256 and up; inf: no limit)",
    )
    parser.add_argument(
        "--tol",
        type=POSITIVE,
        default=1e-5,
        help="the arrays' local error per step in state units (line capacitors get ngspice's own test; "
        "default %(default)s)",
    )
    parser.add_argument("--method", choices=["trap", "be"], default="trap", help="the arrays' integration rule")
    parser.add_argument(
        "--save",
        choices=["ports", "states", "none"],
        help="array signals to return: port currents (default), also every cell's state, or none",
    )
    parser.add_argument("--solver", choices=["auto", "klu", "sparse"], default="auto", help="ngspice's linear solver")
    parser.add_argument(
        "--allow-shell",
        action="store_true",
        help="trust the netlist: allow control commands that run programs, load libraries or write files",
    )
    parser.add_argument("--signals", nargs="*", help="only these signals, e.g. v(out0) i(x1.bl0)")
    parser.add_argument("--max-print", type=INDEX, default=20, help="print at most this many signals")
    parser.add_argument("--csv", help="write every signal to this CSV file")
    parser.add_argument("--npz", help="write every signal to this NumPy .npz file (Waveforms.from_npz reads it)")
    parser.add_argument("--states", metavar="FILE", help="write every array's final states to this .npz file")
    parser.add_argument("--figure", metavar="FILE", help="plot the signals (--signals, default the first 12)")
    parser.add_argument(
        "--write-monolithic",
        metavar="FILE",
        help="do not run: write the design with every marked array expanded (for ngspice alone) to FILE",
    )
    parser.add_argument(
        "--face",
        choices=["behavioural", "veriloga"],
        default="behavioural",
        help="cell models in the monolithic netlist (default behavioural B-sources)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _format_value(value) -> str:
    return f"{value: .6e}"


def run(args) -> int:
    from pathlib import Path

    import numpy as np

    from ..core.files import write_atomic
    from ..cosim import cosimulate, monolithic_netlist, monolithic_osdi, parse
    from ..spice.netlist_text import read_netlist

    path = Path(args.netlist)
    if args.figure:
        check_figure_path(args.figure)
    if args.write_monolithic:
        src = read_netlist(path)
        design = parse(src.text, src.base_dir, str(path))
        if not design.marked:
            raise ValueError(f"{path}: no crossbar is marked for memspice (a subcircuit call of memspice_crossbar)")
        write_atomic(args.write_monolithic, monolithic_netlist(design, face=args.face))
        print(f"wrote {args.write_monolithic} ({len(design.marked)} array(s) expanded for ngspice alone)")
        for library in monolithic_osdi(design, args.face):
            print(f"needs {library} ('memspice run' loads it from the header; plain ngspice: pre_osdi in .spiceinit)")
        return 0
    res = cosimulate(
        path,
        timeout=args.timeout,
        tol=args.tol,
        method=args.method,
        save=args.save,
        klu={"auto": None, "klu": True, "sparse": False}[args.solver],
        allow_shell=args.allow_shell,
        progress=False if args.no_progress else None,
    )
    w = res.waveforms
    wanted = [s.lower() for s in args.signals] if args.signals else None
    if wanted:
        missing = [s for s in wanted if s not in w.signals]
        if missing:
            raise ValueError(f"--signals: no signal {', '.join(missing)}; available: {', '.join(w.names)}")
    if args.csv:
        w.to_csv(args.csv)
    if args.npz:
        w.to_npz(args.npz)
    if args.states:
        buf = io.BytesIO()
        np.savez(buf, **{k.replace(".", "_"): v for k, v in res.states.items()})  # type: ignore[arg-type]
        write_atomic(args.states, buf.getvalue())
    if args.figure:
        save_figure(lambda: w.plot(wanted), args.figure)
    for line in res.warnings:
        print(f"ngspice warning: {line}", file=sys.stderr)
    st = res.statistics
    print(
        f"{args.netlist}: {len(w)} time points, {len(w.names)} signals; {int(st['accepted'])} accepted steps, "
        f"{int(st['evaluations'])} port-device evaluations ({int(st['array_solves'])} array solves, "
        f"{int(st['array_reused'] + st['array_updated'])} answered without one), {st['array_seconds']:.3g} s in "
        f"the arrays of {st['total_seconds']:.3g} s"
    )
    show = [n for n in w.names if wanted is None or n in wanted]
    for name in show[: args.max_print]:
        print(f"  {name:24s} final {_format_value(w[name][-1])} {w.units.get(name, '')}")
    if len(show) > args.max_print:
        print(f"  ... {len(show) - args.max_print} more (use --signals NAME ..., or --csv/--npz)")
    for name, x in res.states.items():
        print(f"  states of {name}: {x.shape[0]} x {x.shape[1]}, final in [{x.min():.4g}, {x.max():.4g}]")
    for name, value in res.measurements.items():
        print(f"  .meas {name:18s} {value: .6e}")
    for option in ("csv", "npz", "states", "figure"):
        if getattr(args, option):
            print(f"wrote {getattr(args, option)}")
    return 0
