"""Cost and effect of the structured solver's output-current stopping test (issue 9).

CG on the line-preconditioned crossbar system stops when the relative residual is below ``tol`` (1e-12); the
extra test asks every bit line's current balance to close to ``i_tol`` of its output current, so the currents
users read are within ~``i_tol`` of the exact nodal solution.  For each size this runs the same solve with
the test off (``i_tol=inf``) and on (``i_tol=1e-10``, the default of :func:`memspice.solver.solve_dc`), best of
``--repeats``, and where ``n <= --direct-max`` compares both against a direct sparse solve of the same
nodal matrix.  The target is under 20% extra time at 1e-10 relative accuracy of every output current.

    python benchmarks/output_accuracy.py                   # 512 1024 2048, direct up to 512
    python benchmarks/output_accuracy.py --sizes 256 512 --direct-max 512

Writes ``benchmarks/results/output_accuracy.json`` and ``.png``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from benchcommon import add_output_args, add_thread_arg, plot_results, row, write_results

TOLERANCES = {"residual test only": np.inf, "with output test": 1e-10}


def problem(n: int, seed: int = 0):
    """Uniform 1e-6..1e-4 S cells, 1 Ohm wires, inputs uniform 0..1 V (issue 9's setting)."""
    from memspice.circuits.crossbar import Crossbar

    rng = np.random.default_rng(seed)
    return Crossbar(rng.uniform(1e-6, 1e-4, (n, n)), r_word=1.0, r_bit=1.0), rng.uniform(0.0, 1.0, n)


def measure(n: int, repeats: int, direct: bool) -> list[dict]:
    from memspice.solver import solve_dc, structured

    xbar, v = problem(n)
    system = structured.LineSystem(xbar, xbar.conductances)
    bw, bb = system.drive(v, np.zeros(n))
    exact = solve_dc(xbar, v, method="direct").output_currents[0] if direct else None
    rows = []
    for tool, i_tol in TOLERANCES.items():
        best, its, out = np.inf, 0, None
        for _ in range(repeats):
            t0 = time.perf_counter()
            _, vb, its = system.solve(bw, bb, i_tol=i_tol)
            best = min(best, time.perf_counter() - t0)
            out = system.g_last * vb[-1]
        err = float(np.max(np.abs(out - exact) / np.abs(exact))) if direct else None
        rows.append(row(tool, n, best, iterations=its, max_rel_error=err))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048])
    ap.add_argument("--direct-max", type=int, default=512, help="compare with a direct solve up to this n")
    ap.add_argument("--repeats", type=int, default=5)
    add_thread_arg(ap)
    add_output_args(ap, "output_accuracy")
    args = ap.parse_args(argv)
    from memspice.circuits.crossbar import Crossbar
    from memspice.solver import get_threads, set_threads, solve_dc
    from memspice.solver.threads import max_threads

    before = get_threads()
    if args.threads:  # this benchmark runs in this process: numba's own thread count, restored afterwards
        set_threads(min(args.threads, max_threads()))
    try:
        solve_dc(Crossbar(np.full((4, 4), 1e-5), r_word=1.0, r_bit=1.0), np.ones(4), method="structured")  # compile
        rows, summary = [], {}
        print(f"{'n':>6} {'test':>20} {'s':>8} {'iter':>5} {'max rel err':>12}")
        for n in args.sizes:
            pair = measure(n, args.repeats, n <= args.direct_max)
            rows += pair
            for r in pair:
                err = "-" if r["max_rel_error"] is None else f"{r['max_rel_error']:.1e}"
                print(f"{n:>6} {r['tool']:>20} {r['seconds']:8.3f} {r['iterations']:>5} {err:>12}")
            summary[f"extra_time_{n}"] = pair[1]["seconds"] / pair[0]["seconds"] - 1.0
            print(f"{n:>6} extra time of the output test: {100 * summary[f'extra_time_{n}']:.1f}%")
    finally:
        set_threads(before)
    write_results(args.json, "output_accuracy", rows, args, summary)
    plot_results(args.png, rows, "structured CG: residual test vs output-current test")


if __name__ == "__main__":
    main()
