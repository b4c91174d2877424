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
    PYTHONPATH=$PWD python3 benchmarks/cell_kernels.py --transient 128 --pulses 2   # and one transient

Writes ``benchmarks/results/cell_kernels.json`` (rows: model, threads, ns_before, ns_after, ratio =
before / after, and the largest relative difference of the outputs; with ``--transient``: CPU seconds of
one write transient, one thread) and ``.png``.
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
    threads_were = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        results = {k: _call(m, p, u, x, f, h, theta) for k, m in modules.items()}  # compile, warm
        best = {k: float("inf") for k in modules}
        cpu = {k: float("inf") for k in modules}
        for _ in range(repeats):
            for k, m in modules.items():
                t, c = time.perf_counter(), time.process_time()
                _call(m, p, u, x, f, h, theta)
                best[k] = min(best[k], time.perf_counter() - t)
                cpu[k] = min(cpu[k], time.process_time() - c)
    finally:
        numba.set_num_threads(threads_were)
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


def transient_rows(n: int, pulses: int, threads: int, before, repeats: int = 1) -> list[dict]:
    """End to end: CPU seconds of benchmarks/transient.py's write-pulse transient (n x n TiOx, V/2 scheme,
    ``pulses`` 100 ns pulses, tol 1e-4) with the generator at ``before`` and with today's, alternating."""
    import numba
    import transient as scenario

    from memspice.solver import simulate_transient
    from memspice.solver import state_kernels as sk

    threads_were = numba.get_num_threads()
    numba.set_num_threads(threads)
    generators = {"before": before._kernel_text, "after": sk._kernel_text}
    today = sk._kernel_text
    cpu = {k: float("inf") for k in generators}
    wall = dict(cpu)
    states = {}
    try:
        for _ in range(repeats):
            for kind, generator in generators.items():
                sk._kernel_text = generator
                sk._MODULES.clear()
                simulate_transient(*scenario.setup(4, 1, 100e-9), tol=1e-4, progress=False)  # load the kernels
                xbar, sources, t_stop = scenario.setup(n, pulses, 100e-9)
                c, t = time.process_time(), time.perf_counter()
                tr = simulate_transient(xbar, sources, t_stop, tol=1e-4, progress=False)
                cpu[kind] = min(cpu[kind], time.process_time() - c)
                wall[kind] = min(wall[kind], time.perf_counter() - t)
                states[kind] = (tr.states[-1], len(tr.time), tr.newton_iterations)
    finally:
        sk._kernel_text = today
        sk._MODULES.clear()
        numba.set_num_threads(threads_were)
    row = {
        "model": "tiox transient",
        "n": n,
        "threads": threads,
        "pulses": pulses,
        "cpu_s_before": cpu["before"],
        "cpu_s_after": cpu["after"],
        "wall_s_before": wall["before"],
        "wall_s_after": wall["after"],
        "ratio": cpu["before"] / cpu["after"],
        "time_points": [states[k][1] for k in generators],
        "newton_iterations": [states[k][2] for k in generators],
        "max_state_diff": float(np.max(np.abs(states["before"][0] - states["after"][0]))),
    }
    return [row]


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
    ap.add_argument("--transient", type=int, default=0, help="also an n x n TiOx write transient (0: none)")
    ap.add_argument("--pulses", type=int, default=2, help="pulses of that transient (default %(default)s)")
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
    if args.transient:
        end_to_end = transient_rows(args.transient, args.pulses, 1, before)
        print(end_to_end[-1], flush=True)
        summary["tiox_transient_cpu_ratio"] = end_to_end[-1]["ratio"]
        rows += end_to_end
    write_results(args.json, "cell_kernels", rows, args, summary)
    if args.png:
        plot(args.png, [r for r in rows if "ns_before" in r])
    return rows


if __name__ == "__main__":
    main()
