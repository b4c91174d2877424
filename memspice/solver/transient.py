"""Transient of a crossbar whose cells carry state: implicit, adaptive time steps.

Unknowns at each time point are the node voltages V and the cell states x.
Kirchhoff's law with optional line capacitance C (diagonal, F) reads

    C dV/dt + R(V, x, t) = 0,   R = A_w V - W v_in(t) + B^T i(B V + C_in v_in(t), x)
    dx/dt = f(x, u),            u = B V + C_in v_in (cell voltages)

Each implicit stage is one Newton iteration on the node voltages in which
every cell's state is eliminated: for the cell voltages of the iterate, a
per-cell Newton solves the discretised state equation, and the cell enters the
node Jacobian C/h + theta (A_w + B^T g B) (SPD) with its total conductance
di/du + di/dx dx/du (see :mod:`memspice.solver.state_kernels`: compiled by
numba for compact-model cells, numpy otherwise).  For resistive word and bit
lines the linear solves run on the matrix-free, line-preconditioned CG of
:mod:`memspice.solver.structured`, else on a sparse factorisation.  Without
capacitance the node equation is the DC network at the new time.

Methods (:class:`Method`), each with a local error estimate that sets the step,
and every breakpoint of the sources hit exactly:

* ``"trap"`` (default): the trapezoidal rule (second order), compared with
  backward Euler through x_trap - x_BE = h (f(t0) - f(t1)) / 2 + O(h^3), so one
  implicit solve per step serves both, **with an L-stable start**: the first
  step after every breakpoint is backward Euler.  The trapezoidal rule alone
  is A- but not L-stable: a stiff component that a source corner excites (a
  state driven against its window, a line RC far below the step) rings with
  amplification -1 per step, which its smooth-solution error estimate does
  not see.  Measured (issue 20): a drift-diffusion device with mobility x 1e9,
  4 x 4, 1 V / 1 ms pulses, default tolerance: the plain rule overshot to
  state 1.125 where the converged solution peaks at 1.108, in 4100 time
  points; with the backward-Euler start it peaks at 1.022 in 850.  The start
  is what SPICE3-family simulators do at breakpoints; between corners the
  rule keeps its second order and one solve per step, so runs limited by
  ``max_step`` cost the same as before (same Newton iterations, measured on
  ``benchmarks/transient.py``).
* ``"trbdf2"``: TR-BDF2 (Bank et al. 1985), a trapezoidal stage then a BDF2
  stage: second order and L-stable at every step, error estimated from three
  derivative samples (one inside the step).  Fewest steps on stiff devices
  (264 time points on the case above) but two implicit solves per step, so
  twice the time where ``max_step`` sets the step.
* ``"be"``: backward Euler (first order, L-stable), compared with its
  forward-Euler predictor.

The per-cell state Newton is damped (:data:`~memspice.solver.state_kernels.STATE_DX_MAX`)
and a cell that does not converge fails the step (it is retried shorter),
never returning a state that does not solve its equation.

Known limit (measured, issue 20): a state that moves only while an input is
inside a band much narrower than its ramp (the drift-diffusion model's 1 mV
smooth direction switch with mobility x 1e9: the exact solution jumps from
1.00 to 1.09 in the last ~0.3 us of a 50 us falling edge) is resolved only
when a step lands in that band; no estimate built from samples outside it can
see it.  Every method at tol 1e-4 to 1e-6 ends at 1.0001 there, backward
Euler at tol 1e-7 (20,000 points) at the exact 1.0879 (scipy Radau,
rtol 1e-11).  Limit ``max_step`` to resolve such bands.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..circuits.crossbar import Crossbar, require_crossbar
from ..core.choices import Choice
from . import structured
from .linear import solve_direct, solve_spd
from .network import build_network, end_incidences
from .state_kernels import X_CLIP, FrozenCells, cell_stepper


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
        # three-terminal cells (1T1R, frozen): the current depends on both node voltages, the Jacobian is
        # not symmetric and is factorised directly
        self.three = xbar.cell.three_terminal
        self.ends = end_incidences(net) if self.three else None
        self.BT = net.B.T.tocsr()
        cap = np.zeros(net.n_unknown)
        for index, c in ((net.wl_index, xbar.c_word), (net.bl_index, xbar.c_bit)):
            idx = index.ravel()
            np.add.at(cap, idx[idx >= 0], c)
        self.cap = cap
        self.bottom = net.bl_index[-1, :]  # bit-line node feeding each sense link (-1: fixed)
        # resistive word and bit lines, two-terminal cells: node solves on the matrix-free line-preconditioned
        # CG (numba) instead of a sparse factorisation per Newton step
        applies = structured.applicable(xbar) and not self.three
        self.system = structured.LineSystem(xbar, np.ones(xbar.shape)) if applies else None
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
        """Newton correction dV solving (diag(c_h) / th + A_w + B^T g B) dV = -F / th.

        ``g``: di/du per cell, or (di/dv_wl, di/dv_bl) for three-terminal cells (then B^T g B is
        B^T diag(di/dv_wl) B_word + B^T diag(di/dv_bl) B_bit)."""
        net = self.net
        if self.ends is not None:
            (a, b), (Bw, Bb) = g, self.ends
            J = net.A_wire + net.B.T @ sp.diags(a + 1e-15) @ Bw + net.B.T @ sp.diags(b - 1e-15) @ Bb
            if c_h is not None:
                J = J + sp.diags(c_h / th)
            return solve_direct(J.tocsr(), -F / th)
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

    def solve(self, V, t, h, theta, x_old, f_old, x_guess, V0=None, R0=None, node_theta=None, known=None):
        """Node voltages and states at time ``t`` after a step ``h`` from (V0, x_old); h = 0: DC at x_old.

        Solves x1 - x_old - h theta f(x1) - h (1 - theta) f_old = 0 for the states and, for nodes on line
        capacitance, C (V1 - V0) / h + th R(V1) + (1 - th) R0 = 0 with ``th = node_theta`` (default: the
        trapezoidal rule's :data:`NODE_THETA`, backward Euler's 1).
        ``known``: (u, x, i, g, f) of the same step (same ``t``, ``h``, ``x_old``, ``f_old``) already solved at
        cell voltages ``u``: where the first iterate's cell voltages equal ``u`` exactly, the cells are not
        evaluated again (co-simulation re-solves a time point for every Newton iterate of ngspice).
        Returns (V, x, u, i, f, R) or None when the Newton iteration fails (the caller shortens the step).
        """
        net, cells = self.net, self.cells
        v = self.drive(t)
        Cv, Wv = net.C @ v, net.W_drive @ v
        c_h = self.cap / h if h and np.any(self.cap > 0) else None
        # Node equations with capacitors under the trapezoidal rule use NODE_THETA (see its comment); without
        # capacitors the node equation is algebraic: R(V) = 0 at the new time.
        if node_theta is None:
            node_theta = 1.0 if theta >= 1.0 else NODE_THETA  # backward Euler stays backward Euler
        th = 1.0 if c_h is None else node_theta
        v_tol = self.newton_v_tol * max(1.0, float(np.max(np.abs(v))) if v.size else 1.0)
        x, done = x_guess, False
        for iteration in range(NEWTON_ITERS):
            u = net.B @ V + Cv
            if iteration == 0 and known is not None and self.ends is None and np.array_equal(u, known[0]):
                x, i, g, f = known[1], known[2], known[3], known[4]
                bad = 0
            elif self.ends is not None:  # three-terminal (frozen) cells: current from both node voltages
                Bw, Bb = self.ends
                i, a, b = cells.current3(Bw @ V + net.C_word @ v, Bb @ V + net.C_bit @ v)
                g, f = (a, b), np.zeros_like(x_old)
                bad = int(np.count_nonzero(~(np.isfinite(i) & np.isfinite(a) & np.isfinite(b))))
            else:
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


class Method(Choice):
    """Time integration of :func:`simulate_transient` (a ``str`` enum: "trap", "trbdf2", "be" work too)."""

    TRAP = "trap"  #: trapezoidal rule (default), backward Euler on the first step after every breakpoint
    TRBDF2 = "trbdf2"  #: TR-BDF2: second order and L-stable at every step, two implicit solves per step
    BE = "be"  #: backward Euler (first order, L-stable)


#: TR-BDF2 (Bank et al. 1985, IEEE Trans. Electron Devices 32(10); Hosea & Shampine 1996, Appl. Numer. Math.
#: 20): a trapezoidal stage to t + GAMMA h, then BDF2 through t, t + GAMMA h, t + h.  GAMMA = 2 - sqrt(2)
#: makes both stages' Jacobians the same multiple of h and the method L-stable; D = GAMMA / 2 is the BDF2
#: stage's weight on f(t + h); the local error estimate is 2 K h (f0 / GAMMA - f_GAMMA / (GAMMA (1 - GAMMA))
#: + f1 / (1 - GAMMA)) with K = (-3 GAMMA^2 + 4 GAMMA - 2) / (12 (2 - GAMMA)) (Bank et al., eq. 33).
GAMMA = 2.0 - np.sqrt(2.0)
D_BDF2 = GAMMA / 2.0
K_LTE = (-3.0 * GAMMA**2 + 4.0 * GAMMA - 2.0) / (12.0 * (2.0 - GAMMA))
#: TR-BDF2 error-estimate weights on (f0, f_GAMMA, f1)
_W_LTE = 2.0 * K_LTE * np.array([1.0 / GAMMA, -1.0 / (GAMMA * (1.0 - GAMMA)), 1.0 / (1.0 - GAMMA)])

#: largest number of time steps a transient may need before it is refused (``max_steps``); assumed: 10
#: million steps are hours of run time and, stored, 16 bytes per cell and step (a 64 x 64 array: 650 GB)
MAX_STEPS = 10_000_000


class TransientInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) during :func:`simulate_transient`: ``partial`` holds the run up to the last accepted
    step (a :class:`CrossbarTransient`).  A ``KeyboardInterrupt``, so it stops scripts as Ctrl-C always does."""

    def __init__(self, partial: CrossbarTransient):
        super().__init__(
            f"transient interrupted at t = {partial.time[-1]:.6g} s ({partial.time.size} time points kept)"
        )
        self.partial = partial


