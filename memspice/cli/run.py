"""memspice run NETLIST: run any ngspice netlist and show, save and plot its results."""

from __future__ import annotations

import shutil
import sys
import warnings
from pathlib import Path

from ._common import INDEX, add_ngspice_options, check_figure_path, save_figure

HELP = "run any ngspice netlist and print/save its waveforms and measurements"
DESCRIPTION = (
    "Run a netlist as 'ngspice -b' would (batch: child process and raw file; shared: libngspice): relative "
    ".include/.lib paths resolve against the netlist's folder, .control blocks and .meas work, every plot is kept. "
    "Prints the circuit's outputs (memspice netlists name them in a '* memspice-outputs:' header; other netlists: "
    "top-level node voltages and source currents, not subcircuit internals), the measurements and what the "
    "netlist's own control block printed; saves the last plot (or --plot NAME) as CSV/NPZ/raw. Errors cite your "
    "file and line. Netlists are untrusted: ngspice runs in a kernel sandbox (Linux Landlock + seccomp) where it can "
    "run no program and write only in its private run folder; control commands known to try are refused up front, "
    "and where the kernel has no sandbox only plain circuit netlists run; --allow-shell trusts the netlist and lifts "
    "all of it. Libraries load only when named with --osdi (or memspice's own compiled models named in "
    "'* memspice-osdi:' header lines). "
    "Files the netlist writes (wrdata, write) are kept with --keep DIR."
)


def configure(parser) -> None:
    parser.add_argument(
        "netlist", help="netlist file with an analysis line (.op, .dc, .tran, .ac ...) or a .control block"
    )
    add_ngspice_options(parser)
    parser.add_argument("--osdi", nargs="*", metavar="FILE", help="compiled Verilog-A (.osdi) libraries to load")
    parser.add_argument(
        "--trust-header-osdi",
        action="store_true",
        help="also load any library named by '* memspice-osdi:' header lines (by default only those memspice "
        "compiled itself)",
    )
    parser.add_argument(
        "--allow-shell",
        action="store_true",
        help="trust the netlist: no sandbox, no refused commands (it may run programs, load libraries and write "
        "files anywhere your user can)",
    )
    parser.add_argument(
        "--solver",
        choices=["auto", "klu", "sparse"],
        default="auto",
        help="linear solver: auto (KLU when available and the netlist names none), klu, or sparse (turns a "
        "netlist's .options klu off)",
    )
    g = parser.add_argument_group("which results")
    which = g.add_mutually_exclusive_group()
    which.add_argument(
        "--plot", help="the plot to print and save, by ngspice's name (op1, tran1, ac1 ...; default the last)"
    )
    which.add_argument(
        "--vector",
        type=INDEX,
        help="netlists with one .op per input vector ('memspice netlist crossbar --inputs'): the plot of vector K, "
        "numbered from 0 like the rows of the inputs file (ngspice numbers plots from 1: vector K is plot op<K+1>)",
    )
    g.add_argument(
        "--signals",
        nargs="+",
        metavar="NAME",
        help="only these signals, e.g. v(out0) i(vsense0): printed, plotted and written to --csv/--npz/--raw "
        "(default: print and plot the circuit's outputs; files get every signal)",
    )
    g.add_argument("--list", action="store_true", help="print every signal name of the plot, one per line")
    g.add_argument("--max-print", type=INDEX, default=20, help="print at most this many signals (default 20)")
    g = parser.add_argument_group("files")
    g.add_argument("--csv", metavar="FILE", help="the plot's waveforms as CSV (columns name_unit; complex: re()/im())")
    g.add_argument("--npz", metavar="FILE", help="the plot's waveforms as a NumPy .npz file")
    g.add_argument(
        "--raw",
        metavar="FILE",
        help="ngspice's binary raw file of the run (every plot; for waveform viewers, spicelib, ngspice 'load'); "
        "with --signals or --mode shared: the chosen plot, written by Waveforms.to_raw",
    )
    g.add_argument(
        "--keep",
        metavar="DIR",
        help="copy the run's private folder to DIR: files the netlist writes (wrdata, write), the prepared "
        "netlist memspice ran and ngspice's raw file (batch mode)",
    )
    g.add_argument(
        "--figure",
        metavar="FILE",
        help="plot the signals (--signals, default the circuit's outputs, at most 12) to a .png/.pdf/.svg in "
        "engineering units; one panel per unit; AC as magnitude (dB) and phase on a log frequency axis",
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bar (by default shown on a terminal for transients and DC sweeps)",
    )


def _format_value(value) -> str:
    imag = getattr(value, "imag", 0)
    if isinstance(value, complex) or imag:
        return f"{value.real: .6e}{value.imag:+.6e}j (|{abs(value):.6e}|)"
    return f"{value: .6e}"


def _refuse_other_dialect(path: Path, text: str) -> None:
    """A netlist memspice wrote for LTspice or Xyce does not run in ngspice: say so before ngspice fails."""
    for line in text.splitlines()[:3]:
        low = line.lower()
        if low.startswith("* written for ") and "by memspice (--dialect" in low:
            simulator = line[len("* written for ") :].split(" by memspice", 1)[0]
            raise ValueError(
                f"{path} was written for {simulator} (memspice netlist --dialect); 'memspice run' uses ngspice: "
                f"write the netlist again without --dialect (or --dialect ngspice), or run it in {simulator}"
            )


