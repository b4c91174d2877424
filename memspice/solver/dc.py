"""DC solution of a crossbar: linear cells by one linear solve, every other cell by one damped Newton loop.

The cell kind enters only through the crossbar's :class:`~memspice.circuits.cells.Cell` object: its
vectorised current and derivatives give the Newton residual and Jacobian; ``cell.linear`` skips Newton;
``cell.three_terminal`` (current depends on both node voltages, e.g. 1T1R) makes the Jacobian
non-symmetric, so it is factorised by SuperLU instead of CG.

Paths (``method``):

* ``"structured"``: matrix-free, numba line-preconditioned CG (:mod:`memspice.solver.structured`) for
  two-terminal cells on resistive word and bit lines; Newton steps reuse it with the cell Jacobian on the
  word-to-bit couplings.  Its stopping rule bounds the error of the output currents (see
  :func:`memspice.solver.structured.LineSystem.solve`).
* ``"cg"``: scipy-sparse CG with tridiagonal line blocks; ``"direct"``: SuperLU.
* ``"auto"``: structured wherever it applies (it is the fastest at every size: per read, 8 x 8 1R
  0.19 ms against 0.26 direct, 64 x 64 1R 0.9 ms against 5.1, 1S1R 6.4 ms against 136, TiOx 1.8 ms
  against 98; measured in CPU time, 2026), else direct (small networks) or CG.

Newton's stopping rule matches the inner solver: it stops when an undamped update moves no node by more
than ``newton_tol`` times the largest input (V), and every inner linear solve is asked for an accuracy ten
times finer than that, so the rule can always be met (an update criterion below the linear solver's
accuracy cannot).  Early Newton steps get looser inner solves (inexact Newton: a fixed fraction of the
last update), which does not change the converged answer.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..circuits.crossbar import Crossbar, require_crossbar
from . import structured
from .dc_cells import dc_cells
from .guards import check_solution
from .linear import solve_direct, solve_spd
from .memory import BYTES_PER_CELL_VECTOR, available_memory, memory_limit
from .network import CrossbarNetwork, build_network, end_incidences
from .solution import CrossbarSolution, SolveInfo

__all__ = ["CrossbarSolution", "NewtonError", "SolveInfo", "available_memory", "memory_estimate", "solve_dc"]

METHODS = ("auto", "structured", "cg", "direct")

#: the largest array the sparse solver accepts by default (the memory estimate guards larger ones too)
MAX_SPARSE_DEVICES = 16384 * 16384
#: solver work memory per cell (bytes), measured: structured path (~98 at 4096 x 4096 and 8192 x 8192,
#: outputs included; benchmarks/crossbar_dc.py) and the scipy-sparse path (matrices, factorisation fill-in)
BYTES_PER_CELL = {"structured": 100, "sparse": 1500}
#: Newton stops when an undamped update is at most this times the largest input voltage (V)
NEWTON_TOL = 1e-9
#: currents (A) below which a float64 has fewer than 16 significant digits left before underflow
UNDERFLOW = np.finfo(float).tiny / np.finfo(float).eps


class NewtonError(RuntimeError):
    """Newton's method did not converge for a nonlinear crossbar."""


def memory_estimate(xbar: Crossbar, vectors: int = 1, path: str = "structured") -> int:
    """Bytes :func:`solve_dc` needs for ``vectors`` input vectors on ``path`` ("structured" or "sparse")."""
    cells = xbar.m * xbar.n
    return int(cells * (BYTES_PER_CELL[path] + BYTES_PER_CELL_VECTOR * max(int(vectors), 1)))


def _check_memory(xbar: Crossbar, vectors: int, path: str, max_memory: float | None) -> None:
    need = memory_estimate(xbar, vectors, path)
    limit, what = memory_limit(max_memory)
    if limit is not None and need > limit:
        raise ValueError(
            f"{xbar.m}x{xbar.n} crossbar with {vectors} input vector(s) needs about {need / 1e9:.3g} GB "
            f"on the {path} path, above the {limit / 1e9:.3g} GB {what}; "
            "pass fewer vectors per call (results grow with cells x vectors), raise max_memory, or read only "
            "the output currents with memspice.simulate_crossbar (per-cell arrays on demand) or "
            "memspice.solver.read_many"
        )


