"""Shared plumbing for memspice benchmarks: child-process timing, JSON tables, time/memory figures.

Every benchmark builds a list of row dicts with at least ``tool``, ``size``
(the number plotted on the x axis, usually n of an n x n array), ``seconds``,
``peak_mb`` (peak resident memory of the child process that ran it, MB) and
``status`` ("ok", "timeout" or "error: ..."), writes them with
:func:`write_results` as JSON (``{"benchmark", "created", "machine", "args",
"rows", "summary"}``) and draws time and memory against size, one line per
tool, with :func:`plot_results`.  Default outputs go to ``benchmarks/results/``.

Timings are wall-clock seconds of one run each on whatever machine runs
them; on a shared machine they are noisy (say so when quoting them), which is
why every ratio is against a peer measured in the same run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
#: keys every result row carries (tests check them)
ROW_KEYS = ("tool", "size", "seconds", "peak_mb", "status")


def add_output_args(ap: argparse.ArgumentParser, name: str) -> None:
    """``--json`` and ``--png`` options, defaulting to ``benchmarks/results/<name>.json|.png``."""
    ap.add_argument("--json", default=str(RESULTS / f"{name}.json"), help="table as JSON (default %(default)s)")
    ap.add_argument(
        "--png", default=str(RESULTS / f"{name}.png"), help="time and memory vs size (default %(default)s); '' for none"
    )


THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def add_thread_arg(ap: argparse.ArgumentParser) -> None:
    """``--threads``: BLAS/OpenMP/numba threads of every child process (same for every tool)."""
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads per tool (BLAS, OpenMP, numba), the same for every tool; 0: libraries' defaults. "
        "Default 1: on a shared, loaded machine multithreaded OpenBLAS and numba were measured "
        "10-100x slower than one thread (default %(default)s)",
    )


def limit_threads(threads: int) -> None:
    """Make child processes started from now on (:func:`run_isolated`) use ``threads`` threads (0: defaults).

    Only the children's environment is set: changing ``NUMBA_NUM_THREADS`` in a process whose numba threads
    already run makes numba raise, so this process (e.g. a test calling a benchmark's ``main``) is left as is.
    """
    global _CHILD_THREADS
    _CHILD_THREADS = int(threads) if threads and threads > 0 else 0


_CHILD_THREADS = 0


def peak_bytes() -> int:
    """Peak resident memory of this process so far (bytes; Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _child(conn, module: str, func: str, args: tuple, kwargs: dict, path: list, threads: int = 0):
    if threads > 0:  # before numba, BLAS or OpenMP start in this fresh process
        for var in THREAD_VARS:
            os.environ[var] = str(threads)
    sys.path[:0] = [p for p in path if p not in sys.path]
    try:
        fn = getattr(importlib.import_module(module), func)
        base = peak_bytes()
        result = fn(*args, **kwargs)
        conn.send(("ok", result, peak_bytes(), base))
    except BaseException as exc:  # noqa: BLE001 - reported in the table
        conn.send((f"error: {exc!r}"[:200], None, peak_bytes(), 0))


def run_isolated(fn, *args, timeout: float = 600.0, **kwargs):
    """Run ``fn(*args, **kwargs)`` in a fresh spawned process; returns (status, result, peak_bytes, base_bytes).

    ``fn`` must be a module-level function of an importable module (benchmark scripts import themselves by
    file name: their folder is put on the child's path).  The child's peak memory is its own.  ``status`` is
    "ok", "timeout" or "error: ...".
    """
    module = fn.__module__
    if module == "__main__":
        module = Path(sys.modules["__main__"].__file__).stem
    here = str(Path(__file__).resolve().parent)
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, module, fn.__name__, args, kwargs, [here], _CHILD_THREADS))
    proc.start()
    if not parent.poll(timeout):
        proc.kill()
        proc.join()
        return "timeout", None, 0, 0
    msg = parent.recv()
    proc.join()
    return msg


def row(tool: str, size, seconds=None, peak=0, status: str = "ok", **extra) -> dict:
    """One result row (``peak`` in bytes is stored as ``peak_mb``)."""
    r = {
        "tool": tool,
        "size": size,
        "seconds": None if seconds is None else float(seconds),
        "peak_mb": float(peak) / 1e6 if peak else None,
        "status": status,
    }
    r.update(extra)
    return r


def machine() -> dict:
    """Where the numbers came from (they depend on it)."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (None,)
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_1min": load[0],
    }


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


def write_results(path, name: str, rows: list[dict], args=None, summary: dict | None = None) -> Path:
    """Write the benchmark's table as JSON; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "benchmark": name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "args": vars(args) if isinstance(args, argparse.Namespace) else (args or {}),
        "rows": rows,
        "summary": summary or {},
    }
    path.write_text(json.dumps(_jsonable(doc), indent=1))
    return path


def plot_results(path, rows: list[dict], title: str, xlabel: str = "array size n (n x n)"):
    """Log-log time and peak memory against size, one line per tool; returns the path or None."""
    if not path:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    tools = list(dict.fromkeys(r["tool"] for r in rows))
    for tool in tools:
        pts = sorted(
            (r["size"], r["seconds"], r["peak_mb"])
            for r in rows
            if r["tool"] == tool and r["status"] == "ok" and r["seconds"] is not None
        )
        if not pts:
            continue
        x, t, mem = zip(*pts)
        axes[0].plot(x, t, "o-", label=tool)
        mx = [(a, b) for a, b in zip(x, mem) if b]
        if mx:
            axes[1].plot(*zip(*mx), "o-", label=tool)
    for ax, ylabel in zip(axes, ("time (s)", "peak memory (MB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def fit_exponent(x, y) -> float | None:
    """Slope of log y against log x (None with fewer than two points)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = (x > 0) & (y > 0)
    if ok.sum() < 2:
        return None
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


def max_rel_diff(a, b) -> float:
    """max |a - b| / max |b|."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))
