"""DC solution of a crossbar: linear cells directly, nonlinear cells by damped Newton."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..circuits.crossbar import Crossbar
from . import cells
from . import structured
from .linear import DIRECT_LIMIT, solve_direct, solve_spd
from .network import CrossbarNetwork, build_network, end_incidences

METHODS = ("auto", "structured", "cg", "direct")

#: the largest array the sparse solver accepts by default (4096 x 4096 fits in 24 GB)
MAX_SPARSE_DEVICES = 4096 * 4096


class NewtonError(RuntimeError):
    """Newton's method did not converge for a nonlinear crossbar."""


@dataclass
class CrossbarSolution:
    """DC solution, badcrossbar-style: p input vectors, m x n cells.

    ``output_currents`` (p, n) A into each bit line's sense node;
    ``device_currents``, ``word_line_voltages``, ``bit_line_voltages`` (m, n, p).
    """

    output_currents: np.ndarray
    device_currents: np.ndarray
    word_line_voltages: np.ndarray
    bit_line_voltages: np.ndarray
    backend: str = "sparse"
    info: dict = field(default_factory=dict)


def cell_law(xbar: Crossbar):
    if xbar.cell == "1R":
        return None
    if xbar.cell == "1T1R":
        return cells.transistor_in_series(xbar.transistor, xbar.conductances.ravel(), np.repeat(xbar.v_gate, xbar.n))
    if xbar.cell == "1S1R":
        return cells.selector_in_series(xbar.selector, xbar.conductances.ravel())
    return cells.device(xbar.device, xbar.state.ravel())


def _node_voltages(net: CrossbarNetwork, V: np.ndarray, v_full: np.ndarray):
    m, n = net.m, net.n
    p = v_full.shape[1]
    Vp = np.vstack([V, np.zeros((1, p))])  # index -1 reads this padding row
    wl = np.where(net.wl_index[..., None] >= 0, Vp[net.wl_index], v_full[:m, None, :])
    bl = np.where(net.bl_index[..., None] >= 0, Vp[net.bl_index], v_full[None, m:, :])
    return wl.reshape(m, n, p), bl.reshape(m, n, p)


def _stiffness(net: CrossbarNetwork, g: np.ndarray) -> sp.csr_matrix:
    return (net.A_wire + net.B.T @ sp.diags(g) @ net.B).tocsr()


def solve_dc(xbar: Crossbar, voltages, method: str = "auto", tol: float = 1e-12, max_newton: int = 100,
             max_devices: int = MAX_SPARSE_DEVICES, network: CrossbarNetwork | None = None) -> CrossbarSolution:
    """Solve ``xbar`` for input ``voltages`` ((m,) or (m, p), V).

    ``network``: a prebuilt :func:`build_network` of the same geometry (reused by transients).
    """
    m, n = xbar.shape
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if m * n > max_devices:
        raise ValueError(f"{m}x{n} crossbar has {m * n} cells, above max_devices={max_devices} "
                         f"(raise it knowingly: memory grows ~1.4 kB per cell)")
    v_in = xbar.full_inputs(voltages)
    if method == "structured" and not structured.applicable(xbar):
        raise ValueError("method='structured' needs r_word > 0, r_bit > 0 and numba installed")
    if method == "structured" or (method == "auto" and structured.applicable(xbar) and 2 * m * n >= DIRECT_LIMIT):
        return _solve_structured(xbar, v_in, tol, max_newton)
    net = network if network is not None else build_network(xbar)
    law = cell_law(xbar)
    info = {"unknowns": net.n_unknown}
    if law is None:
        g = xbar.conductances.ravel()
        A = _stiffness(net, g)
        rhs = net.W_drive @ v_in - net.B.T @ (g[:, None] * (net.C @ v_in))
        if net.n_unknown:
            V, sinfo = solve_spd(A, rhs, method=method, tol=tol)
        else:
            V, sinfo = np.zeros((0, v_in.shape[1])), {"method": "none (every node fixed)"}
        V = V.reshape(net.n_unknown, v_in.shape[1])
        u = net.B @ V + net.C @ v_in
        i_cell = g[:, None] * u
        info.update(sinfo)
    elif xbar.cell == "1T1R":
        V, i_cell, info = _newton_three_terminal(net, law, v_in, max_newton, info)
    else:
        V, i_cell, info = _newton(net, law, v_in, method, tol, max_newton, info)
    wl, bl = _node_voltages(net, V, v_in)
    dev = i_cell.reshape(m, n, -1)
    return CrossbarSolution(dev.sum(axis=0).T, dev, wl, bl, "sparse", info)


