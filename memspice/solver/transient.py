"""Transient of a crossbar whose cells carry state: implicit, adaptive time steps.

Each step solves the network at the new time together with the new states:
backward Euler ``x1 = x0 + h f(x1, u1)`` or trapezoidal
``x1 = x0 + h/2 (f(x0, u0) + f(x1, u1))``, with ``u1`` the cell voltages of
the DC network at states ``x1``.  The coupled system is solved by
alternating a network solve and a vectorised per-cell Newton update of the
states until both settle.  The step size is chosen from the difference
between the backward-Euler and trapezoidal results (a local error
estimate), and every breakpoint of the sources is hit exactly.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..circuits.crossbar import Crossbar
from . import structured
from .dc import solve_dc
from .linear import DIRECT_LIMIT
from .network import build_network


class TransientError(RuntimeError):
    """The transient could not proceed (step too small, no convergence)."""


@dataclass
class CrossbarTransient:
    """Time (s), states (t, m, n), output currents (t, n) A, cell voltages (t, m, n) V."""

    time: np.ndarray
    states: np.ndarray
    output_currents: np.ndarray
    cell_voltages: np.ndarray
    steps_rejected: int = 0


def _breakpoints(sources, t_stop):
    pts = [0.0, t_stop]
    for s in sources:
        if hasattr(s, "breakpoints"):
            pts += list(s.breakpoints(t_stop))
    return np.unique(np.clip(pts, 0.0, t_stop))


def simulate_transient(xbar: Crossbar, sources, t_stop: float, method: str = "trap", tol: float = 1e-4,
                       max_step: float | None = None, min_step: float | None = None,
                       coupling_iters: int = 50) -> CrossbarTransient:
    """Integrate the cell states of ``xbar`` (cell "tiox" or "memristor").

    ``sources``: m callables v_i(t) in V (e.g. :class:`~memspice.circuits.PWL`).
    ``tol``: allowed local error of the states per step (state units).
    """
    if xbar.cell not in ("tiox", "memristor"):
        raise ValueError(f"transient needs stateful cells ('tiox' or 'memristor'), got {xbar.cell!r}")
    if method not in ("trap", "be"):
        raise ValueError(f"method must be 'trap' or 'be', got {method!r}")
    if not (np.isfinite(t_stop) and t_stop > 0):
        raise ValueError(f"t_stop must be a positive finite time, got {t_stop!r}")
    if len(sources) != xbar.m:
        raise ValueError(f"need {xbar.m} word-line sources, got {len(sources)}")
    model = xbar.device
    net = None if structured.applicable(xbar) and 2 * xbar.m * xbar.n >= DIRECT_LIMIT else build_network(xbar)
    max_step = max_step or t_stop / 200
    min_step = min_step or t_stop * 1e-12
    corners = _breakpoints(sources, t_stop)

    def drive(t):
        return np.array([float(s(t)) for s in sources])

    def cell_voltages(x, t):
        sol = solve_dc(dataclasses.replace(xbar, state=np.clip(x, 0, 1).reshape(xbar.shape)), drive(t),
                       network=net)
        wl, bl = sol.word_line_voltages[..., 0], sol.bit_line_voltages[..., 0]
        return (wl - bl).ravel(), sol.output_currents[0]

    def implicit_step(x0, f0, t1, h, trapezoidal):
        x1 = x0 + h * f0
        for _ in range(coupling_iters):
            u1, _ = cell_voltages(x1, t1)
            x_prev = x1
            for _ in range(20):  # per-cell Newton on g(x1) = x1 - x0 - h*theta*f(x1) - h*(1-theta)*f0
                theta = 0.5 if trapezoidal else 1.0
                g = x1 - x0 - h * theta * model.rate(x1, u1) - h * (1 - theta) * f0
                dg = 1 - h * theta * model.rate_dx(x1, u1)
                dx = g / np.where(np.abs(dg) > 1e-300, dg, 1e-300)
                x1 = x1 - dx
                if np.max(np.abs(dx)) < 1e-13:
                    break
            if np.max(np.abs(x1 - x_prev)) < 1e-11:
                return x1
        raise TransientError(f"network/state coupling did not converge at t = {t1:.6g} s")

    x = xbar.state.ravel().copy()
    u, out = cell_voltages(x, 0.0)
    times, states, outs, volts = [0.0], [x.copy()], [out], [u]
    t, h, rejected = 0.0, min(max_step, (corners[1] - corners[0]) / 10 if corners.size > 1 else max_step), 0
    while t < t_stop * (1 - 1e-12):
        nxt = corners[corners > t * (1 + 1e-12) + 1e-300]
        h = min(h, max_step, (nxt[0] if nxt.size else t_stop) - t)
        f0 = model.rate(x, u)
        x_be = implicit_step(x, f0, t + h, h, trapezoidal=False)
        x_tr = implicit_step(x, f0, t + h, h, trapezoidal=True) if method == "trap" else None
        x_new = x_tr if x_tr is not None else x_be
        err = float(np.max(np.abs((x_tr if x_tr is not None else x + h * f0) - x_be)))
        if err > tol and h > min_step:
            h = max(min_step, h * max(0.2, 0.9 * np.sqrt(tol / err)))
            rejected += 1
            continue
        if err > tol:
            raise TransientError(f"step size fell below {min_step:g} s at t = {t:.6g} s")
        t += h
        x = x_new
        u, out = cell_voltages(x, t)
        times.append(t); states.append(x.copy()); outs.append(out); volts.append(u)
        h = h * min(2.0, 0.9 * np.sqrt(tol / err)) if err > 0 else h * 2.0
    m, n = xbar.shape
    return CrossbarTransient(np.array(times), np.array(states).reshape(-1, m, n), np.array(outs),
                             np.array(volts).reshape(-1, m, n), rejected)
