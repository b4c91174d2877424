"""memspice sweep: every crossbar parameter sweepable, seeded Monte Carlo through Dask, a tidy table."""

from __future__ import annotations

import argparse

from ._common import (
    BITS_OR_NONE,
    CELL,
    COUNT,
    FRACTION,
    INDEX,
    NONNEG,
    ORIENTATION,
    POSITIVE,
    TABLES,
    add_figure,
    add_own_data,
    add_threads,
    check_figure_path,
    check_memory,
    progress_wanted,
    save_figure,
)

HELP = "parameter sweep / Monte Carlo of crossbar read error (Dask, seeded) to a tidy CSV table"
DESCRIPTION = (
    "Every combination of the listed values (any option below takes several), --samples seeded Monte Carlo "
    "draws each, run in parallel with Dask (local processes, or a distributed cluster with --address). Each point "
    "reads the array on the sparse solver through the DAC, TIA and ADC and reports the MVM error against the "
    "ideal G^T v (memspice.analysis.sweeps.sweep_crossbar). Random n x n arrays by default; your own array with "
    "--weights/--conductances and --inputs (" + ORIENTATION + "). One row per point and sample, every parameter a "
    "column (pandas: pd.read_csv(...).groupby(...)). " + TABLES + " Same seed, same table."
)

#: option type of each sweep parameter (memspice.analysis.sweeps.SWEEP_PARAMETERS names them)
TYPES = {
    "n": COUNT,
    "cell": CELL,
    "variation": NONNEG,
    "r_word": NONNEG,
    "r_bit": NONNEG,
    "r_source": NONNEG,
    "r_sense": NONNEG,
    "g_min": POSITIVE,
    "g_max": POSITIVE,
    "stuck_off": FRACTION,
    "stuck_on": FRACTION,
    "v_read": POSITIVE,
    "dac_bits": BITS_OR_NONE,
    "adc_bits": BITS_OR_NONE,
    "r_f": POSITIVE,
}
#: the grid when no option names a value list: variation 0, 5 and 10 % (the default Monte Carlo study)
DEFAULT_VARIATION = [0.0, 0.05, 0.1]


class _Renamed(argparse.Action):
    """An option that was renamed: the error names the new spelling."""

    def __init__(self, option_strings, dest, new="", **kwargs):
        self.new = new
        super().__init__(option_strings, dest, nargs="*", help=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(f"{option_string} was renamed: use {self.new}")


def configure(parser) -> None:
    from ..analysis.sweeps import SWEEP_PARAMETERS
    from ..circuits.periphery import TIAKind

    parser.add_argument("-o", "--output", default="sweep.csv", help="CSV to write, one row per point and sample")
    add_figure(parser, "the error against the first varied parameter (mean and spread over samples)")
    g = parser.add_argument_group("swept parameters (each takes one or more values)")
    for name, (unit, default, meaning) in SWEEP_PARAMETERS.items():
        flags = ["--" + name.replace("_", "-")] + (["--sigma"] if name == "variation" else [])
        shown = DEFAULT_VARIATION if name == "variation" else default
        text = f"{meaning}{', ' + unit if unit else ''}" + (f" (default {shown})" if shown is not None else "")
        if name == "tia":
            g.add_argument(*flags, nargs="+", choices=[k.value for k in TIAKind], help=text)
        else:
            g.add_argument(*flags, type=TYPES[name], nargs="+", metavar="X", help=text)
    parser.add_argument("--r-wire", action=_Renamed, new="--r-word R ... --r-bit R ... (one name per line kind)")
    parser.add_argument("--samples", type=COUNT, default=10, help="Monte Carlo draws per grid point (default 10)")
    parser.add_argument("--seed", type=INDEX, default=0, help="master seed (default 0)")
    add_own_data(parser)
    g = parser.add_argument_group("Dask")
    g.add_argument(
        "--scheduler",
        choices=["processes", "threads", "synchronous"],
        default="processes",
        help="local Dask scheduler (default processes)",
    )
    g.add_argument("--workers", type=COUNT, help="local workers (default: all cores)")
    g.add_argument("--address", help="a distributed scheduler address, e.g. tcp://host:8786")
    add_threads(parser)


def run(args) -> int:
    from ..analysis.sweeps import SWEEP_PARAMETERS, sweep_crossbar
    from ..circuits.array_options import ArrayOptions
    from ..circuits.datafiles import load_inputs, load_matrix
    from ..core.files import write_atomic

    if args.figure:
        check_figure_path(args.figure)
    grid = {name: getattr(args, name) for name in SWEEP_PARAMETERS if getattr(args, name) is not None}
    grid.setdefault("variation", DEFAULT_VARIATION)
    own: dict = {}
    if args.weights or args.conductances:
        if not args.inputs:
            raise ValueError("--inputs is needed with --weights/--conductances (the vectors to read)")
        for name in ("n", "v_read"):
            if name in grid:
                raise ValueError(f"--{name.replace('_', '-')} applies to random arrays; your files set the array")
        kind = "conductances" if args.conductances else "weights"
        values = load_matrix(getattr(args, kind), f"--{kind}")
        ArrayOptions().crossbar(values, kind, what=f"--{kind}")  # refuse bad values before the sweep starts
        own = {kind: values, "inputs": load_inputs(args.inputs, values.shape[0])}
        cells = values.size
    elif args.inputs:
        raise ValueError("--inputs needs --weights FILE or --conductances FILE (the array the vectors drive)")
    else:
        cells = max(grid.get("n", [SWEEP_PARAMETERS["n"][1]])) ** 2
    points = args.samples
    for values in grid.values():
        points *= len(values)
    check_memory(f"sweep of {points} points", cells, 1, bytes_per_cell=400)
    table = sweep_crossbar(
        grid,
        samples=args.samples,
        seed=args.seed,
        address=args.address,
        scheduler=args.scheduler,
        num_workers=args.workers,
        progress=progress_wanted(),
        **own,
    )
    write_atomic(args.output, table.to_csv(index=False))
    if args.figure:
        from ..analysis.plots import sweep_summary

        save_figure(lambda: sweep_summary(table), args.figure)
    _summary(table, args, points)
    return 0


def _summary(table, args, points: int) -> None:
    fixed = {"sample", "seed", "mvm_max_rel_error", "mvm_rms_rel_error", "mean_output_A"}
    varied = [c for c in table.columns if c not in fixed and table[c].nunique() > 1] or ["variation"]
    summary = table.groupby(varied)["mvm_max_rel_error"].agg(["mean", "std", "max", "count"])
    print(
        f"{points} points ({args.samples} sample(s) per grid point), seed {args.seed}; "
        "MVM max relative error vs ideal G^T v:"
    )
    print(summary.to_string(float_format=lambda x: f"{x:.3e}"))
    print(f"wrote {args.output}")
    if args.figure:
        print(f"wrote {args.figure}")
