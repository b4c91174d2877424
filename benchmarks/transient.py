"""Write-pulse transients: memspice's implicit transient solver vs ngspice (KLU) on the same netlist.

Scenario (issue 13; the exact bias pattern is assumed): a self-rectifying TiOx array (Shi et al. style
interface-type cells, memspice defaults), 1 Ohm word/bit segments, every bit line held at V/2 by its sense
amplifier, idle word lines at 0 V, and one row at a time pulsed to 3V/2 for ``--width`` (100 ns flat top,
5 ns edges): the selected row's cells see +V (V = 2 V > v_set = 1.6 V: they SET), every other cell sees
-V/2 (half-select disturb, below the thresholds).  ``--pulses`` pulses, one per row in turn.

ngspice runs the netlist :func:`memspice.netlists.crossbar_netlist` writes for the same crossbar and
sources (``.tran ... uic``, states on the cells' internal 1 F nodes); the final states of both are
compared (issue target: within 1e-4).  Each (tool, size) runs in a fresh process (own peak memory).
memspice's time is the simulation itself; the one-off start-up of its process (loading the compiled
kernels from numba's disk cache, timed on a 4 x 4 run first) is reported beside it (``startup_s``) and
in a second ratio, ``ratio_with_startup``.  ``--spice-max 0`` runs memspice alone (long studies).

    python benchmarks/transient.py                        # 32 and 64, 5 pulses
    python benchmarks/transient.py --sizes 64 128 --pulses 5 --spice-max 128
    python benchmarks/transient.py --sizes 128 --pulses 100 --spice-max 0 --json r.json --png ''
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from benchcommon import add_output_args, add_thread_arg, limit_threads, plot_results, row, run_isolated, write_results

R_WIRE = 1.0  # Ohm per segment
V_WRITE = 2.0  # V across a selected cell; assumed: above the TiOx default v_set (1.6 V), V/2 below it


def setup(n: int, pulses: int, width: float, seed: int = 0):
    from memspice.circuits.crossbar import Crossbar
    from memspice.circuits.sources import pulse_train

    rng = np.random.default_rng(seed)
    xbar = Crossbar(state=rng.uniform(0.2, 0.8, (n, n)), cell="tiox", r_word=R_WIRE, r_bit=R_WIRE, bit_bias=V_WRITE / 2)
    period = 2 * width
    sources = []
    for i in range(n):
        amps = [1.5 * V_WRITE if k % n == i else 0.0 for k in range(pulses)]
        sources.append(pulse_train(amps, width, period))
    return xbar, sources, pulses * period


def run_memspice(n, pulses, width, tol=1e-4):
    """Time one transient; a 4 x 4 run first loads the compiled kernels (its time is reported as
    ``startup_s``: numba's on-disk cache, once per process), so ``seconds`` is the simulation itself."""
    from memspice.solver import simulate_transient

    t0 = time.perf_counter()
    simulate_transient(*setup(4, 1, width), tol=tol, progress=False)
    startup = time.perf_counter() - t0
    xbar, sources, t_stop = setup(n, pulses, width)
    t0 = time.perf_counter()
    tr = simulate_transient(xbar, sources, t_stop, tol=tol, progress=False)
    info = {
        "time_points": int(len(tr.time)),
        "steps_rejected": int(tr.steps_rejected),
        "newton_iterations": int(tr.newton_iterations),
        "startup_s": startup,
    }
    return time.perf_counter() - t0, tr.states[-1], info


def run_ngspice(n, pulses, width):
    from memspice.netlists import crossbar_netlist
    from memspice.spice import run

    xbar, sources, t_stop = setup(n, pulses, width)
    text = crossbar_netlist(
        xbar,
        [s.spice() for s in sources],
        transient=True,
        options=".options reltol=1e-5",
        analysis=f".tran {t_stop / 1000:.6g} {t_stop:.6g} 0 {t_stop / 500:.6g} uic",
    )
    t0 = time.perf_counter()
    w = run(text, timeout=3600, progress=False).waveforms
    t = time.perf_counter() - t0
    x = np.array([[w[f"v(xc{i}_{j}.u)"][-1] for j in range(n)] for i in range(n)]) + xbar.state
    return t, x, {"time_points": int(len(w.time))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[32, 64])
    ap.add_argument("--pulses", type=int, default=5)
    ap.add_argument("--width", type=float, default=100e-9, help="flat top of each pulse, s")
    ap.add_argument("--spice-max", type=int, default=64)
    ap.add_argument(
        "--tol",
        type=float,
        default=1e-4,
        help="memspice's local error per step (default %(default)s; measured at 32 and 64: final states "
        "6.8e-5 from a converged run at 1e-4, 8e-6 at 1e-5 for 1.2-1.7x the time)",
    )
    ap.add_argument("--timeout", type=float, default=900.0)
    add_output_args(ap, "transient")
    add_thread_arg(ap)
    args = ap.parse_args(argv)
    limit_threads(args.threads)
    rows = []
    print(f"{'n':>5} {'tool':>9} {'time s':>9} {'x memspice':>10} {'peak MB':>8} {'points':>7} {'max |dx|':>9}")
    for n in args.sizes:
        status, res, peak, base = run_isolated(run_memspice, n, args.pulses, args.width, args.tol, timeout=args.timeout)
        if status != "ok":
            rows.append(row("memspice", n, None, peak, status))
            print(f"{n:>5} {'memspice':>9} {status}")
            continue
        t_ref, x_ref, info = res
        startup = info["startup_s"]
        rows.append(row("memspice", n, t_ref, peak, pulses=args.pulses, ratio=1.0, baseline_mb=base / 1e6, **info))
        print(
            f"{n:>5} {'memspice':>9} {t_ref:9.2f} {1.0:10.1f} {peak / 1e6:8.0f} {info['time_points']:>7}"
            f"           (+{startup:.2f} s start-up: kernel cache load, once per process)"
        )
        if n > args.spice_max:
            continue
        status, res, peak, base = run_isolated(run_ngspice, n, args.pulses, args.width, timeout=args.timeout)
        if status != "ok":
            rows.append(row("ngspice", n, None, peak, status))
            print(f"{n:>5} {'ngspice':>9} {status}")
            continue
        t, x, info = res
        dx = float(np.max(np.abs(x - x_ref)))
        rows.append(
            row(
                "ngspice",
                n,
                t,
                peak,
                pulses=args.pulses,
                ratio=t / t_ref,
                ratio_with_startup=t / (t_ref + startup),
                max_state_diff=dx,
                baseline_mb=base / 1e6,
                **info,
            )
        )
        print(f"{n:>5} {'ngspice':>9} {t:9.2f} {t / t_ref:10.1f} {peak / 1e6:8.0f} {info['time_points']:>7} {dx:9.1e}")
    summary = {
        f"ngspice_over_memspice_n{r['size']}": r["ratio"] for r in rows if r["tool"] == "ngspice" and r.get("ratio")
    }
    summary.update(
        {
            f"ngspice_over_memspice_with_startup_n{r['size']}": r["ratio_with_startup"]
            for r in rows
            if r["tool"] == "ngspice" and r.get("ratio_with_startup")
        }
    )
    summary.update({f"max_state_diff_n{r['size']}": r["max_state_diff"] for r in rows if "max_state_diff" in r})
    summary.update({f"memspice_seconds_n{r['size']}": r["seconds"] for r in rows if r["tool"] == "memspice"})
    path = write_results(args.json, "transient", rows, args, summary)
    plot_results(args.png, rows, f"TiOx write transient, {args.pulses} row pulses")
    print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    main()
