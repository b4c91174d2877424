"""memspice validate: the same circuits on every backend, compared."""

from pathlib import Path

from ._common import add_threads

HELP = "run the same circuits on every backend and write a comparison report"
DESCRIPTION = (
    "Compare the Python reference, the sparse solver, ngspice (behavioural and Verilog-A/OSDI) and VACASK on "
    "the same circuits; writes report.md, report.json and plots. Exit status 1 if any comparison exceeds its "
    "tolerance."
)


def configure(parser) -> None:
    parser.add_argument("-o", "--output", default="validation", help="folder for the report (default validation)")
    parser.add_argument("--quick", action="store_true", help="one device and an 8x8 crossbar only")
    add_threads(parser)


def run(args) -> int:
    from ..analysis.validate import validate

    summary = validate(args.output, quick=args.quick)
    for r in summary["comparisons"]:
        print(
            f"{'PASS' if r['pass'] else 'FAIL'}  {r['circuit']:38s} {r['a']:>20s} vs {r['b']:<20s} "
            f"{r['signal']:15s} {r['max_error']:.2e} (tol {r['tolerance']:.0e})"
        )
    for s in summary["skipped"]:
        print(f"SKIP  {s['circuit']:38s} {s['backend']}: {s['why']}")
    print(f"report: {Path(args.output) / 'report.md'}  overall {'PASS' if summary['pass'] else 'FAIL'}")
    return 0 if summary["pass"] else 1
