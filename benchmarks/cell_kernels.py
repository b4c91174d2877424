"""Per-cell transient kernels before and after a change of their code generator, in one process.

The transient's per-cell ``implicit`` kernel (:mod:`memspice.solver.state_kernels`: a damped scalar Newton
on each cell's state equation, then the cell current and its total derivative) is printed from the
compact model's sympy equations.  This times one ``implicit`` call over n x n cells for the module that
the generator at git revision ``--before`` prints (loaded from git into this process) and the module that
the working tree's generator prints, interleaved, best of ``--repeats``, at one thread and at numba's
default thread count.  Inputs: cell voltages uniform in -2..2 V (SET, RESET, read and the TiOx linear
continuation), states uniform in 0..1, h = 1 ns, theta = 1/2 (trapezoid), the previous rate at the start.

    PYTHONPATH=$PWD python3 benchmarks/cell_kernels.py                        # TiOx, drift-diffusion, 512x512
    PYTHONPATH=$PWD python3 benchmarks/cell_kernels.py --n 128 --repeats 5 --before main

Writes ``benchmarks/results/cell_kernels.json`` (rows: model, threads, ns_before, ns_after, ratio =
before / after, and the largest relative difference of the outputs) and ``.png``.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from benchcommon import RESULTS, write_results

ROOT = Path(__file__).resolve().parent.parent
#: main before the branch-aware generator (memspice/solver/kernel_print.py)
BEFORE = "28fbc3b"
MODELS = ("tiox", "memristor")


def generator_at(ref: str):
    """memspice.solver.state_kernels as it was at git revision ``ref``, imported beside today's."""
    text = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{ref}:memspice/solver/state_kernels.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    name = "memspice.solver._state_kernels_before"
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "memspice.solver"
    sys.modules[name] = module
    exec(compile(text, f"{ref}:state_kernels.py", "exec"), module.__dict__)  # noqa: S102 - the project's own file
    return module


def _inputs(cell, n: int, seed: int = 0):
    from memspice.solver.state_kernels import NumpyCells

    rng = np.random.default_rng(seed)
    u = rng.uniform(-2.0, 2.0, n * n)
    x = rng.uniform(0.0, 1.0, n * n)
    return u, x, NumpyCells(cell).rate(x, u)


def _call(module, p, u, x, f, h, theta):
    from memspice.solver import state_kernels as sk

    x1 = x.copy()
    out = np.empty(u.size), np.empty(u.size), np.empty(u.size)
    bad = module.implicit(u, x, f, x1, h, theta, p, *sk.X_CLIP, sk.STATE_ITERS, sk.STATE_TOL, sk.STATE_DX_MAX, *out)
    return (x1, *out), bad


def measure(model: str, n: int, threads: int, repeats: int, before, h: float = 1e-9, theta: float = 0.5) -> dict:
    """One row: ns per cell per ``implicit`` call, before and after, at ``threads`` threads."""
    import numba

    from memspice.circuits import cells
    from memspice.solver import state_kernels as sk

    cell = getattr(cells, model)()
    modules = {"before": before._load_module(type(cell.model)), "after": sk._load_module(type(cell.model))}
    p = np.array(cell.model.param_values, float)
    u, x, f = _inputs(cell, n)
    numba.set_num_threads(threads)
    results = {k: _call(m, p, u, x, f, h, theta) for k, m in modules.items()}  # compile, warm
    best = {k: float("inf") for k in modules}
    cpu = {k: float("inf") for k in modules}
    for _ in range(repeats):
        for k, m in modules.items():
            t, c = time.perf_counter(), time.process_time()
            _call(m, p, u, x, f, h, theta)
            best[k] = min(best[k], time.perf_counter() - t)
            cpu[k] = min(cpu[k], time.process_time() - c)
    rel = 0.0
    for a, b in zip(results["before"][0], results["after"][0]):
        both = np.isfinite(a) & np.isfinite(b)
        scale = np.maximum(np.abs(a), 1e-300)
        rel = max(rel, float(np.max(np.abs(a - b)[both] / scale[both], initial=0.0)))
    cells_ = u.size
    return {
        "model": model,
        "n": n,
        "threads": threads,
        "ns_before": 1e9 * best["before"] / cells_,
        "ns_after": 1e9 * best["after"] / cells_,
        "cpu_ns_before": 1e9 * cpu["before"] / cells_,
        "cpu_ns_after": 1e9 * cpu["after"] / cells_,
        "ratio": best["before"] / best["after"],
        "failed_before": int(results["before"][1]),
        "failed_after": int(results["after"][1]),
        "max_rel_diff": rel,
    }


def plot(path, rows):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    labels = [f"{r['model']}\n{r['threads']} thr" for r in rows]
    k = np.arange(len(rows))
    ax.bar(k - 0.2, [r["ns_before"] for r in rows], 0.4, label="before")
    ax.bar(k + 0.2, [r["ns_after"] for r in rows], 0.4, label="after")
    for j, r in enumerate(rows):
        ax.text(j + 0.2, r["ns_after"], f"{r['ratio']:.2f}x", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(k, labels)
    ax.set_ylabel("ns per cell per implicit call (wall)")
    ax.set_title(f"per-cell transient kernel, {rows[0]['n']}x{rows[0]['n']} cells")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    import numba

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=512, help="n x n cells (default %(default)s)")
    ap.add_argument("--models", nargs="+", default=list(MODELS), help="cell kinds (default %(default)s)")
    ap.add_argument("--repeats", type=int, default=7, help="timed calls per module, best kept (default %(default)s)")
    ap.add_argument("--before", default=BEFORE, help="git revision of the generator to compare (default %(default)s)")
    ap.add_argument("--json", default=str(RESULTS / "cell_kernels.json"))
    ap.add_argument("--png", default=str(RESULTS / "cell_kernels.png"), help="figure; '' for none")
    args = ap.parse_args(argv)
    before = generator_at(args.before)
    rows = []
    for model in args.models:
        for threads in sorted({1, int(numba.config.NUMBA_NUM_THREADS)}):
            rows.append(measure(model, args.n, threads, args.repeats, before))
            print(rows[-1], flush=True)
    summary = {f"{r['model']}_{r['threads']}thr_ratio": r["ratio"] for r in rows}
    write_results(args.json, "cell_kernels", rows, args, summary)
    if args.png:
        plot(args.png, rows)
    return rows


if __name__ == "__main__":
    main()
