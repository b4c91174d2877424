"""memspice netlist TARGET: a ready-to-run netlist of a whole circuit.

Each target has a parser of its own, so an option that does not apply to it (``netlist lif --rows 32``)
is an error naming the targets that take it, not silently ignored.
"""

from __future__ import annotations

import numpy as np

from ._common import (
    CELL,
    CELL_NAMES,
    COUNT,
    FINITE,
    INDEX,
    NONNEG,
    POSITIVE,
    add_array_options,
    add_own_data,
    array_options,
    check_memory,
    crossbar_from_files,
    write_text,
)

HELP = "write a ready-to-run ngspice netlist of a whole circuit"
DESCRIPTION = (
    "Write a readable, hierarchical ngspice netlist (LTspice or Xyce with --dialect). Targets: crossbar (MVM "
    "read with wires, drivers and TIAs; random or from your own files), lif (threshold-switch neuron), solver "
    "(closed-loop A x = b), write (V/2 or V/3 programming bias). Values are SI units (Ohm, S, V, A, s). "
    "'memspice netlist TARGET --help' lists each target's options. Netlists name their outputs in a "
    "'* memspice-outputs:' header line, which 'memspice run' prints and plots by default."
)


def _common(parser, face: bool = True) -> None:
    from ..core.faces import Face
    from ..netlists.dialects import Dialect

    parser.add_argument("-o", "--output", help="netlist file (default: print to the terminal)")
    parser.add_argument(
        "--dialect",
        choices=[d.value for d in Dialect],
        help="simulator to write for: ngspice (default), ltspice (if() for C-style ?: conditionals, no .control "
        "blocks) or xyce (IF(), I={...} B-sources, PARAMS: on subcircuit calls, .PRINT instead of .save); "
        "behavioural face only. 'memspice run' runs ngspice netlists only",
    )
    if face:
        parser.add_argument(
            "--face",
            choices=[f.value for f in Face],
            help="device models as B-source subcircuits (default) or Verilog-A N instances; the compiled .osdi "
            "files are named by file name in '* memspice-osdi:' header lines, which 'memspice run' finds in "
            "memspice's OSDI cache (a comment in the netlist says how to load them in plain ngspice)",
        )


def _crossbar(parser) -> None:
    from ..circuits.periphery import R_F, TIAKind
    from ..netlists.dialects import SAVE_OUTPUTS_ABOVE, Save

    _common(parser)
    parser.add_argument(
        "--save",
        choices=[v.value for v in Save],
        help="which vectors the simulator keeps: outputs (v(in<i>), v(s<j>), i(vsense<j>), v(out<j>) only), all, "
        f"or auto (default: outputs above {SAVE_OUTPUTS_ABOVE} cells, i.e. 64x64, to keep the raw file small)",
    )
    g = parser.add_argument_group("random array (without --weights/--conductances)")
    g.add_argument("--rows", type=COUNT, help="word lines (default 8)")
    g.add_argument("--cols", type=COUNT, help="bit lines (default 8)")
    g.add_argument(
        "--v-read", type=FINITE, help="largest random input, V (inputs are uniform in 0..v_read; default 0.2)"
    )
    g.add_argument("--signed", action="store_true", default=None, help="signed random weights as G+/G- column pairs")
    add_array_options(parser)
    g = parser.add_argument_group("read-out")
    g.add_argument(
        "--tia", choices=[k.value for k in TIAKind], help="column read-out (default none: 0 V sense sources)"
    )
    g.add_argument("--r-f", type=POSITIVE, help=f"TIA feedback resistance, Ohm (default {R_F:g})")
    g.add_argument("--analysis", help="analysis line (default .op)")
    g = add_own_data(parser)
    g.add_argument(
        "--vector",
        type=INDEX,
        help="use only this row of --inputs (numbered from 0); without it every vector is one .op in a .control "
        "block and vector k is ngspice's plot op<k+1> ('memspice run --vector k' picks it)",
    )


def _lif(parser) -> None:
    _common(parser)
    parser.add_argument("--current", type=FINITE, help="input current, A (default 20e-6)")
    parser.add_argument("--t-stop", type=POSITIVE, help="simulated time, s (default 20e-6)")
    parser.add_argument("--step", type=POSITIVE, help="time step, s (default 5e-9)")


def _solver(parser) -> None:
    _common(parser, face=False)
    parser.add_argument("--size", type=COUNT, help="n for the n x n system (default 3)")
    parser.add_argument("--seed", type=INDEX, help="seed of the random system (default 0)")
    parser.add_argument("--gain", type=POSITIVE, help="op-amp open-loop gain (default 1e6)")


def _write(parser) -> None:
    _common(parser, face=False)
    parser.add_argument("--rows", type=COUNT, help="word lines (default 8)")
    parser.add_argument("--cols", type=COUNT, help="bit lines (default 8)")
    parser.add_argument("--cell", type=CELL, help="cell kind, any case: " + ", ".join(CELL_NAMES) + " (default 1S1R)")
    parser.add_argument("--row", type=INDEX, help="selected row, from 0 (default 0)")
    parser.add_argument("--col", type=INDEX, help="selected column, from 0 (default 0)")
    parser.add_argument("--v-write", type=FINITE, help="programming voltage, V (default 1.6)")
    parser.add_argument("--scheme", choices=["V/2", "V/3"], help="half-select scheme (default V/2)")
    parser.add_argument("--r-word", type=NONNEG, help="word-line resistance per segment, Ohm (default 1)")
    parser.add_argument("--r-bit", type=NONNEG, help="bit-line resistance per segment, Ohm (default 1)")


