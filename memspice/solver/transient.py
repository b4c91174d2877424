"""Transient of a crossbar whose cells carry state: implicit, adaptive time steps.

Unknowns at each time point are the node voltages V and the cell states x.
Kirchhoff's law with optional line capacitance C (diagonal, F) reads

    C dV/dt + R(V, x, t) = 0,   R = A_w V - W v_in(t) + B^T i(B V + C_in v_in(t), x)
    dx/dt = f(x, u),            u = B V + C_in v_in (cell voltages)

and is discretised by backward Euler (theta = 1) or the trapezoidal rule
(theta = 1/2).  Each step alternates a Newton solve for the nodes (its
Jacobian C/h + theta (A_w + B^T g B) is SPD) and a vectorised per-cell Newton
solve for the states, until both settle.  Without capacitance the node
equation is the DC network at the new time.  The step size follows the
difference between the backward-Euler and trapezoidal results (a local
error estimate), and every breakpoint of the sources is hit exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..circuits.cells import CellArrays
from ..circuits.crossbar import Crossbar
from . import structured
from .linear import solve_spd
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


class _Nodes:
    """Node equations of one crossbar: residual, Newton solve, outputs."""

    def __init__(self, xbar: Crossbar, sources):
        self.xbar, self.cell, self.sources = xbar, xbar.cell, sources
        self.net = net = build_network(xbar)
        cap = np.zeros(net.n_unknown)
        for index, c in ((net.wl_index, xbar.c_word), (net.bl_index, xbar.c_bit)):
            idx = index.ravel()
            np.add.at(cap, idx[idx >= 0], c)
        self.cap = cap
        self.bottom = net.bl_index[-1, :]  # bit-line node feeding each sense link (-1: fixed)
        # resistive word and bit lines, two-terminal cells: node solves on the matrix-free line-preconditioned
        # CG (numba) instead of a sparse factorisation per Newton step
        self.system = structured.LineSystem(xbar, np.ones(xbar.shape)) if structured.applicable(xbar) else None
        r_end = xbar.r_last
        self.g_end = 0.0 if r_end == 0 else 1.0 / r_end

    def drive(self, t):
        """Word-line source values followed by the bit-line foot voltages (V)."""
        return np.concatenate([[float(s(t)) for s in self.sources], self.xbar.bit_voltages])

    def residual(self, V, x, t):
        v = self.drive(t)
        u = self.net.B @ V + self.net.C @ v
        i = self.cell.current(u, CellArrays(x=x))[0]
        return self.net.A_wire @ V - self.net.W_drive @ v + self.net.B.T @ i, u, i

    def solve(self, V_guess, x, t, h, theta, V0, R0, iters=60):
        """Node voltages at time t for states x (Newton; SPD Jacobian)."""
        net, V = self.net, V_guess.copy()
        c_h = self.cap / h if h else np.zeros_like(self.cap)
        scale = max(1.0, float(np.max(np.abs(self.drive(t)))))
        th = theta if h else 1.0
        for _ in range(iters):
            v = self.drive(t)
            u = net.B @ V + net.C @ v
            i, g = self.cell.current(u, CellArrays(x=x))
            R = net.A_wire @ V - net.W_drive @ v + net.B.T @ i
            F = c_h * (V - V0) + theta * R + (1 - theta) * R0 if h else R
            g = np.maximum(g, 1e-30)
            if not V.size:
                dV = V
            elif self.system is not None:  # J / th = A_w + B^T g B + diag(c_h / th), on the line solver
                wl, bl = net.wl_index, net.bl_index
                self.system.set_cells(g.reshape(wl.shape), c_h[wl] / th, c_h[bl] / th)
                dw, db, _ = self.system.solve(-F[wl] / th, -F[bl] / th, tol=1e-12, i_tol=np.inf)
                dV = np.empty_like(V)
                dV[wl.ravel()], dV[bl.ravel()] = dw.ravel(), db.ravel()
            else:
                J = sp.diags(c_h) + th * (net.A_wire + net.B.T @ sp.diags(g) @ net.B)
                dV = solve_spd(J.tocsr(), -F)[0]
            V = V + dV
            if not dV.size or np.max(np.abs(dV)) <= 1e-12 * scale:
                return V
        raise TransientError(f"node Newton did not converge at t = {t:.6g} s")

    def outputs(self, V, x, t):
        R, u, i = self.residual(V, x, t)
        if self.g_end > 0:
            out = self.g_end * (V[self.bottom] - self.xbar.bit_voltages)
        else:
            out = i.reshape(self.xbar.shape).sum(axis=0)
        return u, out, R


def simulate_transient(
    xbar: Crossbar,
    sources,
    t_stop: float,
    method: str = "trap",
    tol: float = 1e-4,
    max_step: float | None = None,
    min_step: float | None = None,
    coupling_iters: int = 50,
) -> CrossbarTransient:
    """Integrate the cell states (and line capacitances) of ``xbar`` (any stateful cell: "tiox", "memristor").

    ``sources``: m callables v_i(t) in V (e.g. :class:`~memspice.circuits.PWL`).
    ``tol``: allowed local error per step, in state units and, for nodes on line capacitance, in volts
    relative to the largest input; both methods control both (backward Euler against its forward-Euler
    predictor, the trapezoidal rule against backward Euler).
    The run starts from the DC solution at t = 0 (capacitors charged to it) and ``xbar.state``.
    """
    if not xbar.cell.stateful:
        raise ValueError(f"transient needs stateful cells (e.g. 'tiox' or 'memristor'), got {xbar.cell.name!r}")
    if method not in ("trap", "be"):
        raise ValueError(f"method must be 'trap' or 'be', got {method!r}")
    if not (np.isfinite(t_stop) and t_stop > 0):
        raise ValueError(f"t_stop must be a positive finite time, got {t_stop!r}")
    if len(sources) != xbar.m:
        raise ValueError(f"need {xbar.m} word-line sources, got {len(sources)}")
    model, nodes = xbar.cell, _Nodes(xbar, sources)
    max_step = max_step or t_stop / 200
    min_step = min_step or t_stop * 1e-12
    corners = _breakpoints(sources, t_stop)

    def implicit_step(x0, f0, V0, R0, t1, h, theta):
        x1, V1 = x0 + h * f0, V0
        for _ in range(coupling_iters):
            V1 = nodes.solve(V1, np.clip(x1, -0.05, 1.05), t1, h, theta, V0, R0)
            u1, _, _ = nodes.outputs(V1, x1, t1)
            x_prev = x1
            for _ in range(20):  # per-cell Newton: x1 - x0 - h*theta*f(x1) - h*(1-theta)*f0 = 0
                g = x1 - x0 - h * theta * model.rate(x1, u1) - h * (1 - theta) * f0
                dg = 1 - h * theta * model.rate_dx(x1, u1)
                dx = g / np.where(np.abs(dg) > 1e-300, dg, 1e-300)
                x1 = x1 - dx
                if np.max(np.abs(dx)) < 1e-13:
                    break
            if np.max(np.abs(x1 - x_prev)) < 1e-11:
                return x1, V1
        raise TransientError(f"network/state coupling did not converge at t = {t1:.6g} s")

    x = xbar.state.ravel().copy()
    V = nodes.solve(np.zeros(nodes.net.n_unknown), x, 0.0, 0.0, 1.0, None, None)
    u, out, R = nodes.outputs(V, x, 0.0)
    times, states, outs, volts = [0.0], [x.copy()], [out], [u]
    capacitive = nodes.cap > 0
    v_scale = max(1e-3, max(float(np.max(np.abs(nodes.drive(c)))) for c in corners))
    t, h, rejected = 0.0, min(max_step, (corners[1] - corners[0]) / 10), 0
    while t < t_stop * (1 - 1e-12):
        nxt = corners[corners > t * (1 + 1e-12) + 1e-300]
        h = min(h, max_step, (nxt[0] if nxt.size else t_stop) - t)
        f0 = model.rate(x, u)
        x_be, V_be = implicit_step(x, f0, V, R, t + h, h, 1.0)
        if method == "trap":
            x_new, V_new = implicit_step(x, f0, V, R, t + h, h, 0.5)
        else:
            x_new, V_new = x_be, V_be
        ref_x = x_new if method == "trap" else x + h * f0
        err = float(np.max(np.abs(ref_x - x_be)))
        if V.size and np.any(capacitive):
            # node voltages on capacitors: trapezoidal vs backward Euler, or (backward Euler alone) the
            # explicit forward-Euler predictor V - h R / C, both a local-error estimate of order h^2
            ref_V = V_new if method == "trap" else V - h * R / np.where(capacitive, nodes.cap, 1.0)
            err = max(err, float(np.max(np.abs(ref_V - V_be)[capacitive])) / v_scale)
        if err > tol and h > min_step:
            h = max(min_step, h * max(0.2, 0.9 * np.sqrt(tol / err)))
            rejected += 1
            continue
        if err > tol:
            raise TransientError(f"step size fell below {min_step:g} s at t = {t:.6g} s")
        t += h
        x, V = x_new, V_new
        u, out, R = nodes.outputs(V, x, t)
        times.append(t)
        states.append(x.copy())
        outs.append(out)
        volts.append(u)
        h = h * min(2.0, 0.9 * np.sqrt(tol / err)) if err > 0 else h * 2.0
    m, n = xbar.shape
    return CrossbarTransient(
        np.array(times), np.array(states).reshape(-1, m, n), np.array(outs), np.array(volts).reshape(-1, m, n), rejected
    )