def _check_settings(tol, max_step, min_step, t_stop) -> tuple[float, float, float]:
    """Validated (tol, max_step, min_step): finite, positive, ordered; ``ValueError`` naming the bad one."""
    try:
        tol = float(tol)
    except (TypeError, ValueError):
        raise ValueError(f"tol must be a number, got {tol!r}") from None
    if not (np.isfinite(tol) and 0.0 < tol <= 0.1):
        raise ValueError(
            f"tol must be a finite tolerance in (0, 0.1] (local error per step, state units), got {tol!r}; "
            "NaN, inf or 0 would switch error control off or stop every step"
        )
    limits, given_min = [], min_step
    for name, value, default in (("max_step", max_step, t_stop / 200), ("min_step", min_step, t_stop * 1e-12)):
        value = default if value is None else value
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a time in s, got {value!r}") from None
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive finite time (s), got {value!r}")
        limits.append(value)
    max_step, min_step = limits
    if given_min is None:
        min_step = min(min_step, max_step)
    if min_step > max_step:
        raise ValueError(f"min_step ({min_step!r} s) must not exceed max_step ({max_step!r} s)")
    return tol, min(max_step, t_stop), min_step


def _check_work(xbar, t_stop: float, max_step: float, corners: np.ndarray, max_steps: int) -> int:
    """The fewest steps the run can take (t_stop / max_step and the breakpoints); refuse above ``max_steps``
    or when storing that many time points would not fit in memory, with the estimate in the message."""
    from .dc import available_memory

    fewest = int(min(np.ceil(t_stop / max_step), 1e300)) + int(corners.size)
    m, n = xbar.shape
    stored = 8.0 * (2 * m * n + n + 1) * fewest  # states, cell voltages, outputs, time (float64)
    memory = available_memory()
    if fewest > max_steps or (memory is not None and stored > memory):
        raise ValueError(
            f"this transient needs at least {fewest:.3g} time steps (t_stop / max_step = {t_stop:.3g} s / "
            f"{max_step:.3g} s, plus {corners.size} breakpoints) and {stored / 1e9:.3g} GB to store them"
            + (f", above max_steps = {max_steps:.3g}" if fewest > max_steps else "")
            + (f", above the {memory / 1e9:.3g} GB available" if memory is not None and stored > memory else "")
            + "; raise max_step, shorten t_stop, or raise max_steps knowingly"
        )
    return fewest


