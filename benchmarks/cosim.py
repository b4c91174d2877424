"""SPICE-coupled co-simulation against ngspice alone, on the same designer-style netlist.

Design (memspice.cosim.designs.write_design, every value assumed): an n x n array (TiOx or 1S1R cells,
10 Ohm segments, 1 fF per node) with ``--writes`` V/2 programming pulses through op-amp row drivers and
TIA-held bit lines, then a read through the op-amp TIAs into threshold-switch LIF neurons (one per
column).  Co-simulation runs the periphery in libngspice and the array in memspice
(``memspice.cosim.cosimulate``); the reference runs the same netlist with the array expanded
(``memspice.cosim.monolithic_netlist``) in ngspice alone (batch, KLU).

Each row: ``n``, ``cell``, both times (wall and CPU seconds: the machine is shared, so CPU seconds are the
steadier measure; the load average is in the JSON), ``ratio`` (monolithic wall time / co-simulation wall
time; ``cpu_ratio`` the same in CPU seconds), ``max_rel_err`` (largest |difference| over every port
voltage ``v(wl*)``, ``v(bl*)`` and TIA output ``v(out*)``, relative to each waveform's full scale
max |v|), ``state_err`` (largest final-state difference, TiOx), spike-time comparison (``spike_count_diff``:
neurons whose spike counts differ; ``spike_shift``: largest shift of a matched spike, s), and the
co-simulation's counters (accepted points, port-device evaluations, array solves and reuses).

    python benchmarks/cosim.py --sizes 16 32 64 --cells tiox 1s1r --json results/cosim.json
    python benchmarks/cosim.py --sizes 128 256 512 --spice-max 0 --t-read 4e-6 --json results/cosim_large.json
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
from benchcommon import add_output_args, fit_exponent, write_results

#: a spike is where v(spk) rises through this level (V): the neuron's spike_level (LIFNeuron default)
SPIKE_LEVEL = 0.02


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def rising(t, v, level=SPIKE_LEVEL) -> np.ndarray:
    """Times (s) where ``v`` rises through ``level`` (linear interpolation)."""
    above = v > level
    k = np.nonzero(above[1:] & ~above[:-1])[0]
    return t[k] + (level - v[k]) * (t[k + 1] - t[k]) / (v[k + 1] - v[k])


def compare(w, ref, n: int) -> dict:
    """Errors of co-simulation ``w`` against ngspice alone ``ref`` (see module docstring)."""
    worst, where = 0.0, ""
    for name in [f"v(wl{i})" for i in range(n)] + [f"v(bl{j})" for j in range(n)] + [f"v(out{j})" for j in range(n)]:
        b = np.interp(w.time, ref.time, ref[name])
        e = float(np.max(np.abs(w[name] - b)) / max(np.max(np.abs(ref[name])), 1e-30))
        if e > worst:
            worst, where = e, name
    count_diff, shift, spikes = 0, 0.0, 0
    for j in range(n):
        name = f"v(spk{j})"
        if name not in w.signals:
            continue
        a, b = rising(w.time, w[name]), rising(ref.time, ref[name])
        spikes += len(b)
        if len(a) != len(b):
            count_diff += 1
        elif len(a):
            shift = max(shift, float(np.max(np.abs(a - b))))
    return {"max_rel_err": worst, "worst_signal": where, "spikes": spikes, "spike_count_diff": count_diff,
            "spike_shift": shift}  # fmt: skip


def run_one(
    n: int,
    cell: str,
    folder: Path,
    spice: bool,
    timeout: float,
    writes: int,
    t_read: float,
    spice_timeout: float | None = None,
    faces: tuple[str, ...] = ("behavioural",),
    sizing: str = "ideal",
) -> list[dict]:
    """The co-simulation row of one design and, with ``spice``, one row per monolithic ``faces`` run."""
    from memspice.cosim import cosimulate
    from memspice.cosim.designs import write_design

    path = write_design(folder, n, cell=cell, writes=writes, t_read=t_read, sizing=sizing)
    c0 = time.process_time()
    t0 = time.perf_counter()
    res = cosimulate(path, timeout=timeout, progress=False)
    wall = time.perf_counter() - t0
    cpu = res.statistics["worker_cpu_seconds"] + (time.process_time() - c0)
    st = res.statistics
    row = {
        "n": n,
        "cell": cell,
        "sizing": sizing,
        "cosim_seconds": wall,
        "cosim_cpu_seconds": cpu,
        "time_points": len(res.waveforms),
        "accepted": st["accepted"],
        "evaluations": st["evaluations"],
        "array_solves": st["array_solves"],
        "array_reused": st["array_reused"] + st["array_updated"],
        "array_seconds": st["array_seconds"],
        "ngspice_seconds": st.get("ngspice_seconds"),  # worker wall time outside the arrays: ngspice + coupling
        "callback_seconds": st.get("callback_seconds"),  # in the port device's Python callback, arrays included
        "periphery_seconds": st.get("periphery_seconds"),  # outside the callback: ngspice on the periphery
        "load_average": os.getloadavg()[0],
    }
    w = res.waveforms
    row["cosim_spikes"] = sum(len(rising(w.time, w[k])) for k in w.names if k.startswith("v(spk"))
    if not spice:
        return [row]
    from memspice.cosim import parse

    design = parse(path.read_text(), folder)
    limit = spice_timeout or timeout
    return [dict(row, **_against_spice(res, folder, design, n, face, limit, wall, cpu)) for face in faces]


def _against_spice(res, folder: Path, design, n: int, face: str, limit: float, wall: float, cpu: float) -> dict:
    """Run ``design``'s monolithic netlist (cells in ``face``) in ngspice alone; times and errors."""
    from memspice.cosim import monolithic_netlist, monolithic_osdi, state_node
    from memspice.spice import SpiceTimeoutError, run

    w = res.waveforms
    save = [k for k in w.names if k.startswith("v(") and "." not in k]
    stateful = bool(res.states)
    if stateful:
        save += [f"v({state_node('xarr', i, j, face)})" for i in range(n) for j in range(n)]
    mono = folder / f"monolithic_{face}.cir"
    mono.write_text(monolithic_netlist(design, face=face, save=save))
    osdi = monolithic_osdi(design, face)  # compiled (or found in the cache) before the clock starts
    row = {"face": face}
    c0 = _children_cpu()
    t0 = time.perf_counter()
    try:
        ref = run(mono, osdi=osdi, timeout=limit, progress=False).waveforms
    except SpiceTimeoutError:  # ngspice alone did not finish: its time (and so the ratio) is a lower bound
        row["spice_status"] = "timeout"
        row["spice_seconds_min"] = time.perf_counter() - t0
        row["spice_cpu_seconds_min"] = _children_cpu() - c0
        row["ratio_min"] = row["spice_seconds_min"] / wall
        return row
    row["spice_status"] = "ok"
    row["spice_seconds"] = time.perf_counter() - t0
    row["spice_cpu_seconds"] = _children_cpu() - c0
    row["ratio"] = row["spice_seconds"] / wall
    row["cpu_ratio"] = row["spice_cpu_seconds"] / cpu
    row["spice_time_points"] = len(ref)
    row.update(compare(w, ref, n))
    if stateful:
        x0 = np.load(folder / "weights.npy")
        x_ref = np.array([[ref[f"v({state_node('xarr', i, j, face)})"][-1] for j in range(n)] for i in range(n)])
        row["state_err"] = float(np.max(np.abs(res.states["xarr"] - (x_ref + x0))))
        row["state_change"] = float(np.max(np.abs(res.states["xarr"] - x0)))
    return row


