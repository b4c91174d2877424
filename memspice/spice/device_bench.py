"""Single-device test benches: drive one model from a voltage source in SPICE.

Used to check that the three faces of a model agree (tests, ``memspice
validate``): the Python reference ODE, the behavioural subcircuit and the
Verilog-A module compiled to OSDI.
"""

from __future__ import annotations

import numpy as np

from ..core.faces import Face
from ..core.waveforms import Waveforms
from . import run
from .capabilities import require_osdi

FACES = tuple(f.value for f in Face)
#: tight tolerances so the SPICE faces are compared to the ODE, not to ngspice's defaults
ACCURATE_OPTIONS = ".options reltol=1e-6 abstol=1e-15 vntol=1e-9 chgtol=1e-18 trtol=1"


def device_netlist(
    model, source, t_stop: float, face: Face | str = Face.BEHAVIOURAL, n_steps: int = 4000
) -> tuple[str, list]:
    """Netlist driving ``model`` with ``source`` for ``t_stop`` s; returns (text, osdi files)."""
    face = Face.parse(face)
    step = t_stop / n_steps
    if face is Face.BEHAVIOURAL:
        body, osdi = [model.spice_subckt(), model.spice_instance("dut", "p", "0")], []
    else:
        require_osdi()
        osdi = [model.compile_osdi()]
        x0 = f" x0={float(model.params.x0)!r}" if model.has_state() else ""
        body = [model.va_model_card("dut_model"), f"Ndut p 0 dut_model{x0}"]
    lines = [
        f"* memspice device bench: {model.title} ({face})",
        *body,
        f"Vsrc p 0 {source.spice()}",
        ACCURATE_OPTIONS,
        f".tran {step!r} {t_stop!r} 0 {step!r} uic",
        ".end",
    ]
    return "\n".join(lines), osdi


def simulate_spice(
    model,
    source,
    t_stop: float,
    face: Face | str = Face.BEHAVIOURAL,
    mode: str = "batch",
    n_steps: int = 4000,
    timeout: float = 120.0,
) -> Waveforms:
    """Run the bench; return ``v`` (V), ``i`` (A, into p) and, for stateful models, ``x``."""
    face = Face.parse(face)
    text, osdi = device_netlist(model, source, t_stop, face, n_steps)
    res = run(text, mode=mode, osdi=osdi, timeout=timeout)
    w = res.waveforms
    out = {"v": w["v(p)"], "i": -w["i(vsrc)"]}
    if model.has_state():
        node = "v(xdut.u)" if face is Face.BEHAVIOURAL else "v(ndut#u)"
        out["x"] = w[node] + model.params.x0
    return Waveforms(w.time, out, title=f"{model.title} ({face}, ngspice {mode})")


def max_error(reference: Waveforms, other: Waveforms, name: str) -> float:
    """Max |other - reference| of signal ``name`` relative to the reference's full scale.

    ``other`` is interpolated onto the reference's time points; compute the
    reference on the SPICE time grid (``simulate(..., t_eval=spice.time)``)
    to compare point by point, without interpolation error at sharp edges.
    """
    ref = reference[name]
    other_on_ref = np.interp(reference.time, other.time, other[name])
    scale = float(np.max(np.abs(ref))) or 1.0
    return float(np.max(np.abs(other_on_ref - ref)) / scale)


def compare_faces(model, source, t_stop: float, faces=FACES, mode: str = "batch", n_steps: int = 4000) -> dict:
    """Max full-scale-relative errors of each SPICE face against the Python reference.

    Returns ``{face: {"i": err, "x": err}}`` (``x`` only for stateful models).
    """
    out = {}
    for face in faces:
        spice = simulate_spice(model, source, t_stop, face, mode, n_steps)
        ref = model.simulate(source, t_stop, t_eval=spice.time)
        names = ("i", "x") if model.has_state() else ("i",)
        out[face] = {n: max_error(ref, spice, n) for n in names}
    return out