def simulate_transient(
    xbar: Crossbar,
    sources,
    t_stop: float,
    method: Method | str = Method.TRAP,
    tol: float = 1e-4,
    max_step: float | None = None,
    min_step: float | None = None,
    coupling_iters: int | None = None,
    progress=None,
    compiled: bool | None = None,
    frozen: bool = False,
    max_steps: int = MAX_STEPS,
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
        "trap" (default), "trbdf2" or "be" (:class:`Method`); the module docstring says how each controls
        its error and why the default starts every source corner with a backward-Euler step.
    tol
        Allowed local error per step, in state units and, for nodes on line capacitance, in volts relative
        to the largest input; a finite number in (0, 0.1].
    max_step, min_step
        Step limits (s); default t_stop / 200 and t_stop * 1e-12.
    coupling_iters
        Ignored (kept for old callers): the states are now eliminated inside the node Newton iteration.
    progress
        None (default): a bar with the simulated time and the time left on stderr once the run has taken
        :data:`PROGRESS_AFTER_S`, only when stderr is a terminal; True / False: always / never a bar;
        a callable: called as ``progress(t, t_stop)`` (s) after every accepted step instead of a bar.
        ``MEMSPICE_PROGRESS=0`` turns bars (not callbacks) off everywhere (:mod:`memspice.core.progress`).
    compiled
        Per-cell kernels: None picks the numba-compiled ones where they apply (compact-model cells), False
        forces numpy, True insists on compiled (``ValueError`` where they do not apply).
    frozen
        Hold every cell at its state (a read's transient: only the node voltages move, through the line
        capacitances ``xbar.c_word``, ``c_bit``); then any cell kind runs, 1R, 1S1R and 1T1R included, and
        ``states`` is the frozen state (zeros for kinds without one).
    max_steps
        Refuse a run that needs more time steps than this (at least ``t_stop / max_step``; default
        :data:`MAX_STEPS`), or whose time points would not fit in memory, before it starts.

    Notes
    -----
    The run starts from the DC solution at t = 0 (capacitors charged to it) and ``xbar.state``.
    Ctrl-C raises :class:`TransientInterrupted` (a ``KeyboardInterrupt``) holding the run so far.
    """
    require_crossbar(xbar)
    if not (frozen or xbar.cell.stateful):
        raise ValueError(
            f"transient needs stateful cells (e.g. 'tiox' or 'memristor'), got {xbar.cell.name!r}; "
            "frozen=True runs any cell kind at its frozen state (a read)"
        )
    method = Method.parse(method)
    if not (np.isfinite(t_stop) and t_stop > 0):
        raise ValueError(f"t_stop must be a positive finite time, got {t_stop!r}")
    if len(sources) != xbar.m:
        raise ValueError(f"need {xbar.m} word-line sources, got {len(sources)}")
    if not (progress is None or isinstance(progress, bool) or callable(progress)):
        raise ValueError(f"progress must be None, True, False or a callable(t, t_stop), got {progress!r}")
    tol, max_step, min_step = _check_settings(tol, max_step, min_step, t_stop)
    corners = _breakpoints(sources, t_stop)
    _check_work(xbar, t_stop, max_step, corners, max_steps)
    cells = FrozenCells(xbar.cell, xbar.cell_arrays()) if frozen else cell_stepper(xbar.cell, compiled)
    nodes = _Nodes(xbar, sources, cells)

    if xbar.state is None and not frozen:  # pragma: no cover - stateful cells require a state (Crossbar checks it)
        raise ValueError("transient needs the cells' state (m x n)")
    x = np.zeros(xbar.m * xbar.n) if xbar.state is None else xbar.state.ravel().astype(float)
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
    t, h, rejected, at_corner = 0.0, min(max_step, BREAKPOINT_CUT * (corners[1] - corners[0])), 0, True
    bar = _Progress(progress, t_stop)
    step = _STEPPERS[method]

    def result() -> CrossbarTransient:
        m, n = xbar.shape
        _guard(times, states, outs)
        return CrossbarTransient(
            np.array(times),
            np.array(states).reshape(-1, m, n),
            np.array(outs),
            np.array(volts).reshape(-1, m, n),
            rejected,
            nodes.iterations,
        )

    try:
        while t < t_stop * (1 - 1e-12):
            nxt = corners[corners > t * (1 + 1e-12) + 1e-300]
            span = (nxt[0] if nxt.size else t_stop) - t
            first = at_corner  # a source's slope changes here: restart small (see BREAKPOINT_CUT)
            if first:
                h = min(h, BREAKPOINT_CUT * span)
            h = min(h, max_step, span)
            taken = step(nodes, t, h, V, x, f, R, first)
            if taken is None:  # Newton failed: shorter step
                if h <= min_step:
                    raise TransientError(f"node Newton did not converge at t = {t + h:.6g} s")
                h = max(min_step, h / 4)
                rejected += 1
                continue
            (V1, x1, u1, i1, f1, R1), err_x, err_v, order = taken
            err = err_x
            if V.size and np.any(capacitive):  # line capacitors: their voltages' error, relative to the drive
                err = max(err, float(np.max(np.abs(err_v / cap_safe)[capacitive])) / v_scale)
            if not np.isfinite(err):
                err = np.inf
            if err > tol and h > min_step:
                h = max(min_step, h * max(0.2, 0.9 * (tol / err) ** (1.0 / order)))
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
            h = h * min(2.0, 0.9 * (tol / err) ** (1.0 / order)) if err > 0 else h * 2.0
    except KeyboardInterrupt:
        raise TransientInterrupted(result()) from None
    finally:
        bar.close()
    return result()


def _guard(times, states, outs) -> None:
    from .guards import require_finite

    require_finite("the transient", states=np.asarray(states), output_currents=np.asarray(outs))


def _step_theta(nodes: _Nodes, t, h, V, x, f, R, theta: float):
    """One theta-method step; returns (point, state error, capacitor-charge error, order) or None.

    Backward Euler (theta = 1) is compared with its explicit forward-Euler predictor (both local errors of
    order h^2); the trapezoidal rule with backward Euler through x_trap - x_BE = h (f0 - f1) / 2 + O(h^3)
    (the same for C dV/dt = -R), so one implicit solve serves both.
    """
    guess = np.clip(x + h * f, *X_CLIP)  # explicit predictor, kept in the states' range
    point = nodes.solve(V, t + h, h, theta, x, f, guess, V0=V, R0=R)
    if point is None:
        return None
    V1, x1, _, _, f1, R1 = point
    if theta >= 1.0:
        err_x = float(np.max(np.abs(x + h * f - x1))) if x.size else 0.0
        err_v = (V - h * R / np.where(nodes.cap > 0, nodes.cap, 1.0) - V1) * nodes.cap if V.size else V
    else:
        err_x = 0.5 * h * float(np.max(np.abs(f - f1))) if x.size else 0.0
        # the node equations run at NODE_THETA: their estimate is the explicit predictor's
        err_v = (V - h * R / np.where(nodes.cap > 0, nodes.cap, 1.0) - V1) * nodes.cap if V.size else V
    return point, err_x, err_v, 2


def _step_be(nodes, t, h, V, x, f, R, first):
    return _step_theta(nodes, t, h, V, x, f, R, 1.0)


def _step_trap(nodes, t, h, V, x, f, R, first):
    """The trapezoidal rule, with an L-stable start: backward Euler on the first step after a breakpoint.

    The trapezoidal rule is A- but not L-stable: a stiff component excited at a source corner (a state
    driven against its window, a line RC far below the step) rings with amplification -1 per step, and its
    error estimate, which assumes smooth solutions, does not see it (a drift-diffusion device with mobility
    x 1e9 overshot to 1.12 where the exact solution peaks at 1.10).  One backward-Euler step after every
    corner damps what the corner excites, as SPICE3-family simulators do.
    """
    return _step_theta(nodes, t, h, V, x, f, R, 1.0 if first else 0.5)


def _step_trbdf2(nodes, t, h, V, x, f, R, first):
    """One TR-BDF2 step (see :data:`GAMMA`): trapezoidal stage, then BDF2 stage; local error from the three
    derivative samples (the interior one sees curvature that the end points alone miss)."""
    hg = GAMMA * h
    guess = np.clip(x + hg * f, *X_CLIP)
    mid = nodes.solve(V, t + hg, hg, 0.5, x, f, guess, V0=V, R0=R, node_theta=0.5)
    if mid is None:
        return None
    Vg, xg, _, _, fg, Rg = mid
    a = 1.0 / (GAMMA * (2.0 - GAMMA))
    b = (1.0 - GAMMA) ** 2 * a
    rest_x = a * xg - b * x  # x1 = rest_x + h D f(x1): the BDF2 stage in the theta form of Nodes.solve
    guess = np.clip(xg + (1.0 - GAMMA) * h * fg, *X_CLIP)
    rest_v = a * Vg - b * V if V.size else V
    end = nodes.solve(Vg, t + h, h, D_BDF2, rest_x, np.zeros_like(x), guess, V0=rest_v, R0=np.zeros_like(R),
                      node_theta=D_BDF2)  # fmt: skip
    if end is None:
        return None
    V1, x1, _, _, f1, R1 = end
    err_x = h * float(np.max(np.abs(_W_LTE[0] * f + _W_LTE[1] * fg + _W_LTE[2] * f1))) if x.size else 0.0
    # C dV/dt = -R: the same estimate on the charges (divided by C by the caller)
    err_v = h * (_W_LTE[0] * R + _W_LTE[1] * Rg + _W_LTE[2] * R1) if V.size else V
    return end, err_x, err_v, 3


_STEPPERS = {Method.TRBDF2: _step_trbdf2, Method.TRAP: _step_trap, Method.BE: _step_be}