def plot(path, rows) -> None:
    if not path:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    accuracy = any("max_rel_err" in r for r in rows)
    for cell in sorted({r["cell"] for r in rows}):
        mine = [r for r in rows if r["cell"] == cell]
        pts = sorted({r["n"]: r for r in mine}.items())  # the co-simulation: one per n (rows repeat it per face)
        ns = [p[0] for p in pts]
        axes[0].plot(ns, [p[1]["cosim_cpu_seconds"] for p in pts], "o-", label=f"co-simulation, {cell}")
        if not accuracy:  # co-simulation only: wall time against the 10-minute target
            axes[1].plot(ns, [p[1]["cosim_seconds"] for p in pts], "o-", label=f"co-simulation wall time, {cell}")
            continue
        for face in sorted({r["face"] for r in mine if "face" in r}):
            fp = sorted(((r["n"], r) for r in mine if r.get("face") == face), key=lambda p: p[0])
            for ax, key, style, label in (
                (axes[0], "spice_cpu_seconds", "s--", f"ngspice alone, {cell}, {face} cells"),
                (axes[0], "spice_cpu_seconds_min", "^", f"ngspice alone, {cell}, {face}: stopped (at least)"),
                (axes[1], "max_rel_err", "o-", f"ports and TIA outputs, {cell}, vs {face}"),
                (axes[1], "state_err", "^:", f"final states, {cell}, vs {face}"),
            ):
                pts_key = [(q[0], q[1][key]) for q in fp if key in q[1]]
                if pts_key:
                    ax.plot(*zip(*pts_key), style, label=label)
    axes[0].set_ylabel("CPU time (s)")
    if accuracy:
        axes[1].set_ylabel("max difference (relative to full scale / state units)")
        axes[1].axhline(1e-3, color="grey", lw=0.8, label="target 1e-3 of full scale")
        axes[1].axhline(1e-4, color="grey", lw=0.8, ls=":", label="target 1e-4 (states)")
    else:
        loads = ", ".join(f"{r['load_average']:.0f}" for r in sorted(rows, key=lambda r: r["n"]))
        axes[1].set_ylabel("wall time (s)")
        axes[1].set_title(f"shared 2-core machine, 1-min load average {loads}", fontsize=8)
        for ax in axes:
            ax.axhline(600, color="grey", lw=0.8, label="10 minutes")
    for ax in axes:
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("array size n (n x n)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("co-simulation (ngspice periphery + memspice array) vs ngspice alone")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[16, 32])
    ap.add_argument("--cells", nargs="*", default=["tiox"], help="cell kinds (tiox, 1s1r, ...)")
    ap.add_argument("--spice-max", type=int, default=64, help="largest n also run in ngspice alone")
    ap.add_argument("--writes", type=int, default=2, help="V/2 programming pulses before the read")
    ap.add_argument(
        "--t-read",
        type=float,
        default=8e-6,
        help="read window (s); the default lets every LIF neuron fire once (about 4 us to threshold at the "
        "design's drive of 3x the threshold current, then 3 us refractory); 4e-6 ends before the first spike",
    )
    ap.add_argument("--timeout", type=float, default=36000.0)
    ap.add_argument(
        "--spice-timeout",
        type=float,
        help="time limit (s) of each ngspice-alone run; one that exceeds it is recorded as spice_status "
        "'timeout' with spice_seconds_min and ratio_min (lower bounds). Default: --timeout",
    )
    ap.add_argument(
        "--faces",
        nargs="*",
        default=["behavioural", "veriloga"],
        choices=["behavioural", "veriloga"],
        help="cell models of the monolithic ngspice run, one row each: behavioural B-source subcircuits and/or "
        "the compiled Verilog-A (OSDI) modules; the same parameters, so both are the same design",
    )
    ap.add_argument(
        "--sizing",
        default="ideal",
        choices=["ideal", "wires"],
        help="the neurons' gain sized on ideal-wire read currents (default, the published tables) or on memspice's "
        "DC solution with the line resistances (with IR drop most neurons of large arrays never fire otherwise)",
    )
    ap.add_argument("--keep", help="folder to keep the netlists in (default: a temporary one)")
    ap.add_argument("--replot", action="store_true", help="only redraw --png from the rows in --json")
    add_output_args(ap, "cosim")
    args = ap.parse_args(argv)
    if args.replot:
        import json

        rows = json.loads(Path(args.json).read_text())["rows"]
        plot(args.png, rows)
        return rows
    rows = []
    print(f"{'n':>4} {'cell':>5} {'face':>11} {'cosim s':>8} {'cpu s':>7} {'spice s':>8} {'cpu s':>8} {'ratio':>6} "
          f"{'cpu rt':>6} {'max err':>8} {'state':>8} {'spikes':>6} {'differ':>6} {'shift':>8}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="memspice-bench-cosim-") as tmp:
        root = Path(args.keep or tmp)
        t0 = time.perf_counter()
        for cell in args.cells:  # compile the port device and the arrays' kernels once, outside the timings
            run_one(4, cell, root / f"warm-{cell}", False, args.timeout, 1, 0.2e-6)
        print(f"start-up (kernels compiled or loaded, port device built): {time.perf_counter() - t0:.1f} s")
        for n in args.sizes:
            for cell in args.cells:
                for r in run_one(
                    n,
                    cell,
                    root / f"{cell}{n}",
                    n <= args.spice_max,
                    args.timeout,
                    args.writes,
                    args.t_read,
                    args.spice_timeout,
                    tuple(args.faces),
                    args.sizing,
                ):
                    rows.append(r)
                    path = _write(args, rows)  # after every row: a run stopped part-way keeps what it measured
                    _print_row(r)
    print(f"wrote {path}")
    return rows


def _print_row(r: dict) -> None:
    if "ratio_min" in r:
        print(f"     ngspice alone stopped after {r['spice_seconds_min']:.0f} s: ratio >= {r['ratio_min']:.1f}")
    print(
        f"{r['n']:>4} {r['cell']:>5} {r.get('face', '-'):>11} {r['cosim_seconds']:8.1f} {r['cosim_cpu_seconds']:7.1f} "
        f"{r.get('spice_seconds', float('nan')):8.1f} {r.get('spice_cpu_seconds', float('nan')):8.1f} "
        f"{r.get('ratio', float('nan')):6.1f} {r.get('cpu_ratio', float('nan')):6.1f} "
        f"{r.get('max_rel_err', float('nan')):8.1e} {r.get('state_err', float('nan')):8.1e} "
        f"{r['cosim_spikes']:>6} {r.get('spike_count_diff', '-'):>6} "
        f"{r.get('spike_shift', float('nan')):8.1e}",
        flush=True,
    )


def _write(args, rows: list[dict]) -> Path:
    """Write the JSON (rows, growth exponents of CPU time with n) and the figure for the rows so far."""
    summary = {}
    for cell in args.cells:
        pts = {r["n"]: r for r in rows if r["cell"] == cell}.values()
        summary[f"cosim_cpu_exponent_{cell}"] = fit_exponent(
            [r["n"] for r in pts], [r["cosim_cpu_seconds"] for r in pts]
        )
        for face in args.faces:
            sp = [r for r in rows if r["cell"] == cell and r.get("face") == face and "spice_cpu_seconds" in r]
            summary[f"spice_cpu_exponent_{cell}_{face}"] = fit_exponent(
                [r["n"] for r in sp], [r["spice_cpu_seconds"] for r in sp]
            )
    path = write_results(args.json, "cosim", rows, args, summary)
    plot(args.png, rows)
    return path


if __name__ == "__main__":
    main()
