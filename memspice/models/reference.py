"""Python reference face: integrate a device's state ODE under a voltage source.

The device is driven directly by v(t), so the state equation dx/dt =
f(x, v(t)) is an ordinary ODE.  It is integrated with scipy's implicit
Radau method between the source's breakpoints (as SPICE does), with tight
tolerances, which makes it the accuracy reference for the SPICE faces.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from ..core.waveforms import Waveforms


def simulate_device(
    model,
    source,
    t_stop: float,
    n_points: int = 2001,
    rtol: float = 1e-9,
    atol: float = 1e-12,
    max_step: float | None = None,
    t_eval=None,
) -> Waveforms:
    """Reference transient of ``model`` driven by ``source`` (callable v(t), V).

    Returns :class:`Waveforms` with ``v`` (V), ``i`` (A) and, for stateful
    models, ``x`` (1), on a uniform grid of ``n_points`` or on ``t_eval`` (s).
    """
    if not (np.isfinite(t_stop) and t_stop > 0):
        raise ValueError(f"t_stop must be a positive finite time, got {t_stop!r}")
    if t_eval is None:
        t_eval = np.linspace(0.0, t_stop, int(n_points))
    else:
        t_eval = np.clip(np.asarray(t_eval, float), 0.0, t_stop)
        if np.any(np.diff(t_eval) < 0):
            raise ValueError("t_eval must be non-decreasing")
    v = source(t_eval)
    if not model.has_state():
        return Waveforms(t_eval, {"v": v, "i": model.current(v)}, title=model.title)

    corners = np.asarray(getattr(source, "breakpoints", lambda ts: np.array([0.0, ts]))(t_stop))
    corners = np.unique(np.clip(np.concatenate([[0.0, t_stop], corners]), 0.0, t_stop))
    max_step = max_step or t_stop / 500

    def rhs(t, y):
        return model.rate(y, source(t))

    def jac(t, y):
        v = source(t)
        d = model.rate_dx(y, v)
        if not np.all(np.isfinite(d)):  # e.g. |x|^(2p) differentiated at x = 0 gives 0/0
            h = 1e-7
            d = (model.rate(y + h, v) - model.rate(y - h, v)) / (2 * h)
        return np.atleast_2d(d)

    x = np.empty_like(t_eval)
    y0 = np.array([model.params.x0])
    for a, b in zip(corners[:-1], corners[1:]):
        inside = (t_eval >= a) & ((t_eval < b) | (b == t_stop))
        seg_t = np.unique(np.concatenate([t_eval[inside], [b]]))
        sol = solve_ivp(
            rhs, (a, b), y0, method="Radau", t_eval=seg_t, rtol=rtol, atol=atol, max_step=min(max_step, b - a), jac=jac
        )
        if sol.status != 0:
            raise RuntimeError(f"reference ODE failed for {type(model).__name__} on [{a}, {b}] s: {sol.message}")
        x[inside] = np.interp(t_eval[inside], sol.t, sol.y[0])
        y0 = sol.y[:, -1]
    return Waveforms(t_eval, {"v": v, "x": x, "i": model.current(v, x)}, title=model.title)