def solve_dc(
    xbar: Crossbar,
    voltages,
    method: str = "auto",
    tol: float = 1e-12,
    max_newton: int = 100,
    max_devices: int = MAX_SPARSE_DEVICES,
    network: CrossbarNetwork | None = None,
    max_memory: float | None = None,
    i_tol: float = 1e-10,
) -> CrossbarSolution:
    """Solve ``xbar`` for input ``voltages`` ((m,) or (p, m), V: vectors first).

    Returns output currents (p, n), A, and per-cell arrays (p, m, n) (:class:`CrossbarSolution`).  For
    many vectors where only the output currents matter, :func:`memspice.solver.read_many` is faster and
    needs no per-cell memory (an exact transfer matrix for linear cells, blocked solves otherwise).

    Parameters
    ----------
    method : {"auto", "structured", "cg", "direct"}
        Linear solver (see the module docstring).
    tol : float
        Relative residual of every linear solve.
    max_newton : int
        Newton iterations per input vector before :class:`NewtonError`.
    max_devices : int
        Refuse larger arrays (cells).
    network : CrossbarNetwork, optional
        A prebuilt :func:`build_network` of the same geometry (reused by transients).
    max_memory : float, optional
        Refuse runs whose memory estimate (cells x input vectors, :func:`memory_estimate`) exceeds this
        many bytes; default: the memory available now.
    i_tol : float
        Relative accuracy of every output current on the structured path: CG stops once each bit line's
        current balance (cells in, foot out) closes to ``i_tol`` of its output current.  Measured against a
        direct solve, the output currents are then within ~``i_tol`` of the exact nodal solution on every
        shape (``tests/test_solver_correctness.py``); 1e-10 by default, for about 2-20% more time than the
        residual test alone (``benchmarks/output_accuracy.py``).
    """
    require_crossbar(xbar)
    m, n = xbar.shape
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if m * n > max_devices:
        raise ValueError(
            f"{m}x{n} crossbar has {m * n} cells, above max_devices={max_devices} "
            f"(raise it knowingly; see memory_estimate)"
        )
    if method == "structured" and not structured.applicable(xbar):
        raise ValueError("method='structured' needs r_word > 0, r_bit > 0, two-terminal cells and numba installed")
    use_structured = method == "structured" or (method == "auto" and structured.applicable(xbar))
    shape = np.shape(voltages)
    # refuse from the estimate before touching (copying, checking) the inputs
    _check_memory(xbar, shape[0] if len(shape) == 2 else 1, "structured" if use_structured else "sparse", max_memory)
    v_in = xbar.full_inputs(voltages)
    if use_structured:
        return check_solution(_solve_structured(xbar, v_in, tol, max_newton, i_tol))
    net = network if network is not None else build_network(xbar)
    cell, arrays = xbar.cell, xbar.cell_arrays()
    info = {"unknowns": net.n_unknown}
    if cell.linear:
        g = cell.linear_conductance(arrays, m * n)
        A = _stiffness(net, g)
        rhs = net.W_drive @ v_in - net.B.T @ (g[:, None] * (net.C @ v_in))
        if net.n_unknown:
            V, sinfo = solve_spd(A, rhs, method=method, tol=tol)
        else:
            V, sinfo = np.zeros((0, v_in.shape[1])), {"method": "none (every node fixed)"}
        V = V.reshape(net.n_unknown, v_in.shape[1])
        i_cell = g[:, None] * (net.B @ V + net.C @ v_in)
        info.update(sinfo)
    else:
        V, i_cell, newton_info = _newton_sparse(net, xbar, v_in, method, tol, max_newton)
        info.update(newton_info)
    wl, bl = _node_voltages(net, V, v_in)
    dev = np.moveaxis(i_cell.reshape(m, n, -1), -1, 0)
    return check_solution(
        CrossbarSolution(dev.sum(axis=1), dev, wl, bl, "sparse", info, xbar=xbar, voltages=v_in[:m].T)
    )


