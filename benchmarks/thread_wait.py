"""Reads with all cores, idle OpenMP threads spinning or sleeping, on a quiet and on a busy machine.

memspice sets ``OMP_WAIT_POLICY=PASSIVE`` (sleeping idle threads) at the import of :mod:`memspice.solver`
unless the user chose a policy (:func:`memspice.solver.threads.configure_waiting`).  This measures why:
for each policy (``default``: libgomp's own, spin a while then sleep; ``ACTIVE``: spin; ``PASSIVE``: sleep)
and each load (``quiet``; ``busy``: one other process spinning on one core, as a second job on a shared
machine does), a fresh process times the structured read of n x n arrays (best of ``--repeats`` batches).

    python benchmarks/thread_wait.py                       # 32 128 1024
    python benchmarks/thread_wait.py --sizes 32 128 --repeats 3

Writes ``benchmarks/results/thread_wait.json`` and ``.png``; the summary holds, per size and load, libgomp's
default time over the time with sleeping threads.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time

from benchcommon import add_output_args, plot_results, row, run_isolated, write_results

POLICIES = ("default", "ACTIVE", "PASSIVE")
LOADS = ("quiet", "busy")
#: reads per timed batch: about 0.1-0.5 s of work per batch at each size
BATCH = {32: 200, 64: 100, 128: 50, 256: 20, 512: 5}


def reads(n: int, policy: str, repeats: int) -> float:
    """Seconds per structured read of an n x n array (1e-6..1e-4 S, 1 Ohm wires), in this fresh process."""
    import numpy as np

    from memspice.circuits.crossbar import Crossbar
    from memspice.solver import solve_dc

    # after memspice's own default, before numba starts its threads (the first solve)
    if policy == "default":
        os.environ.pop("OMP_WAIT_POLICY", None)
    else:
        os.environ["OMP_WAIT_POLICY"] = policy

    rng = np.random.default_rng(0)
    xbar = Crossbar(rng.uniform(1e-6, 1e-4, (n, n)), r_word=1.0, r_bit=1.0)
    v = rng.uniform(0.0, 0.5, n)
    solve_dc(xbar, v, method="structured")  # compile / load kernels, start threads
    batch = BATCH.get(n, 3)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(batch):
            solve_dc(xbar, v, method="structured")
        best = min(best, (time.perf_counter() - t) / batch)
    return best


def _spin(stop):
    while not stop.is_set():
        sum(range(10_000))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[32, 128, 1024])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=600.0)
    add_output_args(ap, "thread_wait")
    args = ap.parse_args(argv)

    rows = []
    print(f"{'n':>6} {'load':>6} {'policy':>8} {'ms per read':>12}")
    for load in LOADS:
        stop, hog = None, None
        if load == "busy":
            ctx = mp.get_context("spawn")
            stop = ctx.Event()
            hog = ctx.Process(target=_spin, args=(stop,), daemon=True)
            hog.start()
        try:
            for n in args.sizes:
                for policy in POLICIES:
                    status, sec, peak, _ = run_isolated(reads, n, policy, args.repeats, timeout=args.timeout)
                    rows.append(row(f"{policy.lower()} {load}", n, sec, peak, status, policy=policy, load=load))
                    shown = f"{sec * 1e3:12.3f}" if status == "ok" else f"{status:>12}"
                    print(f"{n:6d} {load:>6} {policy:>8} {shown}", flush=True)
        finally:
            if hog is not None:
                stop.set()
                hog.join(5)
    summary = {}
    for load in LOADS:
        for n in args.sizes:
            t = {
                r["policy"]: r["seconds"] for r in rows if r["size"] == n and r["load"] == load and r["status"] == "ok"
            }
            if len(t) == len(POLICIES):
                summary[f"default_over_passive_{load}_{n}"] = t["default"] / t["PASSIVE"]
    for k, v in summary.items():
        print(f"{k}: {v:.2f}")
    print("wrote", write_results(args.json, "thread_wait", rows, args, summary))
    plot_results(args.png, rows, "Structured reads, idle threads spinning (active) or sleeping (passive)")
    return rows, summary


if __name__ == "__main__":
    main()
