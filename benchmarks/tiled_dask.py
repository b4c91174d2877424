"""Scale-out: a tiled layer (default 4096 x 4096 in 256 x 256 tiles, 1000 input vectors) on dask.distributed.

Each tile is its own physical crossbar (own drivers, wires and sense amplifiers; see
:mod:`memspice.solver.tiles` for what tiling changes in the IR-drop physics), read exactly for all
vectors through its transfer matrix; outputs of the tiles in one column block are summed.  The same
layer runs on a ``LocalCluster`` with 1 and 2 worker processes (one thread each, one BLAS thread per
task) and, for reference, in this process without Dask; the table gives the speedup of 2 workers over 1.
Pass ``--address tcp://host:8786`` to use a real cluster instead (its worker count is what it is).

    python benchmarks/tiled_dask.py                        # 4096 layer (long: ~256 tile reads per run)
    python benchmarks/tiled_dask.py --layer 1024 --vectors 1000 --workers 1 2
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from benchcommon import add_output_args, max_rel_diff, peak_bytes, plot_results, row, write_results

R_WIRE = 1.0  # Ohm per segment


def problem(layer: int, p: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.uniform(1e-6, 1e-4, (layer, layer)), rng.uniform(0.0, 0.5, (p, layer))  # inputs vectors first


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layer", type=int, default=4096)
    ap.add_argument("--tile", type=int, default=256)
    ap.add_argument("--vectors", type=int, default=1000)
    ap.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--address", default=None, help="dask.distributed scheduler address (default: LocalCluster)")
    ap.add_argument("--no-serial", action="store_true", help="skip the in-process reference run")
    add_output_args(ap, "tiled_dask")
    args = ap.parse_args(argv)

    from distributed import Client, LocalCluster

    from memspice.solver.tiles import Scheduler, read_tiled

    g, v = problem(args.layer, args.vectors)
    kw = dict(tile=args.tile, r_word=R_WIRE, r_bit=R_WIRE)
    rows, outs = [], {}
    print(
        f"layer {args.layer}x{args.layer}, tiles {args.tile}x{args.tile} "
        f"({(-(-args.layer // args.tile)) ** 2} tiles), {args.vectors} vectors"
    )
    print(f"{'run':>16} {'workers':>8} {'time s':>9} {'speedup':>8} {'peak MB/worker':>15}")
    configs = [] if args.address else [(k, None) for k in args.workers]
    if args.address:
        configs.append((None, args.address))
    for k, address in configs:
        cluster = None
        if address is None:
            cluster = LocalCluster(n_workers=k, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
        else:
            client = Client(address)
            k = len(client.scheduler_info()["workers"])
        try:
            # warm the workers (imports, compiled kernels) on a tiny layer: not part of the measurement
            read_tiled(g[:8, :8], v[:2, :8], tile=4, client=client, r_word=R_WIRE, r_bit=R_WIRE)
            t0 = time.perf_counter()
            outs[k] = read_tiled(g, v, client=client, **kw)
            t = time.perf_counter() - t0
            peaks = client.run(peak_bytes)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
        peak = max(peaks.values()) if peaks else 0
        rows.append(row(f"dask-{k}", k, t, peak, layer=args.layer, tile=args.tile, vectors=args.vectors, workers=k))
        print(f"{'distributed':>16} {k:>8} {t:9.2f} {'':>8} {peak / 1e6:15.0f}")
    if not args.no_serial:
        t0 = time.perf_counter()
        outs[0] = read_tiled(g, v, scheduler=Scheduler.SYNCHRONOUS, **kw)
        t = time.perf_counter() - t0
        rows.append(
            row("in-process", 1, t, peak_bytes(), layer=args.layer, tile=args.tile, vectors=args.vectors, workers=0)
        )
        print(f"{'in-process':>16} {'-':>8} {t:9.2f}")
    base = next((r["seconds"] for r in rows if r.get("workers") == 1), None)
    summary = {}
    for r in rows:
        if base and r.get("workers", 0) >= 1:
            r["speedup_over_1_worker"] = base / r["seconds"]
            summary[f"speedup_{r['workers']}_workers"] = r["speedup_over_1_worker"]
    ref = next(iter(outs.values()), None)
    if ref is not None:
        summary["max_rel_diff_between_runs"] = max(max_rel_diff(o, ref) for o in outs.values())
    for key, val in summary.items():
        print(f"{key}: {val:.3g}")
    path = write_results(args.json, "tiled_dask", rows, args, summary)
    plot_results(
        args.png,
        rows,
        f"{args.layer}x{args.layer} layer in {args.tile}x{args.tile} tiles, {args.vectors} vectors",
        xlabel="dask workers",
    )
    print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    main()
