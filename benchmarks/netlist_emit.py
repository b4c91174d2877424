"""Netlist emission speed and size: crossbars from 64 to 1024 (default), 1S1R cells with wires.

Prints seconds and bytes per cell for each size and the fitted exponent of
time and size against the number of cells (1.0 = linear).

    python benchmarks/netlist_emit.py [--sizes 64 256 1024]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from memspice.circuits.crossbar import Crossbar
from memspice.netlists import crossbar_netlist


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[64, 128, 256, 512, 1024])
    args = ap.parse_args(argv)
    rows = []
    print(f"{'n':>6} {'cells':>9} {'seconds':>9} {'MB':>8} {'bytes/cell':>11}")
    for n in args.sizes:
        xbar = Crossbar(np.full((n, n), 1e-5), cell="1S1R", r_word=1.0, r_bit=1.0)
        t0 = time.perf_counter()
        text = crossbar_netlist(xbar, np.full(n, 0.2))
        dt = time.perf_counter() - t0
        rows.append((n * n, dt, len(text)))
        print(f"{n:>6} {n * n:>9} {dt:9.3f} {len(text) / 1e6:8.1f} {len(text) / (n * n):11.1f}")
    if len(rows) >= 2:
        c, t, b = (np.array(v, float) for v in zip(*rows))
        print(f"time ~ cells^{np.polyfit(np.log(c), np.log(t), 1)[0]:.2f}, "
              f"size ~ cells^{np.polyfit(np.log(c), np.log(b), 1)[0]:.2f}")


if __name__ == "__main__":
    main()
