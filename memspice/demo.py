"""The main job on an embedded default, run by ``memspice demo``.

1. Every device model's three faces (Python ODE, behavioural SPICE,
   Verilog-A via OSDI where available) under a short drive: max error.
2. A small crossbar read solved in ngspice and in the sparse solver.
"""

from __future__ import annotations

import numpy as np

from .circuits.sources import Sine, pulse_train
from .core.faces import Face
from .crossbar_demo import crossbar_demo
from .models import DriftDiffusion, Selector, ThresholdSwitch, TiOx
from .spice.capabilities import ngspice_info
from .spice.device_bench import FACES, compare_faces

#: (model, source, duration in s, SPICE steps): short drives that exercise switching
DEMO_DRIVES = [
    (DriftDiffusion(), Sine(1.0, 10 / (2 * np.pi)), 2 * np.pi / 10, 4000),
    (TiOx(), pulse_train([2.0] * 3 + [-2.0] * 3, 1e-6, 3e-6), 18e-6, 4000),
    (ThresholdSwitch(), pulse_train([1.0, 0.5, 0.1], 1e-6, 5e-6), 15e-6, 30000),
    (Selector(), Sine(1.0, 1e3), 1e-3, 4000),
]


def device_faces_table(verbose: bool = True) -> list[dict]:
    info = ngspice_info()
    faces = FACES if info.osdi else (Face.BEHAVIOURAL,)
    if verbose and not info.osdi:
        print("Verilog-A/OSDI unavailable here: " + "; ".join(info.notes))
    rows = []
    for model, src, t_stop, steps in DEMO_DRIVES:
        errs = compare_faces(model, src, t_stop, faces=faces, n_steps=steps)
        for face, e in errs.items():
            rows.append({"model": type(model).__name__, "face": face, **e})
            if verbose:
                detail = ", ".join(f"{k}: {v:.2e}" for k, v in e.items())
                print(f"  {type(model).__name__:16s} {face:12s} max error vs Python reference (full scale) {detail}")
    return rows


def main_job(verbose: bool = True) -> int:
    info = ngspice_info()
    if verbose:
        print(info.summary())
        print("\n[1] device models: three faces agree?")
    rows = device_faces_table(verbose)
    worst = max(max(v for k, v in r.items() if k in ("i", "x")) for r in rows)
    ok = worst <= 1e-3
    if verbose:
        print("\n[2] crossbar read: ngspice vs sparse solver")
    ok = crossbar_demo(verbose) and ok
    if verbose:
        print(f"\nworst device-face error {worst:.2e} (target 1e-3): {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1