def _node_voltages(net: CrossbarNetwork, V: np.ndarray, v_full: np.ndarray):
    m, n = net.m, net.n
    p = v_full.shape[1]
    Vp = np.vstack([V, np.zeros((1, p))])  # index -1 reads this padding row
    wl = np.where(net.wl_index[..., None] >= 0, Vp[net.wl_index], v_full[:m, None, :])
    bl = np.where(net.bl_index[..., None] >= 0, Vp[net.bl_index], v_full[None, m:, :])
    return np.moveaxis(wl.reshape(m, n, p), -1, 0), np.moveaxis(bl.reshape(m, n, p), -1, 0)  # (p, m, n)


def _stiffness(net: CrossbarNetwork, g: np.ndarray) -> sp.csr_matrix:
    return (net.A_wire + net.B.T @ sp.diags(g) @ net.B).tocsr()


def damped_newton(
    step, V: np.ndarray, scale: float, max_newton: int, what: str, hint: str, newton_tol: float = NEWTON_TOL
):
    """The one damped-Newton loop of the solver: ``V += damp * dV`` with ``dV = step(V, inner_tol, final)``.

    ``step`` returns the Newton update for node voltages ``V`` from a linear solve accurate to
    ``inner_tol`` (V); ``final`` says the inner solve is at its finest (use the full output accuracy).
    Each update moves node voltages by at most 0.2 * ``scale`` (the largest input, V).

    Converged: an undamped update of at most ``newton_tol * scale``, or one from a finest inner solve
    whose successor Newton's quadratic convergence bounds by that: once updates fall superlinearly
    (each at most a tenth of the one before), the next is about C size^2 with C = size / previous^2,
    and the error left after an update is that next update.  The inner solves are asked for a tenth of the
    tolerance once the predicted next update is within 1000 times it (so the update that ends the loop is
    exact enough to trust), looser before: a hundredth of the predicted update, at most 1e-3 ``scale``.
    (1S1R at 0..1 V: 4-5 Newton steps instead of 6-8.)
    Returns (V, iterations); raises :class:`NewtonError` naming ``what`` with ``hint``.
    """
    v_tol = newton_tol * scale
    size, previous = np.inf, np.inf
    predicted = np.inf  # the next update, by the quadratic model of the last two
    for it in range(1, max_newton + 1):
        final = predicted <= 1e3 * v_tol or size <= 1e3 * v_tol
        inner = 0.1 * v_tol if final else max(0.1 * v_tol, min(1e-2 * min(size, predicted), 1e-3 * scale))
        dV = step(V, inner, final)
        previous, size = size, (float(np.max(np.abs(dV))) if dV.size else 0.0)
        damp = min(1.0, 0.2 * scale / size) if size > 0 else 1.0
        V = V + damp * dV
        quadratic = damp == 1.0 and 0 < previous < np.inf and size <= 0.1 * previous
        predicted = size * (size / previous) ** 2 if quadratic else np.inf
        if damp == 1.0 and (size <= v_tol or (final and predicted <= v_tol)):
            return V, it
    raise NewtonError(
        f"Newton did not converge in {max_newton} iterations for {what} "
        f"(last update {size:.2e} V, tolerance {v_tol:.2e} V); {hint}"
    )


def _hint(cell) -> str:
    return (
        "check gate voltage and transistor parameters"
        if cell.three_terminal
        else "reduce the input voltage or check cell parameters"
    )


