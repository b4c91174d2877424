"""Transient of a crossbar whose cells carry state: implicit, adaptive time steps.

Unknowns at each time point are the node voltages V and the cell states x.
Kirchhoff's law with optional line capacitance C (diagonal, F) reads

    C dV/dt + R(V, x, t) = 0,   R = A_w V - W v_in(t) + B^T i(B V + C_in v_in(t), x)
    dx/dt = f(x, u),            u = B V + C_in v_in (cell voltages)

and is discretised by backward Euler (theta = 1) or the trapezoidal rule
(theta = 1/2).  Each step is one Newton iteration on the node voltages in which
every cell's state is eliminated: for the cell voltages of the iterate, a
per-cell Newton solves the discretised state equation, and the cell enters the
node Jacobian C/h + theta (A_w + B^T g B) (SPD) with its total conductance
di/du + di/dx dx/du (see :mod:`memspice.solver.state_kernels`: compiled by
numba for compact-model cells, numpy otherwise).  For resistive word and bit
lines the linear solves run on the matrix-free, line-preconditioned CG of
:mod:`memspice.solver.structured`, else on a sparse factorisation.  Without
capacitance the node equation is the DC network at the new time.

The step size follows a local error estimate, and every breakpoint of the
sources is hit exactly: the trapezoidal rule is compared with backward Euler
through x_trap - x_BE = h (f(t0) - f(t1)) / 2 + O(h^3) (and the same for the
capacitor voltages, with dV/dt = -R / C), so one implicit solve per step
serves both; backward Euler is compared with its forward-Euler predictor.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..circuits.crossbar import Crossbar
from . import structured
from .linear import solve_spd
from .network import build_network
from .state_kernels import cell_stepper


class TransientError(RuntimeError):
    """The transient could not proceed (step too small, no convergence)."""


@dataclass
class CrossbarTransient:
    """Time (s), states (t, m, n), output currents (t, n) A, cell voltages (t, m, n) V.

    ``steps_rejected``: steps retried with a smaller step; ``newton_iterations``: node Newton iterations
    (linear solves) over the whole run.
    """

    time: np.ndarray
    states: np.ndarray
    output_currents: np.ndarray
    cell_voltages: np.ndarray
    steps_rejected: int = 0
    newton_iterations: int = 0


def _breakpoints(sources, t_stop):
    pts = [0.0, t_stop]
    for s in sources:
        if hasattr(s, "breakpoints"):
            pts += list(s.breakpoints(t_stop))
    return np.unique(np.clip(pts, 0.0, t_stop))


#: seconds of run time after which ``progress=None`` shows its bar (when stderr is a terminal); assumed: a
#: run shorter than this needs no bar, and a bar that flashes up on every short run would be noise
PROGRESS_AFTER_S = 2.0
#: node Newton: relative residual of each linear solve (structured CG; assumed: the correction's own error
#: is then 1e-8 of it, far below the last-update test) and the last update accepted, relative to the
#: largest drive voltage (assumed: the solution after that update is accurate to its square, ~1e-20 V)
CG_TOL = 1e-8
NEWTON_V_TOL = 1e-10
NEWTON_ITERS = 60
#: after a source breakpoint the next step is at most this fraction of the interval to the following one;
#: assumed: one tenth, as the first step already was, and the cut SPICE3-family simulators make after a
#: breakpoint.  The error estimate compares the rates at the two ends of a step, which underestimates the
#: error of a step across which a ramp switches the cells on (measured on 5 ns write-pulse edges: final
#: states 6.8e-5 from a converged run without the cut at tol = 1e-4)
BREAKPOINT_CUT = 0.1
#: theta of the node equations when lines have capacitance (assumed, measured): the plain trapezoidal rule
#: (1/2) is not L-stable and rings on line RC constants far below the step (V alternating about its settled
#: value; 103,093 time points instead of 317 for an 8 x 8 TiOx array with 1 fF lines), backward Euler (1)
#: is only first order (1.02e-3 off ngspice in tests/test_crossbar_solver.py's 100 Ohm / 0.2 pF case).
#: 0.55 damps stiff line modes by (1 - theta) / theta = 0.82 per step and passes both (528 points; 1e-3).
NODE_THETA = 0.55


class _Progress:
    """Simulated time over t_stop, as a tqdm bar with the time left (memspice.core.progress) or a callback."""

    def __init__(self, progress, t_stop: float):
        from ..core import progress as bars

        self.t_stop, self.start = t_stop, _time.monotonic()
        self.bar: bars.Bar | None = None
        self.callback = progress if callable(progress) else None
        self.lazy = progress is None
        self.show = self.callback is None and bars.enabled(progress)
        self._bars = bars

    def update(self, t: float) -> None:
        if self.callback is not None:
            self.callback(t, self.t_stop)
            return
        if not self.show:
            return
        if self.bar is None:
            if self.lazy and _time.monotonic() - self.start < PROGRESS_AFTER_S:
                return
            self.bar = self._bars.Bar(True, (0.0, self.t_stop), desc="memspice transient", percent=True)
        self.bar.fraction(t / self.t_stop)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _PWLTable:
    """All word-line sources at once when every one is a :class:`~memspice.circuits.sources.PWL`.

    Between consecutive points of the union of their time points every PWL is linear, so one table of
    values at those points (points x sources) and one linear interpolation give all sources exactly:
    O(m) per time instead of m ``numpy.interp`` calls.
    """

    #: largest table (points x sources) built; assumed: 4e6 floats (32 MB), beyond that per-source calls
    MAX_ENTRIES = 4_000_000

    def __init__(self, times, values):
        self.times, self.values = times, values

    @classmethod
    def build(cls, sources):
        from ..circuits.sources import PWL

        if not sources or not all(type(s) is PWL for s in sources):
            return None
        times = np.unique(np.concatenate([np.asarray(s.times, float) for s in sources]))
        if times.size * len(sources) > cls.MAX_ENTRIES:
            return None
        return cls(times, np.stack([s(times) for s in sources], axis=1))

    def __call__(self, t):
        k = int(np.searchsorted(self.times, t, side="right")) - 1
        if k < 0:
            return self.values[0]
        if k >= self.times.size - 1:
            return self.values[-1]
        w = (t - self.times[k]) / (self.times[k + 1] - self.times[k])
        return (1.0 - w) * self.values[k] + w * self.values[k + 1]


class _Nodes:
    """Node equations of one crossbar with the cell states eliminated: Newton solve, outputs.

    ``newton_v_tol``: the Newton iteration's last-update test relative to the largest drive (default
    :data:`NEWTON_V_TOL`; co-simulation loosens it to its simulator's tolerance).
    """

    newton_v_tol = NEWTON_V_TOL

    def __init__(self, xbar: Crossbar, sources, cells):
        self.xbar, self.sources, self.cells = xbar, sources, cells
        self.net = net = build_network(xbar)
        self.BT = net.B.T.tocsr()
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
        self.bit_voltages = xbar.bit_voltages
        self._drive_t, self._drive_v = None, None
        self.iterations = 0
        self._table = _PWLTable.build(sources)

    def drive(self, t):
        """Word-line source values followed by the bit-line foot voltages (V) (cached per time)."""
        if t != self._drive_t:
            words = self._table(t) if self._table is not None else [float(s(t)) for s in self.sources]
            self._drive_v = np.concatenate([words, self.bit_voltages])
            self._drive_t = t
        return self._drive_v

    def _correction(self, g, c_h, th, F):
        """Newton correction dV solving (diag(c_h) / th + A_w + B^T g B) dV = -F / th."""
        net = self.net
        if self.system is not None:
            wl, bl = net.wl_index, net.bl_index
            if c_h is None:
                self.system.set_cells(g.reshape(wl.shape))
            else:
                self.system.set_cells(g.reshape(wl.shape), c_h[wl] / th, c_h[bl] / th)
            try:
                dw, db, _ = self.system.solve(-F[wl] / th, -F[bl] / th, tol=CG_TOL, i_tol=np.inf)
            except RuntimeError:  # CG stalled (e.g. wildly different cell conductances): direct solve below
                pass
            else:
                dV = np.empty_like(F)
                dV[wl.ravel()], dV[bl.ravel()] = dw.ravel(), db.ravel()
                return dV
        J = net.A_wire + net.B.T @ sp.diags(g) @ net.B
        if c_h is not None:
            J = J + sp.diags(c_h / th)
        return solve_spd(J.tocsr(), -F / th)[0]

    def solve(self, V, t, h, theta, x_old, f_old, x_guess, V0=None, R0=None):
        """Node voltages and states at time ``t`` after a step ``h`` from (V0, x_old); h = 0: DC at x_old.

        Returns (V, x, u, i, f, R) or None when the Newton iteration fails (the caller shortens the step).
        """
        net, cells = self.net, self.cells
        v = self.drive(t)
        Cv, Wv = net.C @ v, net.W_drive @ v
        c_h = self.cap / h if h and np.any(self.cap > 0) else None
        # Node equations with capacitors under the trapezoidal rule use NODE_THETA (see its comment); without
        # capacitors the node equation is algebraic: R(V) = 0 at the new time.
        th = 1.0 if c_h is None or theta >= 1.0 else NODE_THETA  # backward Euler stays backward Euler
        v_tol = self.newton_v_tol * max(1.0, float(np.max(np.abs(v))) if v.size else 1.0)
        x, done = x_guess, False
        for _ in range(NEWTON_ITERS):
            u = net.B @ V + Cv
            x, i, g, f, bad = cells.implicit(u, x_old, f_old, x, h, theta)
            if bad:
                return None
            R = net.A_wire @ V - Wv + self.BT @ i
            if done or not V.size:
                return V, x, u, i, f, R
            F = R if c_h is None else c_h * (V - V0) + th * R + (1 - th) * R0
            dV = self._correction(g, c_h, th, F)
            self.iterations += 1
            V = V + dV
            big = float(np.max(np.abs(dV)))
            if not np.isfinite(big):
                return None
            done = big <= v_tol
        return None

    def outputs(self, V, i):
        """Output current of every column (A) at node voltages V and cell currents i."""
        if self.g_end > 0:
            return self.g_end * (V[self.bottom] - self.bit_voltages)
        return i.reshape(self.xbar.shape).sum(axis=0)


def _largest_drive(sources, times, bit_voltages) -> float:
    """Largest |v| (V) of any source at ``times`` or bit-line bias (sources vectorised where they allow it)."""
    big = float(np.max(np.abs(bit_voltages))) if bit_voltages.size else 0.0
    for s in sources:
        try:
            values = np.asarray(s(times), float)
        except (TypeError, ValueError):  # a scalar-only callable
            values = np.array([float(s(t)) for t in times])
        big = max(big, float(np.max(np.abs(values))) if values.size else 0.0)
    return big


def simulate_transient(
    xbar: Crossbar,
    sources,
    t_stop: float,
    method: str = "trap",
    tol: float = 1e-4,
    max_step: float | None = None,
    min_step: float | None = None,
    coupling_iters: int | None = None,
    progress=None,
    compiled: bool | None = None,
) -> CrossbarTransient:
    """Integrate the cell states (and line capacitances) of ``xbar`` (any stateful cell: "tiox", "memristor").

    Parameters
    ----------
    xbar
        The crossbar; its ``state`` is the initial state.
    sources
        m callables v_i(t) in V (e.g. :class:`~memspice.circuits.PWL`), one per word line.
    t_stop
        End time (s).
    method
        "trap" (trapezoidal rule, default) or "be" (backward Euler).
    tol
        Allowed local error per step, in state units and, for nodes on line capacitance, in volts relative
        to the largest input; both methods control both (backward Euler against its forward-Euler
        predictor, the trapezoidal rule against backward Euler).
    max_step, min_step
        Step limits (s); default t_stop / 200 and t_stop * 1e-12.
    coupling_iters
        Ignored (kept for old callers): the states are now eliminated inside the node Newton iteration.
    progress
        None (default): a bar with the simulated time and the time left on stderr once the run has taken
        :data:`PROGRESS_AFTER_S`, only when stderr is a terminal; True / False: always / never a bar;
        a callable: called as ``progress(t, t_stop)`` (s) after every accepted step instead of a bar.
        ``MEMSPICE_PROGRESS=0`` turns bars (not callbacks) off everywhere (:mod:`memspice.spice.progress`).
    compiled
        Per-cell kernels: None picks the numba-compiled ones where they apply (compact-model cells), False
        forces numpy, True insists on compiled (``ValueError`` where they do not apply).

    Notes
    -----
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
    if not (progress is None or isinstance(progress, bool) or callable(progress)):
        raise ValueError(f"progress must be None, True, False or a callable(t, t_stop), got {progress!r}")
    cells = cell_stepper(xbar.cell, compiled)
    nodes = _Nodes(xbar, sources, cells)
    max_step = max_step or t_stop / 200
    min_step = min_step or t_stop * 1e-12
    corners = _breakpoints(sources, t_stop)
    theta = 0.5 if method == "trap" else 1.0

    if xbar.state is None:  # pragma: no cover - stateful cells require a state (Crossbar checks it)
        raise ValueError("transient needs the cells' state (m x n)")
    x = xbar.state.ravel().astype(float)
    zero = np.zeros_like(x)
    point = nodes.solve(np.zeros(nodes.net.n_unknown), 0.0, 0.0, 1.0, x, zero, x)
    if point is None:
        raise TransientError("DC operating point at t = 0 did not converge")
    V, _, u, i, _, R = point
    f = cells.rate(x, u)
    times, states, outs, volts = [0.0], [x.copy()], [nodes.outputs(V, i)], [u]
    capacitive = nodes.cap > 0
    cap_safe = np.where(capacitive, nodes.cap, 1.0)
    v_scale = max(1e-3, _largest_drive(sources, corners, nodes.bit_voltages))
    t, h, rejected, at_corner = 0.0, min(max_step, BREAKPOINT_CUT * (corners[1] - corners[0])), 0, False
    bar = _Progress(progress, t_stop)
    try:
        while t < t_stop * (1 - 1e-12):
            nxt = corners[corners > t * (1 + 1e-12) + 1e-300]
            span = (nxt[0] if nxt.size else t_stop) - t
            if at_corner:  # a source's slope changes here: restart small (see BREAKPOINT_CUT)
                h = min(h, BREAKPOINT_CUT * span)
                at_corner = False
            h = min(h, max_step, span)
            point = nodes.solve(V, t + h, h, theta, x, f, x + h * f, V0=V, R0=R)
            if point is None:  # Newton failed: shorter step
                if h <= min_step:
                    raise TransientError(f"node Newton did not converge at t = {t + h:.6g} s")
                h = max(min_step, h / 4)
                rejected += 1
                continue
            V1, x1, u1, i1, f1, R1 = point
            if method == "trap":
                # x_trap - x_BE = h (f0 - f1) / 2 + O(h^3)
                err = 0.5 * h * float(np.max(np.abs(f - f1))) if x.size else 0.0
            else:
                # backward Euler against its explicit forward-Euler predictor (both local errors of order h^2)
                err = float(np.max(np.abs(x + h * f - x1))) if x.size else 0.0
            if V.size and np.any(capacitive):  # line capacitors (NODE_THETA): against the explicit predictor
                ref_V = V - h * R / cap_safe
                err = max(err, float(np.max(np.abs(ref_V - V1)[capacitive])) / v_scale)
            if err > tol and h > min_step:
                h = max(min_step, h * max(0.2, 0.9 * np.sqrt(tol / err)))
                rejected += 1
                continue
            if err > tol:
                raise TransientError(f"step size fell below {min_step:g} s at t = {t:.6g} s")
            at_corner = h >= span * (1 - 1e-12)
            t += h
            V, x, u, f, R = V1, x1, u1, f1, R1
            times.append(t)
            states.append(x)
            outs.append(nodes.outputs(V, i1))
            volts.append(u)
            bar.update(t)
            h = h * min(2.0, 0.9 * np.sqrt(tol / err)) if err > 0 else h * 2.0
    finally:
        bar.close()
    m, n = xbar.shape
    return CrossbarTransient(
        np.array(times),
        np.array(states).reshape(-1, m, n),
        np.array(outs),
        np.array(volts).reshape(-1, m, n),
        rejected,
        nodes.iterations,
    )
