"""Full MVM IR-drop study (Bao et al. 2022, IR drop): relative error vs wire resistance and array size,
1R, 1S1R and self-rectifying TiOx arrays from 32 x 32 (the selector-less TiOx chip)
to 1024 x 1024 with the sparse solver.  Writes a figure, a CSV and the table as JSON
(``benchmarks/results/mvm_error_study.json``).

    python benchmarks/mvm_error_study.py [-o reproductions] [--sizes 32 64 128 256 512 1024]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchcommon import RESULTS, write_results

from memspice.analysis.reproductions import mvm_error


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", default="reproductions")
    ap.add_argument("--sizes", type=int, nargs="*", default=[32, 64, 128, 256, 512, 1024])
    ap.add_argument("--r-wires", type=float, nargs="*", default=[0.1, 1.0, 5.0])
    ap.add_argument("--json", default=str(RESULTS / "mvm_error_study.json"), help="table as JSON")
    args = ap.parse_args(argv)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    table, fig = mvm_error(sizes=tuple(args.sizes), r_wires=tuple(args.r_wires))
    fig.savefig(out / "mvm_error_full.png", dpi=150)
    table.to_csv(out / "mvm_error_full.csv", index=False)
    print(table.pivot_table(index=["cell", "n"], columns="r_wire_ohm", values="rms_rel_error").to_string())
    write_results(args.json, "mvm_error_study", table.to_dict("records"), args, {"seconds": time.perf_counter() - t0})
    print(f"{time.perf_counter() - t0:.1f} s; wrote {out / 'mvm_error_full.png'} and {args.json}")


if __name__ == "__main__":
    main()