def _newton_sparse(net: CrossbarNetwork, xbar: Crossbar, v_in: np.ndarray, method: str, tol: float, max_newton: int):
    """Newton on the scipy-sparse network, any cell; returns (V (N, p), cell currents (m n, p), info)."""
    Bw, Bb = end_incidences(net)
    N, p = net.n_unknown, v_in.shape[1]
    V_all, I_all, iters = np.zeros((N, p)), np.zeros((net.B.shape[0], p)), []
    solver: dict = {}
    for k in range(p):
        V, i_cell, it = _sparse_newton(net, xbar, v_in[:, k : k + 1], Bw, Bb, method, tol, max_newton, k, solver)
        I_all[:, k], V_all[:, k] = i_cell, V
        iters.append(it)
    return V_all, I_all, {"method": f"newton + {solver.get('method', 'direct')}", "newton_iterations": iters}


def _solve_structured(xbar: Crossbar, v_in: np.ndarray, tol: float, max_newton: int, i_tol: float) -> CrossbarSolution:
    """Matrix-free path (:mod:`memspice.solver.structured`); Newton for nonlinear cells."""
    m, n = xbar.shape
    cell, arrays = xbar.cell, xbar.cell_arrays()
    p = v_in.shape[1]
    wl, bl = np.empty((p, m, n)), np.empty((p, m, n))
    dev, out = np.empty((p, m, n)), np.empty((p, n))
    iters, newton = [], []
    if cell.linear:
        g = cell.linear_conductance(arrays, m * n).reshape(m, n)
        system = structured.LineSystem(xbar, g)
    for k in range(p):
        vk, v_bit = v_in[:m, k], v_in[m:, k]
        if cell.linear:  # straight into the results: no copies of 1024 x 1024 arrays
            vw, vb, its = system.read(vk, v_bit, tol=tol, i_tol=i_tol, out=(wl[k], bl[k]))
            iters.append(its)
            i_cell = np.multiply(g, np.subtract(vw, vb, out=dev[k]), out=dev[k])
        else:
            V, it, system, cells = _structured_newton(xbar, vk, v_bit, tol, i_tol, max_newton, k, iters)
            vw, vb = V
            newton.append(it)
            i_cell = cells.current((vw - vb).ravel())[0].reshape(m, n)
            wl[k], bl[k], dev[k] = vw, vb, i_cell
        # column current through the sense link; where the bit line is biased, that difference of two
        # nearly equal node voltages loses digits (eps |bias| / IR drop), so the cells' sum is used there
        out[k] = np.where(v_bit == 0, system.g_last * (vb[-1] - v_bit), i_cell.sum(axis=0))
    info = {
        "method": "structured cg" if cell.linear else "newton + structured cg",
        "iterations": max(iters),
        "unknowns": 2 * m * n,
    }
    if newton:
        info["newton_iterations"] = newton
        info["cg_iterations_total"] = int(sum(iters))
    return CrossbarSolution(out, dev, wl, bl, "sparse", info, xbar=xbar, voltages=v_in[:m].T)