TARGETS = {
    "crossbar": (_crossbar, "crossbar read: random array, or your own --weights/--conductances and --inputs"),
    "lif": (_lif, "threshold-switch leaky integrate-and-fire neuron driven by a constant current"),
    "solver": (_solver, "closed-loop crossbar solver for a random, well-conditioned A x = b"),
    "write": (_write, "V/2 or V/3 half-select bias of one cell being programmed (.op)"),
}
#: builder keyword arguments each target's options map to (argparse destinations)
BUILDER_OPTIONS = {
    "crossbar": (
        "rows cols cell r_word r_bit r_source r_sense v_read g_min g_max seed variation stuck_off stuck_on signed "
        "tia r_f analysis face save dialect"
    ).split(),
    "lif": ["current", "t_stop", "step", "face", "dialect"],
    "solver": ["size", "seed", "gain", "dialect"],
    "write": ["rows", "cols", "cell", "row", "col", "v_write", "scheme", "r_word", "r_bit", "dialect"],
}


def configure(parser) -> None:
    sub = parser.add_subparsers(dest="circuit", required=True, metavar="TARGET")
    for name, (add, help_text) in TARGETS.items():
        add(sub.add_parser(name, help=help_text, description=help_text))


def run(args) -> int:
    from ..core.faces import Face
    from ..netlists.builders import BUILDERS
    from ..netlists.dialects import Dialect

    dialect = Dialect.parse(args.dialect or Dialect.NGSPICE)
    face = getattr(args, "face", None)
    if dialect is not Dialect.NGSPICE and face is not None and Face.parse(face) is Face.VERILOG_A:
        raise ValueError(
            f"--dialect {dialect.value} --face {Face.VERILOG_A.value}: the Verilog-A face needs ngspice's OSDI "
            "loader (LTspice has no Verilog-A; Xyce needs its own ADMS-compiled plugin); use --face "
            f"{Face.BEHAVIOURAL.value}"
        )
    if args.circuit == "crossbar" and (args.weights or args.conductances):
        write_text(args.output, _own_crossbar(args, dialect))
        return 0
    if args.circuit == "crossbar" and (args.inputs or args.vector is not None):
        raise ValueError("--inputs needs --weights FILE or --conductances FILE (the array the vectors drive)")
    opts = {k: getattr(args, k) for k in BUILDER_OPTIONS[args.circuit] if getattr(args, k, None) is not None}
    if args.circuit in ("crossbar", "write"):
        rows, cols = opts.get("rows", 8), opts.get("cols", 8)
        check_memory(f"--rows {rows} --cols {cols}", rows * cols * (2 if opts.get("signed") else 1))
        for name, limit in (("row", rows), ("col", cols)):
            if opts.get(name) is not None and opts[name] >= limit:
                raise ValueError(f"--{name} {opts[name]} is outside the array (0..{limit - 1})")
    if args.circuit == "solver" and opts.get("size"):
        check_memory(f"--size {opts['size']}", opts["size"] ** 2)
    write_text(args.output, BUILDERS[args.circuit](**opts))
    return 0


def _own_crossbar(args, dialect) -> str:
    """``netlist crossbar --weights/--conductances FILE [--inputs FILE [--vector K]]``."""
    from pathlib import Path

    from ..circuits.datafiles import load_inputs
    from ..circuits.periphery import R_F, make_tia
    from ..core.faces import Face
    from ..netlists.builders import build_crossbar_from

    for name in ("rows", "cols"):
        if getattr(args, name) is not None:
            raise ValueError(f"--{name} applies to random arrays; your file sets the array's size")
    if args.inputs and args.v_read is not None:
        raise ValueError("--v-read sets random inputs; --inputs FILE gives them")
    if args.signed:
        raise ValueError("--signed: with --weights the weights' signs decide (any negative weight gives G+/G- pairs)")
    xbar, mapping = crossbar_from_files(args, array_options(args))
    if args.inputs:
        vectors = load_inputs(args.inputs, xbar.m)
        if args.vector is not None:
            if args.vector >= len(vectors):
                raise ValueError(f"--vector {args.vector} is outside {args.inputs} (vectors 0..{len(vectors) - 1})")
            vectors = vectors[args.vector : args.vector + 1]
    else:
        if args.vector is not None:
            raise ValueError("--vector picks a row of --inputs FILE; give --inputs")
        v_read = 0.2 if args.v_read is None else args.v_read
        vectors = np.random.default_rng(args.seed or 0).uniform(0, v_read, (1, xbar.m))
    source = Path(args.weights or args.conductances).name
    return build_crossbar_from(
        xbar,
        vectors,
        mapping,
        sense=make_tia(args.tia or "none", R_F if args.r_f is None else args.r_f),
        face=Face.parse(args.face) if args.face else Face.BEHAVIOURAL,
        analysis=args.analysis or ".op",
        save=args.save or "auto",
        dialect=dialect,
        source=source,
    )