def _simulate(args, path: Path, text: str, workdir):
    from ..netlists.headers import header_libraries
    from ..spice import run
    from ..spice.progress import SlowSimulationWarning, slow_hint

    libraries = list(args.osdi or ()) + header_libraries(path, text, args.trust_header_osdi)
    klu = {"auto": None, "klu": True, "sparse": False}[args.solver]
    hint = slow_hint(text)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SlowSimulationWarning)  # printed above, before the run starts
        return run(
            path,
            mode=args.mode,
            timeout=args.timeout,
            osdi=libraries,
            klu=klu,
            allow_shell=args.allow_shell,
            workdir=workdir,
            progress=False if args.no_progress else None,
        )


def _keep(parent: Path, keep: str | None) -> list[str]:
    """Copy the run folder's files (inside ``parent``) to ``keep``; returns the names copied."""
    if not keep:
        return []
    runs = [p for p in parent.iterdir() if p.is_dir()]
    if not runs:
        return []
    target = Path(keep)
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for item in sorted(runs[0].rglob("*")):
        if item.is_file():
            dest = target / item.relative_to(runs[0])
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(item, dest)
            copied.append(str(item.relative_to(runs[0])))
    return copied


def _choose_plot(args, res, text: str):
    from ..netlists.builders import vector_count, vector_plot

    if args.vector is not None:
        count = vector_count(text)
        name = vector_plot(args.vector)
        if count is None and name not in res.plots:
            raise ValueError(
                "--vector: this netlist has no '* memspice-vectors:' header (one .op per input vector, written by "
                f"'memspice netlist crossbar --inputs'); pick a plot with --plot ({', '.join(res.plots)})"
            )
        if name not in res.plots:
            last = (count or len(res.plots)) - 1
            raise ValueError(f"--vector {args.vector}: this run read vectors 0..{last}")
        return res.plots[name]
    if args.plot is not None and args.plot not in res.plots:
        raise ValueError(f"--plot {args.plot}: no such plot; this run made: {', '.join(res.plots)}")
    return res.plots[args.plot] if args.plot else res.waveforms


def run(args) -> int:
    from ..spice.netlist_text import read_netlist
    from ..spice.rundir import run_folder

    path = Path(args.netlist)
    src = read_netlist(path)
    _refuse_other_dialect(path, src.text)
    if args.figure:
        check_figure_path(args.figure)
    if args.keep and args.mode == "shared":
        raise ValueError("--keep needs --mode batch: shared mode runs in memory, in no folder of its own")
    with run_folder("memspice-cli-") as parent:  # removed on every way out (memspice.spice.rundir)
        return _run_in(args, path, src, parent)


def _run_in(args, path: Path, src, parent: Path) -> int:
    from ..netlists.headers import default_signals
    from ..spice.netlist_text import RESULTS_FILE

    try:
        res = _simulate(args, path, src.text, parent if args.mode == "batch" else None)
    except Exception:
        kept = _keep(parent, args.keep)  # a failed run's files are what one needs to see
        if kept:
            print(f"memspice run: kept {len(kept)} file(s) of the failed run in {args.keep}", file=sys.stderr)
        raise
    kept = _keep(parent, args.keep)
    w = _choose_plot(args, res, src.text)
    chosen = w.select(args.signals) if args.signals else w  # unknown names: close matches suggested
    shown = chosen.names if args.signals else default_signals(w.names, src.text)
    # save first: printing can fail (a closed pipe) and must not lose the files
    if args.csv:
        chosen.to_csv(args.csv)
    if args.npz:
        chosen.to_npz(args.npz)
    if args.raw:
        raw = next(parent.glob(f"*/{RESULTS_FILE}"), None)
        if raw is not None and not args.signals:
            from ..core.files import write_atomic

            write_atomic(args.raw, raw.read_bytes())
        else:
            chosen.to_raw(args.raw)
    if args.figure:
        save_figure(lambda: w.plot(shown[:12]), args.figure)
    _report(args, res, w, shown, kept)
    return 0


def _report(args, res, w, shown: list[str], kept: list[str]) -> None:
    for line in res.warnings:
        print(f"ngspice warning: {line}", file=sys.stderr)
    print(
        f"{args.netlist}: {w.title or 'results'}; {len(w)} point(s) along {w.axis_name}, {len(w.names)} signals"
        + (f"; plots: {', '.join(res.plots)}" if len(res.plots) > 1 else "")
    )
    if args.list:
        for name in w.names:
            print(f"  {name}")
    else:
        what = "" if args.signals else " (the circuit's outputs; --signals NAME ... or --list for every signal)"
        if len(shown) < len(w.names) and what:
            print(f"  {len(shown)} of {len(w.names)} signals{what}")
        for name in shown[: args.max_print]:
            value = _format_value(w[name][-1])
            print(f"  {name:24s} {'final' if len(w) > 1 else 'value'} {value} {w.units.get(name, '')}")
        if len(shown) > args.max_print:
            print(f"  ... {len(shown) - args.max_print} more (--max-print N, --signals NAME ..., or --csv/--npz)")
    for name, value in res.measurements.items():
        print(f"  .meas {name:18s} {value: .6e}")
    if res.printed:
        print("printed by the netlist's control block:")
        for line in res.printed.splitlines():
            print(f"  {line}")
    for option in ("csv", "npz", "raw", "figure"):
        if getattr(args, option):
            print(f"wrote {getattr(args, option)}")
    if args.keep:
        print(f"kept {len(kept)} file(s) of the run in {args.keep}: {', '.join(kept)}")
