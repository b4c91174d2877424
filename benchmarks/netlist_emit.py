"""Netlist emission speed and size: crossbars from 64 to 1024 (default), 1S1R cells with wires.

Prints seconds and bytes per cell for each size and the fitted exponent of
time and size against the number of cells (1.0 = linear); the table also goes to
``benchmarks/results/netlist_emit.json`` and time/memory vs size to ``netlist_emit.png``
(memory: this process's peak, cumulative over sizes).

    python benchmarks/netlist_emit.py [--sizes 64 256 1024]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from benchcommon import add_output_args, fit_exponent, peak_bytes, plot_results, row, write_results

from memspice.circuits.crossbar import Crossbar
from memspice.netlists import crossbar_netlist


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[64, 128, 256, 512, 1024])
    add_output_args(ap, "netlist_emit")
    args = ap.parse_args(argv)
    rows, table = [], []
    print(f"{'n':>6} {'cells':>9} {'seconds':>9} {'MB':>8} {'bytes/cell':>11}")
    for n in args.sizes:
        xbar = Crossbar(np.full((n, n), 1e-5), cell="1S1R", r_word=1.0, r_bit=1.0)
        t0 = time.perf_counter()
        text = crossbar_netlist(xbar, np.full(n, 0.2))
        dt = time.perf_counter() - t0
        rows.append((n * n, dt, len(text)))
        table.append(row("memspice-netlist", n, dt, peak_bytes(), cells=n * n, bytes=len(text)))
        print(f"{n:>6} {n * n:>9} {dt:9.3f} {len(text) / 1e6:8.1f} {len(text) / (n * n):11.1f}")
    summary = {}
    if len(rows) >= 2:
        c, t, b = (np.array(v, float) for v in zip(*rows))
        summary = {"time_exponent_vs_cells": fit_exponent(c, t), "size_exponent_vs_cells": fit_exponent(c, b)}
        print(
            f"time ~ cells^{np.polyfit(np.log(c), np.log(t), 1)[0]:.2f}, "
            f"size ~ cells^{np.polyfit(np.log(c), np.log(b), 1)[0]:.2f}"
        )
    path = write_results(args.json, "netlist_emit", table, args, summary)
    plot_results(args.png, table, "1S1R crossbar netlist emission")
    print(f"wrote {path}")
    return table


if __name__ == "__main__":
    main()
