"""Nonlinear crossbar DC reads: 1S1R and TiOx vs the linear (1R) array of the same size, in one run.

Issue 13's target: 1S1R and TiOx 1024 x 1024 DC converge, each within 30x the linear 1024 x 1024 time
measured in the same run.  Inputs uniform in 0..1 V, 1 Ohm word and bit segments (the issue's set-up);
1R/1S1R conductances uniform 1e-6..1e-4 S, TiOx states uniform 0..1.  ngspice (KLU) reads the same
arrays up to ``--spice-max`` for agreement and a peer ratio.  Each (tool, cell, size) runs in a fresh
process (own peak memory).

    python benchmarks/nonlinear.py                       # 256, 512, 1024
    python benchmarks/nonlinear.py --sizes 1024 --cells 1R 1S1R tiox
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from benchcommon import (
    add_output_args,
    add_thread_arg,
    limit_threads,
    max_rel_diff,
    plot_results,
    row,
    run_isolated,
    write_results,
)

R_WIRE = 1.0  # Ohm per segment


def crossbar(cell: str, n: int, seed: int = 0):
    from memspice.circuits.crossbar import Crossbar

    rng = np.random.default_rng(seed)
    v = rng.uniform(0.0, 1.0, n)
    if cell.lower() in ("tiox", "memristor"):
        return Crossbar(state=rng.uniform(0.0, 1.0, (n, n)), cell=cell, r_word=R_WIRE, r_bit=R_WIRE), v
    return Crossbar(rng.uniform(1e-6, 1e-4, (n, n)), cell=cell, r_word=R_WIRE, r_bit=R_WIRE), v


def run_memspice(cell, n):
    from memspice.solver import solve_dc

    # load (or, after an edit of the solver, compile) the structured path's kernels first: not timed
    solve_dc(*crossbar(cell, 4), method="structured")
    xbar, v = crossbar(cell, n)
    t0 = time.perf_counter()
    sol = solve_dc(xbar, v)
    info = {k: sol.info.get(k) for k in ("method", "iterations")}
    its = sol.info.get("newton_iterations")
    info["newton_iterations"] = int(np.max(its)) if its is not None and np.size(its) else None
    return time.perf_counter() - t0, sol.output_currents[0], info


def run_ngspice(cell, n):
    from memspice.netlists.multi_vector import read_many_ngspice

    xbar, v = crossbar(cell, n)
    t0 = time.perf_counter()
    out = read_many_ngspice(xbar, v, timeout=3600)
    return time.perf_counter() - t0, out[0], {}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[256, 512, 1024])
    ap.add_argument("--cells", nargs="*", default=["1R", "1S1R", "tiox"])
    ap.add_argument("--spice-max", type=int, default=64)
    ap.add_argument("--timeout", type=float, default=900.0)
    add_output_args(ap, "nonlinear")
    add_thread_arg(ap)
    args = ap.parse_args(argv)
    limit_threads(args.threads)
    rows = []
    print(
        f"{'n':>5} {'cell':>6} {'tool':>9} {'time s':>9} {'x linear':>9} {'peak MB':>8} {'newton':>7} {'rel diff':>9}"
    )
    for n in args.sizes:
        linear_t, ref = None, {}
        for cell in args.cells:
            status, res, peak, base = run_isolated(run_memspice, cell, n, timeout=args.timeout)
            if status != "ok":
                rows.append(row(f"memspice-{cell}", n, None, peak, status, cell=cell))
                print(f"{n:>5} {cell:>6} {'memspice':>9} {status}")
                continue
            t, out, info = res
            ref[cell] = out
            if cell.upper() == "1R":
                linear_t = t
            ratio = t / linear_t if linear_t else None
            rows.append(
                row(f"memspice-{cell}", n, t, peak, cell=cell, over_linear=ratio, baseline_mb=base / 1e6, **info)
            )
            print(
                f"{n:>5} {cell:>6} {'memspice':>9} {t:9.3f} {ratio if ratio else float('nan'):9.1f} "
                f"{peak / 1e6:8.0f} {info.get('newton_iterations') or '':>7}"
            )
            if n <= args.spice_max:
                status, res, peak, base = run_isolated(run_ngspice, cell, n, timeout=args.timeout)
                if status != "ok":
                    rows.append(row(f"ngspice-{cell}", n, None, peak, status, cell=cell))
                    print(f"{n:>5} {cell:>6} {'ngspice':>9} {status}")
                    continue
                ts, outs, _ = res
                diff = max_rel_diff(outs, out)
                rows.append(row(f"ngspice-{cell}", n, ts, peak, cell=cell, over_memspice=ts / t, max_rel_diff=diff))
                print(
                    f"{n:>5} {cell:>6} {'ngspice':>9} {ts:9.3f} {'':>9} {peak / 1e6:8.0f} {'':>7} {diff:9.1e}"
                    f"  ({ts / t:.1f}x memspice)"
                )
    summary = {
        f"{r['cell']}_over_linear_n{r['size']}": r["over_linear"]
        for r in rows
        if r.get("over_linear") and r["cell"].upper() != "1R"
    }
    path = write_results(args.json, "nonlinear", rows, args, summary)
    plot_results(args.png, rows, "nonlinear DC read vs linear, one input vector")
    print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    main()