def _structured_newton(
    xbar: Crossbar, vk: np.ndarray, v_bit: np.ndarray, tol: float, i_tol: float, max_newton: int, k: int, iters: list
):
    """Newton for input vector ``k`` on the structured path; returns (V (2, m, n), iterations, system, the
    cell evaluator, warm from the last step).

    The start is one Newton step from the ideal node voltages (every word-line node at its input, every
    bit-line node at its foot voltage): the cells linearised at their ideal voltages, offset included, which
    IR drops only perturb (1S1R 512x512 at 0..1 V: 6 Newton steps instead of 8 from the conductance at the
    ideal voltages alone)."""
    m, n = xbar.shape
    cell, arrays = xbar.cell, xbar.cell_arrays()
    cells = dc_cells(cell, arrays)
    scale = max(1.0, float(np.max(np.abs(vk))), float(np.max(np.abs(v_bit))))
    u0 = np.subtract.outer(vk, v_bit).ravel()
    i0, g0 = cells.current(u0)
    g0 = np.maximum(g0, 1e-30)
    system = structured.LineSystem(xbar, g0.reshape(m, n))
    drive, drive_b = system.drive(vk, v_bit)
    excess0 = g0 * u0 - i0
    # offsets of cells whose linear current g0 u0 is within 16 digits of underflow carry no digits (the
    # inputs are ~1e-300 V): left out, that cell's start is its conductance alone
    excess0 = np.where(np.abs(g0 * u0) > UNDERFLOW, excess0, 0.0).reshape(m, n)
    start = system.solve(drive + excess0, drive_b - excess0, tol=1e-6, i_tol=1e-6, v_foot=v_bit)

    def step(V, inner, final):  # V stacks (word-line, bit-line) node voltages, 2 x m x n
        u = (V[0] - V[1]).ravel()
        i, gd = cells.current(u)
        gd = np.maximum(gd, 1e-30)
        system.set_cells(gd.reshape(m, n))
        excess = (gd * u - i).reshape(m, n)  # J V_new = drive + B^T (gd u - i)
        loose = max(tol, min(1e-6, inner / scale))
        nw, nb, its = system.solve(
            drive + excess,
            drive_b - excess,
            tol=tol if final else loose,
            x0=(V[0], V[1]),
            i_tol=i_tol if final else loose,
            v_tol=inner,
            v_foot=v_bit,
        )
        iters.append(its)
        return np.stack([nw, nb]) - V

    V, it = damped_newton(step, np.stack(start[:2]), scale, max_newton, f"input vector {k}", _hint(cell))
    return V, it, system, cells


def _sparse_newton(
    net: CrossbarNetwork,
    xbar: Crossbar,
    vk: np.ndarray,
    Bw,
    Bb,
    method: str,
    tol: float,
    max_newton: int,
    k: int,
    solver: dict,
):
    """Newton for input vector ``k`` ((m + n, 1), V) on the scipy-sparse network; (V, cell currents, its)."""
    cell, arrays = xbar.cell, xbar.cell_arrays()
    N = net.n_unknown
    symmetric = not cell.three_terminal
    if symmetric:  # two-terminal: the compiled evaluator where one applies (warm from step to step)
        cells = dc_cells(cell, arrays)

        def current3(v_wl, v_bl, _arrays):
            i, g = cells.current(v_wl - v_bl)
            return i, g, -g
    else:
        current3 = cell.current3
    fixed_w, fixed_b = (net.C_word @ vk)[:, 0], (net.C_bit @ vk)[:, 0]
    drive = (net.W_drive @ vk)[:, 0]

    def jacobian(a, b):
        if symmetric:  # two-terminal: b = -a, J = A_w + B^T diag(a) B (SPD)
            return _stiffness(net, np.maximum(a, 1e-30))
        a, b = a + 1e-15, b - 1e-15  # keep the cell's own conductance non-zero (gmin-like)
        return (net.A_wire + net.B.T @ sp.diags(a) @ Bw + net.B.T @ sp.diags(b) @ Bb).tocsr()

    def solve(J, rhs):
        if not N:
            return np.zeros(0)
        if symmetric:
            x, solver_info = solve_spd(J, rhs, method=method, tol=min(tol, 1e-10))
            solver.update(solver_info)
            return x
        solver["method"] = "direct (non-symmetric Jacobian)"
        return solve_direct(J, rhs)

    if symmetric:  # start from the linearisation at the ideal cell voltages (row input minus column bias)
        _, a0, b0 = current3(np.repeat(vk[: net.m, 0], net.n), np.tile(vk[net.m :, 0], net.m), arrays)
        V0 = solve(jacobian(a0, b0), drive - net.B.T @ (a0 * fixed_w + b0 * fixed_b))
    else:
        V0 = np.zeros(N)

    def step(V, inner, final):
        i, a, b = current3(Bw @ V + fixed_w, Bb @ V + fixed_b, arrays)
        F = net.A_wire @ V - drive + net.B.T @ i
        return solve(jacobian(a, b), -F)

    V, it = damped_newton(step, V0, max(1.0, float(np.max(np.abs(vk)))), max_newton, f"input vector {k}", _hint(cell))
    return V, current3(Bw @ V + fixed_w, Bb @ V + fixed_b, arrays)[0], it
