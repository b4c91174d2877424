"""memspice read: the outputs of your own array for many input vectors, as a table (and a figure)."""

from __future__ import annotations

import sys

from ._common import (
    BITS,
    ORIENTATION,
    POSITIVE,
    TABLES,
    WEIGHT_MAPPING,
    add_array_options,
    add_figure,
    add_ngspice_options,
    add_own_data,
    add_threads,
    check_figure_path,
    crossbar_from_files,
    save_figure,
)

HELP = "output currents of a crossbar for many input vectors, from your own files, to CSV"
DESCRIPTION = (
    "DC read of a crossbar built from your weights (or conductances) for every input vector, on the sparse "
    "solver or ngspice, with optional DAC, TIA and ADC (memspice.analysis.readout.read_crossbar). "
    + ORIENTATION
    + " "
    + WEIGHT_MAPPING
    + " Output columns: i<j>_A (signed weights: I+ - I- per weight column), v_out<j>_V with --tia, code<j> and "
    "adc<j>_V (or _A) with --adc-bits; rows: vector 0, 1, ... " + TABLES
)


def configure(parser) -> None:
    from ..circuits.periphery import R_F, TIAKind

    add_own_data(parser, required=True)
    parser.add_argument("-o", "--output", default="outputs.csv", help="CSV to write (default outputs.csv)")
    add_figure(parser, "outputs per vector and against the ideal ones")
    parser.add_argument(
        "--backend",
        choices=["auto", "sparse", "ngspice"],
        default="auto",
        help="auto: ngspice up to 64x64 cells when installed, else the sparse solver",
    )
    add_ngspice_options(parser)
    add_array_options(parser)
    g = parser.add_argument_group("periphery")
    g.add_argument("--dac-bits", type=BITS, help="quantise |inputs| to 2^bits - 1 levels of --dac-full-scale")
    g.add_argument("--dac-full-scale", type=POSITIVE, help="DAC full scale, V (default the largest |input|)")
    g.add_argument(
        "--tia",
        choices=[k.value for k in TIAKind],
        default="none",
        help="TIA per output: v_out = -R_f I (opamp: finite gain, small-signal DC; default none)",
    )
    g.add_argument("--r-f", type=POSITIVE, help=f"TIA feedback resistance, Ohm (default {R_F:g})")
    g.add_argument("--adc-bits", type=BITS, help="quantise the TIA output (or the current)")
    g.add_argument(
        "--adc-full-scale", type=POSITIVE, help="ADC full scale, V with --tia else A (default the largest |output|)"
    )
    add_threads(parser)


def run(args) -> int:
    from ..analysis.readout import ReadChain, read_crossbar
    from ..circuits.datafiles import load_inputs
    from ..circuits.periphery import R_F
    from ..core.files import write_atomic

    if args.figure:
        check_figure_path(args.figure)
    xbar, mapping = crossbar_from_files(args)
    inputs = load_inputs(args.inputs, xbar.m)
    chain = ReadChain(
        dac_bits=args.dac_bits,
        dac_full_scale=args.dac_full_scale,
        tia=args.tia,
        r_f=R_F if args.r_f is None else args.r_f,
        adc_bits=args.adc_bits,
        adc_full_scale=args.adc_full_scale,
    )
    result = read_crossbar(xbar, inputs, mapping, chain, args.backend, args.mode, args.timeout)
    write_atomic(args.output, result.table().to_csv())
    if args.figure:
        save_figure(result.figure, args.figure)
    k = result.currents.shape[1]
    print(
        f"{xbar.m}x{xbar.n} {xbar.cell.name} array, {len(inputs)} vector(s) -> {k} outputs on {result.backend} "
        f"({result.reason})"
    )
    for note in result.notes:
        print(note)
    if result.max_relative_error is not None:
        print(
            f"max |I - I_ideal| / max |I_ideal| = {result.max_relative_error:.3e} "
            "(ideal: no wire resistance, linear cells)"
        )
    if result.backend == "ngspice" and len(inputs) * xbar.m * xbar.n > 16 * 64 * 64:
        print(
            "hint: --backend sparse reads large arrays and many vectors faster than ngspice "
            "(agrees with it to about 1e-9)",
            file=sys.stderr,
        )
    print(f"wrote {args.output}")
    if args.figure:
        print(f"wrote {args.figure}")
    return 0