def _damped_step(dV: np.ndarray, scale: float) -> tuple[float, float, bool]:
    """(damping factor, update size in V, converged) for a Newton update ``dV``.

    Each update moves node voltages by at most 0.2 * ``scale`` (the largest input, V);
    converged means an undamped update below 1e-12 * scale.
    """
    step = float(np.max(np.abs(dV))) if dV.size else 0.0
    damp = min(1.0, 0.2 * scale / step) if step > 0 else 1.0
    return damp, step, damp == 1.0 and step <= 1e-12 * scale


def _damped_newton(newton_step, V: np.ndarray, scale: float, max_newton: int, k: int, hint: str):
    """Iterate ``V += damp * newton_step(V)`` (see :func:`_damped_step`); returns (V, iterations).

    Raises :class:`NewtonError` for input vector ``k`` after ``max_newton`` iterations, with ``hint``.
    """
    step = 0.0
    for it in range(1, max_newton + 1):
        dV = newton_step(V)
        damp, step, converged = _damped_step(dV, scale)
        V = V + damp * dV
        if converged:
            return V, it
    raise NewtonError(f"Newton did not converge in {max_newton} iterations for input vector {k} "
                      f"(last update {step:.2e} V); {hint}")


def _newton(net, law, v_in, method, tol, max_newton, info):
    N, p = net.n_unknown, v_in.shape[1]
    V_all = np.zeros((N, p))
    I_all = np.zeros((net.B.shape[0], p))
    iters, solver = [], {}
    for k in range(p):
        vk = v_in[:, k:k + 1]
        fixed = (net.C @ vk)[:, 0]
        drive = (net.W_drive @ vk)[:, 0]
        # start from the linearisation at the full row-to-column voltage across each cell
        row_v = np.subtract.outer(vk[:net.m, 0], vk[net.m:, 0]).ravel()
        _, g0 = law(row_v)
        A0 = _stiffness(net, np.maximum(g0, 1e-30))
        V = solve_spd(A0, drive - net.B.T @ (g0 * fixed), method=method, tol=tol)[0] if N else np.zeros(0)

        def newton_step(V):
            i, gd = law(net.B @ V + fixed)
            F = net.A_wire @ V - drive + net.B.T @ i
            dV, solver_info = solve_spd(_stiffness(net, np.maximum(gd, 1e-30)), -F, method=method,
                                        tol=min(tol, 1e-10))
            solver.update(solver_info)
            return dV

        V, it = _damped_newton(newton_step, V, max(1.0, float(np.max(np.abs(vk)))), max_newton, k,
                               "reduce the input voltage or check cell parameters")
        I_all[:, k] = law(net.B @ V + fixed)[0]
        V_all[:, k] = V
        iters.append(it)
    info.update({"method": f"newton + {solver.get('method', 'direct')}", "newton_iterations": iters})
    return V_all, I_all, info


