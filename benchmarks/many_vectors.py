"""Many input vectors on one linear crossbar: memspice vs badcrossbar, scipy splu and ngspice, in one run.

memspice reads linear arrays through an exact transfer matrix
(:mod:`memspice.solver.transfer`, chosen automatically by ``read_many``), so
any number of vectors costs one matrix product after ~min(m, n) blocked
eliminations.  Two memspice entries:

* ``memspice`` (the reference of every ratio): ``read_many``, output currents only;
* ``simulate_crossbar``: the documented entry point (``ms.simulate_crossbar(xbar, V).output_currents``),
  whose lazy result computes the outputs the same way and the per-cell arrays only when asked (issue 21's
  goal: at least 100x badcrossbar at 128 x 128 with 10,000 vectors, ``badcrossbar_over_simulate_crossbar``
  in the summary).

Peers on the same arrays and vectors:

* badcrossbar (``badcrossbar.compute``, all vectors at once: it factorises once and solves every right-hand
  side, but also returns every node voltage and device current); run in chunks of ``--badcrossbar-chunk``
  vectors (default 1000) to bound its memory (each chunk re-factorises: at 128 x 128 the factorisation is a
  small part of a 1000-vector solve);
* scipy: SuperLU factorisation of the nodal matrix once, then all right-hand sides (outputs only);
* ngspice (KLU where built): ONE run with an ``alter``/``op`` loop over the vectors
  (:func:`memspice.netlists.multi_vector.read_many_ngspice`), on at most ``--spice-vectors`` vectors and
  arrays up to ``--spice-max``; its time is scaled to the full vector count (marked ``extrapolated``).

Every (tool, size) runs in a fresh process (own peak memory).  Outputs: a table on stdout,
``benchmarks/results/many_vectors.json`` and ``.png`` (time and memory vs size).

    python benchmarks/many_vectors.py                         # 64, 128, 256 with 10 000 vectors
    python benchmarks/many_vectors.py --sizes 128 --vectors 10000
    python benchmarks/many_vectors.py --sizes 1024 --vectors 1000 --peers   # memspice alone (minutes)
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

R_WIRE = 1.0  # Ohm per segment, word and bit lines
CHECK = 64  # vectors compared across tools


def problem(n: int, p: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    g = rng.uniform(1e-6, 1e-4, (n, n))
    return g, np.ascontiguousarray(rng.uniform(0.0, 0.5, (p, n)).T)  # vector k is the same for any p > k


def run_memspice(n, p):
    from memspice.circuits.crossbar import Crossbar
    from memspice.solver.transfer import choose_strategy, read_many

    g, v = problem(n, p)
    t0 = time.perf_counter()
    out = read_many(Crossbar(g, r_word=R_WIRE, r_bit=R_WIRE), v.T)  # memspice: vectors first
    return time.perf_counter() - t0, out[:CHECK], {"strategy": choose_strategy(n, n, p).value}


def run_simulate_crossbar(n, p):
    import memspice as ms

    g, v = problem(n, p)
    xbar = ms.Crossbar(g, r_word=R_WIRE, r_bit=R_WIRE)
    ms.simulate_crossbar  # noqa: B018 - import the module before timing (what a script does once)
    from memspice.spice.capabilities import ngspice_info

    ngspice_info()  # the backend choice asks once per process whether ngspice is installed: not timed
    t0 = time.perf_counter()
    out = ms.simulate_crossbar(xbar, v.T).output_currents  # vectors first
    t = time.perf_counter() - t0
    sol = ms.simulate_crossbar(xbar, v[:, :2].T)
    return t, out[:CHECK], {"outputs": sol.info.outputs}


def run_badcrossbar(n, p, chunk=1000):
    import logging
    import warnings

    warnings.simplefilter("ignore")
    logging.disable(logging.INFO)
    import badcrossbar

    g, v = problem(n, p)
    first = None
    t0 = time.perf_counter()
    for k in range(0, p, chunk):
        sol = badcrossbar.compute(v[:, k : k + chunk], 1.0 / g, r_i_word_line=R_WIRE, r_i_bit_line=R_WIRE)
        if first is None:
            first = np.asarray(sol.currents.output)[:CHECK]
        del sol
    return time.perf_counter() - t0, first, {"chunk": chunk}


def run_splu(n, p):
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    from memspice.circuits.crossbar import Crossbar
    from memspice.solver.network import build_network

    g, v = problem(n, p)
    t0 = time.perf_counter()
    xbar = Crossbar(g, r_word=R_WIRE, r_bit=R_WIRE)
    net = build_network(xbar)
    gf = g.ravel()
    A = (net.A_wire + net.B.T @ sp.diags(gf) @ net.B).tocsc()
    lu = spla.splu(A)
    out = np.empty((p, n))
    for k in range(0, p, 1000):
        vin = xbar.full_inputs(v[:, k : k + 1000].T)
        V = lu.solve(net.W_drive @ vin - net.B.T @ (gf[:, None] * (net.C @ vin)))
        u = net.B @ V + net.C @ vin
        out[k : k + 1000] = (gf[:, None] * u).reshape(n, n, -1).sum(axis=0).T
    return time.perf_counter() - t0, out[:CHECK], {}


def run_ngspice(n, p):
    from memspice.circuits.crossbar import Crossbar
    from memspice.netlists.multi_vector import read_many_ngspice

    g, v = problem(n, p)
    t0 = time.perf_counter()
    out = read_many_ngspice(Crossbar(g, r_word=R_WIRE, r_bit=R_WIRE), v.T, timeout=3600)
    return time.perf_counter() - t0, out[:CHECK], {}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[64, 128, 256])
    ap.add_argument("--vectors", type=int, default=10_000)
    ap.add_argument(
        "--peers", type=int, nargs="*", default=None, help="sizes at which peers run too (default: all sizes up to 256)"
    )
    ap.add_argument("--badcrossbar-chunk", type=int, default=1000)
    ap.add_argument("--spice-max", type=int, default=64, help="largest n run through ngspice")
    ap.add_argument("--spice-vectors", type=int, default=200, help="vectors in the ngspice run (time scaled)")
    ap.add_argument("--timeout", type=float, default=900.0, help="per tool and size, s")
    add_output_args(ap, "many_vectors")
    add_thread_arg(ap)
    args = ap.parse_args(argv)
    limit_threads(args.threads)
    peers = set(args.peers if args.peers is not None else [s for s in args.sizes if s <= 256])
    p = args.vectors
    rows = []
    print(
        f"{'n':>5} {'vectors':>8} {'tool':>12} {'time s':>9} {'x memspice':>10} {'peak MB':>8} "
        f"{'max rel diff':>12}  notes"
    )
    for n in args.sizes:
        status, res, peak, base = run_isolated(run_memspice, n, p, timeout=args.timeout)
        if status != "ok":
            rows.append(row("memspice", n, None, peak, status, vectors=p))
            print(f"{n:>5} {p:>8} {'memspice':>12} {status}")
            continue
        t_ref, out_ref, info = res
        rows.append(row("memspice", n, t_ref, peak, vectors=p, ratio=1.0, baseline_mb=base / 1e6, **info))
        print(f"{n:>5} {p:>8} {'memspice':>12} {t_ref:9.3f} {1.0:10.1f} {peak / 1e6:8.0f} {'':>12}  {info['strategy']}")
        if n not in peers:
            continue
        jobs = [
            ("simulate_crossbar", run_simulate_crossbar, (n, p), p),
            ("badcrossbar", run_badcrossbar, (n, p, args.badcrossbar_chunk), p),
            ("scipy-splu", run_splu, (n, p), p),
        ]
        if n <= args.spice_max:
            jobs.append(("ngspice", run_ngspice, (n, min(p, args.spice_vectors)), min(p, args.spice_vectors)))
        for tool, fn, fargs, pv in jobs:
            status, res, peak, base = run_isolated(fn, *fargs, timeout=args.timeout)
            if status != "ok":
                rows.append(row(tool, n, None, peak, status, vectors=pv))
                print(f"{n:>5} {pv:>8} {tool:>12} {status}")
                continue
            t, out, info = res
            scaled = t * p / pv
            diff = max_rel_diff(out, out_ref[: len(out)])
            note = f"measured {t:.2f} s on {pv} vectors, scaled" if pv != p else ""
            rows.append(
                row(
                    tool,
                    n,
                    scaled,
                    peak,
                    vectors=p,
                    measured_vectors=pv,
                    measured_seconds=t,
                    ratio=scaled / t_ref,
                    max_rel_diff=diff,
                    extrapolated=pv != p,
                    baseline_mb=base / 1e6,
                    **info,
                )
            )
            print(
                f"{n:>5} {p:>8} {tool:>12} {scaled:9.3f} {scaled / t_ref:10.1f} {peak / 1e6:8.0f} {diff:12.2e}  {note}"
            )
    summary = {
        f"{r['tool']}_over_memspice_n{r['size']}": r["ratio"]
        for r in rows
        if r["tool"] != "memspice" and r.get("ratio")
    }
    seconds = {(r["tool"], r["size"]): r["seconds"] for r in rows if r.get("seconds")}
    for (tool, size), t in seconds.items():
        if tool == "badcrossbar" and seconds.get(("simulate_crossbar", size)):
            summary[f"badcrossbar_over_simulate_crossbar_n{size}"] = t / seconds[("simulate_crossbar", size)]
    path = write_results(args.json, "many_vectors", rows, args, summary)
    plot_results(args.png, rows, f"linear crossbar read, {p} input vectors (ngspice scaled from fewer)")
    print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    main()
