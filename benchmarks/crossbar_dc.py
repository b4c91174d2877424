"""Crossbar DC read benchmark: memspice sparse solver vs peers, measured in one run.

Peers: badcrossbar (PyPI), scipy ``spsolve`` on the same nodal matrix, and
ngspice (+KLU when built with it) up to ``--spice-max``.  Every (tool, size)
runs in a fresh child process so its peak memory (max RSS) is its own.
Prints a table with wall and CPU times (memspice: best of ``--repeats`` reads; on a shared machine the
CPU-time ratios of single-threaded runs, ``--threads 1``, are the steadier ones), speed ratios against
memspice, peak memory,
agreement with memspice, and the fitted exponents of memspice's time and
memory against the number of devices.  The table also goes to
``benchmarks/results/crossbar_dc.json`` (with the spsolve ratio at each size, the
time exponent from 1024 to the largest size and memspice's peak memory there)
and time/memory vs size to ``crossbar_dc.png``.

    python benchmarks/crossbar_dc.py                       # 128..1024, 2048 and 4096 memspice only
    python benchmarks/crossbar_dc.py --sizes 128 256 --big-sizes

badcrossbar needs pycairo for its plots only: install it with
``pip install --no-deps badcrossbar pathvalidate`` where cairo headers are missing.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import time
import warnings

import numpy as np
from benchcommon import add_output_args, fit_exponent, limit_threads, plot_results, row, write_results

R_WIRE = 1.0  # Ohm per segment, word and bit lines


def problem(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.uniform(1e-6, 1e-4, (n, n)), rng.uniform(0.0, 0.5, (n, 1))


_BASELINE = {}


class _Clock:
    """Wall time and CPU time (this process and its children, e.g. ngspice) of one timed region.

    On a shared machine the wall time of a single-threaded run includes waiting for a core; its CPU time
    does not, so ratios of CPU times (``--threads 1``) are the steadier comparison.
    """

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), self._cpu()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, self._cpu() - self.cpu

    @staticmethod
    def _cpu():
        c = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + c.ru_utime + c.ru_stime


def run_memspice(n, repeats=1):
    from memspice.circuits.crossbar import Crossbar
    from memspice.solver import solve_dc

    # load the compiled numba kernels first (one-off per process, ~0.3 s; not part of a solve)
    solve_dc(Crossbar(np.full((4, 4), 1e-5), r_word=R_WIRE, r_bit=R_WIRE), np.ones(4), method="structured")
    _BASELINE["bytes"] = _peak_bytes()  # interpreter + libraries, before the problem exists
    g, v = problem(n)
    best = None
    sol = None
    for _ in range(repeats):  # best of ``repeats`` whole reads (new Crossbar, solver set-up and solve)
        sol = None  # the last read's arrays go first: peak memory is one read's
        with _Clock() as clock:
            sol = solve_dc(Crossbar(g, r_word=R_WIRE, r_bit=R_WIRE), v.T)  # memspice: vectors first
        best = clock if best is None else best
        best.wall, best.cpu = min(best.wall, clock.wall), min(best.cpu, clock.cpu)
    return best, sol.output_currents[0], sol.info


def run_badcrossbar(n):
    import logging

    warnings.simplefilter("ignore")
    logging.disable(logging.INFO)
    import badcrossbar

    g, v = problem(n)
    with _Clock() as clock:
        sol = badcrossbar.compute(v, 1.0 / g, r_i_word_line=R_WIRE, r_i_bit_line=R_WIRE)
    return clock, np.asarray(sol.currents.output)[0], {}


def run_spsolve(n):
    import scipy.sparse.linalg as spla

    from memspice.circuits.crossbar import Crossbar
    from memspice.solver.dc import _stiffness
    from memspice.solver.network import build_network

    g, v = problem(n)
    with _Clock() as clock:
        xbar = Crossbar(g, r_word=R_WIRE, r_bit=R_WIRE)
        net = build_network(xbar)
        A = _stiffness(net, g.ravel()).tocsc()
        V = spla.spsolve(A, (net.W_drive @ xbar.full_inputs(v.T))[:, 0])
        out = (g.ravel() * (net.B @ V)).reshape(n, n).sum(axis=0)
    return clock, out, {}


def run_ngspice(n):
    from memspice.circuits.crossbar import Crossbar
    from memspice.simulate import simulate_crossbar

    g, v = problem(n)
    with _Clock() as clock:
        sol = simulate_crossbar(Crossbar(g, r_word=R_WIRE, r_bit=R_WIRE), v.T, backend="ngspice", timeout=900)
    return clock, sol.output_currents[0], {}


TOOLS = {"memspice": run_memspice, "badcrossbar": run_badcrossbar, "spsolve": run_spsolve, "ngspice": run_ngspice}


def _peak_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _child(conn, tool, n, repeats):
    try:
        clock, out, info = TOOLS[tool](n, repeats) if tool == "memspice" else TOOLS[tool](n)
        info = dict(info or {}, baseline=_BASELINE.get("bytes", 0), cpu=clock.cpu)
        conn.send(("ok", clock.wall, out, info, _peak_bytes()))
    except Exception as exc:  # noqa: BLE001 - reported in the table
        conn.send(("error", repr(exc)[:80], None, None, 0))


def measure(tool, n, timeout, repeats=1):
    os.environ["PYTHONWARNINGS"] = "ignore"  # badcrossbar warns at import that its plotting needs cairo
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(child, tool, n, repeats))
    p.start()
    if not parent.poll(timeout):
        p.kill()
        p.join()
        return None
    msg = parent.recv()
    p.join()
    return msg


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[128, 256, 512, 1024])
    ap.add_argument("--big-sizes", type=int, nargs="*", default=[2048, 4096], help="memspice alone")
    ap.add_argument("--spice-max", type=int, default=128, help="largest n run through ngspice")
    ap.add_argument("--badcrossbar-max", type=int, default=512)
    ap.add_argument("--spsolve-max", type=int, default=1024)
    ap.add_argument("--timeout", type=float, default=600.0, help="per tool and size, s")
    ap.add_argument(
        "--repeats", type=int, default=3, help="memspice: best of this many reads in its process (peers: one)"
    )
    add_output_args(ap, "crossbar_dc")
    ap.add_argument(
        "--threads",
        type=int,
        default=0,
        help="threads per tool (BLAS, OpenMP, numba); 0 (default): the libraries' own defaults",
    )
    args = ap.parse_args(argv)
    limit_threads(args.threads)
    rows = []
    limits = {"ngspice": args.spice_max, "badcrossbar": args.badcrossbar_max, "spsolve": args.spsolve_max}
    print(
        f"{'n':>5} {'tool':>12} {'time s':>9} {'x slower':>9} {'cpu s':>9} {'x cpu':>9} {'peak MB':>9} "
        f"{'max rel diff':>13}  notes"
    )
    fit = []
    for n in list(args.sizes) + list(args.big_sizes):
        ref = measure("memspice", n, args.timeout, args.repeats)
        if ref is None or ref[0] != "ok":
            print(f"{n:>5} {'memspice':>12} failed: {ref}")
            rows.append(row("memspice", n, None, 0, "timeout" if ref is None else f"error: {ref[1]}"))
            continue
        _, t_ref, out_ref, info, mem_ref = ref
        fit.append((n * n, t_ref, max(mem_ref - info.get("baseline", 0), 1), max(int(info.get("iterations", 1)), 1)))
        note = f"{info.get('method')} {info.get('iterations', '')} its"
        cpu_ref = info.get("cpu")
        print(
            f"{n:>5} {'memspice':>12} {t_ref:9.3f} {1.0:9.2f} {cpu_ref:9.3f} {1.0:9.2f} {mem_ref / 1e6:9.0f} "
            f"{'':>13}  {note}"
        )
        rows.append(
            row(
                "memspice",
                n,
                t_ref,
                mem_ref,
                ratio=1.0,
                cpu_seconds=cpu_ref,
                cpu_ratio=1.0,
                baseline_mb=info.get("baseline", 0) / 1e6,
                method=info.get("method"),
                iterations=info.get("iterations"),
            )
        )
        if n in args.big_sizes:
            continue
        for tool in ("badcrossbar", "spsolve", "ngspice"):
            if n > limits[tool]:
                continue
            res = measure(tool, n, args.timeout)
            if res is None:
                print(f"{n:>5} {tool:>12} {'>' + str(int(args.timeout)):>9}  (timed out)")
                rows.append(row(tool, n, None, 0, "timeout"))
                continue
            if res[0] != "ok":
                print(f"{n:>5} {tool:>12} unavailable: {res[1]}")
                rows.append(row(tool, n, None, 0, f"error: {res[1]}"))
                continue
            _, t, out, peer, mem = res
            diff = float(np.max(np.abs(out - out_ref)) / np.max(np.abs(out_ref)))
            cpu = peer["cpu"]
            print(
                f"{n:>5} {tool:>12} {t:9.3f} {t / t_ref:9.2f} {cpu:9.3f} {cpu / cpu_ref:9.2f} {mem / 1e6:9.0f} "
                f"{diff:13.2e}"
            )
            rows.append(
                row(tool, n, t, mem, ratio=t / t_ref, cpu_seconds=cpu, cpu_ratio=cpu / cpu_ref, max_rel_diff=diff)
            )
    summary = {
        f"{r['tool']}_over_memspice_n{r['size']}": r["ratio"]
        for r in rows
        if r["tool"] != "memspice" and r.get("ratio")
    }
    summary.update(
        {
            f"{r['tool']}_over_memspice_cpu_n{r['size']}": r["cpu_ratio"]
            for r in rows
            if r["tool"] != "memspice" and r.get("cpu_ratio")
        }
    )
    ok = {r["size"]: r for r in rows if r["tool"] == "memspice" and r["status"] == "ok"}
    big = sorted(k for k in ok if k >= 1024)
    if len(big) >= 2:
        summary[f"time_exponent_vs_n_{big[0]}_{big[-1]}"] = fit_exponent(big, [ok[k]["seconds"] for k in big])
        summary["time_exponent_vs_cells"] = summary[f"time_exponent_vs_n_{big[0]}_{big[-1]}"] / 2
        summary["cpu_time_exponent_vs_cells"] = fit_exponent(big, [ok[k]["cpu_seconds"] for k in big]) / 2
    for k in big:
        summary[f"memspice_peak_mb_n{k}"] = ok[k]["peak_mb"]
    path = write_results(args.json, "crossbar_dc", rows, args, summary)
    plot_results(args.png, rows, "crossbar DC read, one input vector, 1 Ohm wires")
    print(f"wrote {path}")
    if len(fit) >= 2:
        d, t, mem, its = (np.array(c, float) for c in zip(*fit))
        big = d >= 256 * 256
        sel = big if big.sum() >= 2 else slice(None)
        print(
            f"\nmemspice scaling over {int(d[sel].min())}..{int(d[sel].max())} devices: "
            f"time ~ N^{np.polyfit(np.log(d[sel]), np.log(t[sel]), 1)[0]:.2f}, "
            "peak memory above the interpreter baseline ~ "
            f"N^{np.polyfit(np.log(d[sel]), np.log(mem[sel]), 1)[0]:.2f}"
        )
        print(
            f"  of which CG iterations ~ N^{np.polyfit(np.log(d[sel]), np.log(its[sel]), 1)[0]:.2f} and time per "
            f"iteration ~ N^{np.polyfit(np.log(d[sel]), np.log(t[sel] / its[sel]), 1)[0]:.2f}"
        )


if __name__ == "__main__":
    main()