def _newton_three_terminal(net, law, v_in, max_newton, info):
    """Newton for cells whose current depends on both node voltages separately (1T1R).

    The Jacobian is not symmetric (the gate is referenced to ground), so it
    is factorised by SuperLU instead of CG.
    """
    Bw, Bb = end_incidences(net)
    N, p = net.n_unknown, v_in.shape[1]
    V_all, I_all, iters = np.zeros((N, p)), np.zeros((net.B.shape[0], p)), []
    for k in range(p):
        vk = v_in[:, k:k + 1]
        fixed_w, fixed_b = (net.C_word @ vk)[:, 0], (net.C_bit @ vk)[:, 0]
        drive = (net.W_drive @ vk)[:, 0]

        def newton_step(V):
            i, a, b = law(Bw @ V + fixed_w, Bb @ V + fixed_b)
            a, b = a + 1e-15, b - 1e-15  # keep the cell's own conductance non-zero (gmin-like)
            F = net.A_wire @ V - drive + net.B.T @ i
            J = (net.A_wire + Bw.T @ sp.diags(a) @ Bw + Bw.T @ sp.diags(b) @ Bb
                 - Bb.T @ sp.diags(a) @ Bw - Bb.T @ sp.diags(b) @ Bb).tocsr()
            return solve_direct(J, -F) if N else np.zeros(0)

        V, it = _damped_newton(newton_step, np.zeros(N), max(1.0, float(np.max(np.abs(vk)))), max_newton, k,
                               "check gate voltage and transistor parameters")
        I_all[:, k] = law(Bw @ V + fixed_w, Bb @ V + fixed_b)[0]
        V_all[:, k] = V
        iters.append(it)
    info.update({"method": "newton + direct (nonsymmetric 1T1R Jacobian)", "newton_iterations": iters})
    return V_all, I_all, info


def _solve_structured(xbar: Crossbar, v_in: np.ndarray, tol: float, max_newton: int) -> CrossbarSolution:
    """Matrix-free path (:mod:`memspice.solver.structured`); Newton for nonlinear cells."""
    m, n = xbar.shape
    law = cell_law(xbar)
    p = v_in.shape[1]
    wl, bl = np.empty((m, n, p)), np.empty((m, n, p))
    dev = np.empty((m, n, p))
    iters = []
    if law is None:
        system = structured.LineSystem(xbar, xbar.conductances)
        for k in range(p):
            vw, vb, its = system.solve(*system.drive(v_in[:m, k], v_in[m:, k]), tol=tol)
            wl[..., k], bl[..., k] = vw, vb
            dev[..., k] = xbar.conductances * (vw - vb)
            iters.append(its)
        info = {"method": "structured cg", "iterations": max(iters), "unknowns": 2 * m * n}
    else:
        newton = []
        for k in range(p):
            vk = v_in[:, k]
            _, g0 = law(np.subtract.outer(vk[:m], vk[m:]).ravel())
            system = structured.LineSystem(xbar, np.maximum(g0, 1e-30).reshape(m, n))
            drive, drive_b = system.drive(vk[:m], vk[m:])
            vw, vb, its = system.solve(drive, drive_b, tol=tol)

            def newton_step(V):  # V stacks (word-line, bit-line) node voltages, 2 x m x n
                u = (V[0] - V[1]).ravel()
                i, gd = law(u)
                gd = np.maximum(gd, 1e-30)
                system.set_cells(gd.reshape(m, n))
                excess = (gd * u - i).reshape(m, n)  # J V_new = drive + B^T (gd u - i)
                nw, nb, its = system.solve(drive + excess, drive_b - excess, tol=min(tol, 1e-10), x0=(V[0], V[1]))
                iters.append(its)
                return np.stack([nw, nb]) - V

            V, it = _damped_newton(newton_step, np.stack([vw, vb]), max(1.0, float(np.max(np.abs(vk)))), max_newton,
                                   k, "reduce the input voltage or check cell parameters")
            vw, vb = V
            wl[..., k], bl[..., k] = vw, vb
            dev[..., k] = law((vw - vb).ravel())[0].reshape(m, n)
            newton.append(it)
        info = {"method": "newton + structured cg", "iterations": max(iters), "newton_iterations": newton,
                "unknowns": 2 * m * n}
    return CrossbarSolution(dev.sum(axis=0).T, dev, wl, bl, "sparse", info)
