"""One crossbar seen from its ports: the memspice side of a co-simulation.

A marked crossbar has ``m + n`` ports: the driver end of every word line (ports ``0 .. m-1``) and the
sense end (foot) of every bit line (ports ``m .. m+n-1``), the nodes ``in<i>`` and ``s<j>`` of memspice's
own netlists (:mod:`memspice.netlists.crossbar`).  Given the port voltages (V), :class:`ArrayPorts` solves
the array's node voltages and cell states with the same node equations, per-cell state elimination and
line-preconditioned solves as :func:`memspice.solver.transient.simulate_transient`, and returns

* the current into the array at every port (A): ``I_k = G_end,k (v_k - V_end,k)`` through the end
  resistance, plus the cells hanging on the port node itself when a line has no resistance;
* a Norton conductance ``G_k`` (S) per port, the self-admittance the Newton iteration on the ngspice
  side stamps: each line as a resistive ladder whose rungs are the cells' (state-eliminated) small-signal
  conductances plus the line capacitance over the step, the lines it crosses held fixed (exact for the
  stiff ports of drivers and virtual grounds; the coupling between ports is the part the outer iteration
  converges away);
* a bound on the next time step from the local error of the states and line-capacitor voltages (the
  estimates of :mod:`memspice.solver.transient`).

Time steps come from outside (ngspice's time points): :meth:`ArrayPorts.step` advances from the last
committed point to a trial time and may be called again and again (Newton iterations, rejected steps);
only :meth:`ArrayPorts.commit` moves the committed point.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..circuits.crossbar import Crossbar
from ..solver.state_kernels import cell_stepper
from ..solver.transient import NEWTON_V_TOL, NODE_THETA, _Nodes  # the transient's node equations, reused as they are
from .ladder import ladders
from .truncation import smallest_bound

#: the step bound grows at most by this factor per accepted step (as the transient's step control)
GROWTH = 2.0
#: nor shrinks below this fraction of the step on a rejection
SHRINK = 0.2
#: safety factor on the error-based step (the transient's 0.9)
SAFETY = 0.9
#: share of the coupling tolerance (``reltol |I| + abstol`` per port) a reused array response may use up;
#: assumed: a tenth, so reuse never decides whether ngspice's Newton test passes
REUSE_SHARE = 0.1
#: the array's Newton iteration stops at a last update of this fraction of ngspice's reltol (relative to the
#: largest port voltage; assumed: a hundredth, so the port currents carry no Newton error near the coupling's
#: tolerance, instead of the transient's 1e-10 which costs an iteration more)
NEWTON_SHARE = 0.01
#: relative change of the states used to estimate how the port currents drift with them
STATE_PROBE = 1e-6
#: a step below this fraction of the one before is a sliver (ngspice's way to a close breakpoint or the final
#: time); assumed: the line capacitors' truncation test is skipped there (see ArrayPorts.capacitor_bound)
SLIVER = 0.01


class CosimArrayError(ValueError):
    """A marked crossbar that co-simulation cannot run (e.g. a three-terminal cell kind)."""


class _Memoryless:
    """The per-cell step of a cell without state (``1R``, ``1S1R``): current and conductance only.

    Evaluated by the DC solver's fastest evaluator (:func:`memspice.solver.dc_cells.dc_cells`: a compiled,
    warm-started series solve for ``1S1R``, numpy where no kernel applies).  The 1S1R numpy face costs about
    3 ms per 16 x 16 evaluation against 0.14 ms compiled, and the co-simulation evaluates the cells on every
    Newton iterate of every solved trial point.
    """

    def __init__(self, xbar: Crossbar, compiled: bool | None = None):
        from ..solver.dc_cells import dc_cells

        self.cell, self.arrays = xbar.cell, xbar.cell_arrays()
        self.evaluator = dc_cells(xbar.cell, self.arrays, compiled)

    def implicit(self, u, x_old, f_old, x_guess, h, theta):
        from ..solver.dc_cells import SeriesSolveError

        try:
            i, g = self.evaluator.current(u)
        except SeriesSolveError:  # an internal node did not converge: the step fails and is retried shorter
            return x_guess, np.full(np.size(u), np.nan), np.full(np.size(u), 1e-30), f_old, int(np.size(u))
        bad = int(np.count_nonzero(~(np.isfinite(i) & np.isfinite(g))))
        return x_guess, i, np.maximum(g, 1e-30), f_old, bad

    def rate(self, x, u):
        return x


class _Recording:
    """Wraps a per-cell stepper and keeps the small-signal conductances of its last call (for the ladders)."""

    def __init__(self, inner):
        self.inner = inner
        self.g: np.ndarray | None = None

    def implicit(self, u, x_old, f_old, x_guess, h, theta):
        out = self.inner.implicit(u, x_old, f_old, x_guess, h, theta)
        self.g = out[2]
        return out

    def rate(self, x, u):
        return self.inner.rate(x, u)


class _PortNodes(_Nodes):
    """The transient's node equations with the port voltages as the drive (instead of sources of time)."""

    def __init__(self, xbar: Crossbar, cells):
        super().__init__(xbar, [], cells)
        self.ports = np.zeros(xbar.m + xbar.n)

    def drive(self, t):
        return self.ports


@dataclass
class Point:
    """A solved time point: node voltages V, states x, cell voltages u, cell currents i, rates f, residual R,
    port currents I (A) and Norton conductances G (S)."""

    t: float
    v: np.ndarray
    V: np.ndarray
    x: np.ndarray
    u: np.ndarray
    i: np.ndarray
    f: np.ndarray
    R: np.ndarray
    I: np.ndarray  # noqa: E741 - the port currents
    G: np.ndarray
    g: np.ndarray  # the cells' small-signal conductances (S) G was made from
    solved: bool = True  # False: reused from the last solved point (see ArrayPorts.step)


class ArrayPorts:
    """A crossbar driven at its ports (see the module docstring).

    Parameters
    ----------
    xbar
        The crossbar: its cells' state (stateful kinds) or conductances, wires and line capacitance.
    tol
        Allowed local error per step, in state units and (line capacitance) in volts relative to the
        largest port voltage, as :func:`~memspice.solver.transient.simulate_transient`'s ``tol``.
    method
        "trap" (trapezoidal rule) or "be" (backward Euler) for the states and line capacitors.
    compiled
        Per-cell kernels, as in :func:`~memspice.solver.transient.simulate_transient`.
    reuse
        Answer a trial point from the last solved one when that is provably within a tenth of the coupling
        tolerance (see :meth:`step`); False solves every time.
    """

    def __init__(
        self,
        xbar: Crossbar,
        tol: float = 1e-5,
        method: str = "trap",
        compiled: bool | None = None,
        reuse: bool = True,
    ):
        if xbar.cell.three_terminal:
            raise CosimArrayError(
                f"cell {xbar.cell.name!r} is three-terminal (gate lines): co-simulation couples two-terminal "
                "cells ('1R', '1S1R', 'tiox', 'memristor' or your own)"
            )
        if method not in ("trap", "be"):
            raise ValueError(f"method must be 'trap' or 'be', got {method!r}")
        self.xbar = xbar
        self.m, self.n = xbar.shape
        self.stateful = xbar.cell.stateful
        inner = cell_stepper(xbar.cell, compiled) if self.stateful else _Memoryless(xbar, compiled)
        self.cells = _Recording(inner)
        self.nodes = _PortNodes(xbar, self.cells)
        net = self.nodes.net
        self.Wt = net.W_drive.T.tocsr()
        self.wsum = np.asarray(net.W_drive.sum(axis=0)).ravel()
        self.Ct = net.C.T.tocsr()
        self.tol = float(tol)
        self.theta = 0.5 if method == "trap" else 1.0
        self.capacitive = self.nodes.cap > 0
        self._cap_nodes = np.flatnonzero(self.capacitive)
        self._charges = np.zeros((0, self._cap_nodes.size))  # charges of the accepted points in history
        self.cap_safe = np.where(self.capacitive, self.nodes.cap, 1.0)
        self.x_init = np.asarray(xbar.state, float).ravel() if self.stateful else np.zeros(0)
        self.reuse = bool(reuse)
        self.reference: Point | None = None  # the last solved point that ngspice accepted
        self._drift: np.ndarray | None = None  # per port: how fast the states move its current (A/s)
        self._settling: np.ndarray | None = None  # per port: line-capacitor current at the reference (A)
        self.port_cap = np.concatenate([np.full(self.m, self.n * xbar.c_word), np.full(self.n, self.m * xbar.c_bit)])
        self.reused = 0
        self.updated = 0
        self._reused_G: tuple[float, np.ndarray] | None = None
        self.committed: Point | None = None
        self.previous: Point | None = None  # the accepted point before the committed one
        self.pending: Point | None = None
        self.history: list[tuple[float, np.ndarray]] = []  # (t, line-capacitor charges) of accepted points
        self.simulator_tolerances = (1e-3, 1e-12, 1e-14, 7.0)
        self.solves = 0

    # -- port quantities -------------------------------------------------------------------------------
    def _port_currents(self, v, V, i) -> np.ndarray:
        return self.wsum * v - self.Wt @ V + self.Ct @ i

    def _norton(self, g: np.ndarray, h: float) -> np.ndarray:
        """Port self-admittances (S) at cell conductances ``g`` and step ``h`` (0: DC): each line a ladder of its
        cells and line capacitors (:mod:`memspice.cosim.ladder`), the lines it crosses held fixed."""
        xbar = self.xbar
        th = NODE_THETA if self.theta < 1.0 else 1.0  # the node equations' theta with capacitors (transient)
        s_w = xbar.c_word / (h * th) if h > 0 else 0.0
        s_b = xbar.c_bit / (h * th) if h > 0 else 0.0
        r_first = xbar.r_first if xbar.r_word > 0 else xbar.r_source
        r_last = xbar.r_last if xbar.r_bit > 0 else xbar.r_sense
        return ladders(g.reshape(self.m, self.n), xbar.r_word, r_first, xbar.r_bit, r_last, s_w, s_b)

    # -- analysis --------------------------------------------------------------------------------------
    def _solve(self, t, v, h, guess_V, guess_x, base: Point | None, same: Point | None = None) -> Point | None:
        """Solve at ``t`` from ``base`` (None: DC); ``same``: a point solved for this step at other port
        voltages, whose cell evaluation the first Newton iterate reuses where its cell voltages are the same."""
        nodes = self.nodes
        nodes.ports = np.asarray(v, float)
        self.solves += 1
        if base is None:
            x_old = self.x_init
            point = nodes.solve(guess_V, t, 0.0, 1.0, x_old, np.zeros_like(x_old), x_old)
        else:
            known = None if same is None else (same.u, same.x, same.i, same.g, same.f)
            point = nodes.solve(guess_V, t, h, self.theta, base.x, base.f, guess_x, V0=base.V, R0=base.R, known=known)
        if point is None:
            return None
        V, x, u, i, f, R = point
        if base is None and self.stateful:
            f = np.asarray(self.cells.rate(x, u), float)
        g = self.cells.g if self.cells.g is not None else np.zeros(self.m * self.n)
        I = self._port_currents(nodes.ports, V, i)  # noqa: E741
        return Point(t, nodes.ports.copy(), V, x, u, i, f, R, I, self._norton(g, h), g)

    def dc(self, v) -> Point | None:
        """Operating point at port voltages ``v`` (V) with the states at their initial values; it becomes the
        committed point (a transient starts from it).  None when the Newton iteration failed."""
        guess = (
            self.pending.V if self.pending is not None and self.pending.t == 0.0 else np.zeros(self.nodes.net.n_unknown)
        )
        point = self._solve(0.0, v, 0.0, guess, self.x_init, None)
        if point is not None:
            self.pending = self.committed = self.reference = point
            self.previous = None
            self._drift = self._settling = self._reused_G = None
            self.history = []
            self._remember(point)
        return point

    def start_without_op(self) -> None:
        """Start a transient with every node at 0 V and the states at their initial values (SPICE ``uic``)."""
        point = self._solve(0.0, np.zeros(self.m + self.n), 0.0, np.zeros(self.nodes.net.n_unknown), self.x_init, None)
        if point is None:  # pragma: no cover - all-zero drive: V = 0 is the solution
            raise RuntimeError("array operating point at 0 V did not converge")
        self.pending = self.committed = self.reference = point
        self.previous = None
        self._drift = self._settling = self._reused_G = None
        self.history = []
        self._remember(point)

    def step(self, t: float, v) -> Point | None:
        """Advance from the committed point to time ``t`` (s) at port voltages ``v`` (V) without committing.

        Newton iterations at the same ``t`` start from the previous one.  None when the array's Newton
        iteration failed (the caller makes ngspice shorten the step).

        **Linear updates.**  A later Newton iterate at the same time whose port voltages moved so little that
        ``2 (G_k + C_k / h) max|v - v_p| <= REUSE_SHARE (reltol |I_k| + abstol)`` (terms as below) is
        answered from the solved iterate ``p`` by ``I = I_p + G_p (v - v_p)``.

        **Reuse.**  When the array is quiet the trial point is answered from the last solved point ``r``
        that ngspice accepted, without a solve: ``I = I_r + G_r (v - v_r)``, states moved on at their rates
        ``x_r + (t - t_r) f_r``.  It is used only when a bound on what that leaves out stays within
        :data:`REUSE_SHARE` of the coupling tolerance at every port k:
        ``2 (G_k + C_k / h) max|v - v_r| + D_k (t - t_r) + S_k <= REUSE_SHARE (reltol |I_k| + abstol)``,
        where the linearised array is a diagonally dominant M-matrix (so the ports' cross-admittances sum to
        at most ``G_k``, which holds the crossing lines fixed and so bounds the true self-admittance),
        ``C_k`` is the line's capacitance, ``D_k`` how fast the states drift its current (the cells' current
        sensitivity to their state times their rates, summed along the line) and ``S_k`` the line capacitors'
        current at ``r``.  During reads below the cells' switching threshold nearly every point is reused.
        """
        base = self.committed
        if base is None:
            raise RuntimeError("ArrayPorts.step before an operating point (dc or start_without_op)")
        h = t - base.t
        if not h > 0:
            raise RuntimeError(f"trial time {t!r} s is not after the committed time {base.t!r} s")
        v = np.asarray(v, float)
        p = self.pending if self.pending is not None and self.pending.t == t and self.pending.solved else None
        same = p is not None  # a later Newton iterate of a solved time point
        if p is not None and self._close(p, v, h):
            self.pending = replace(p, v=v.copy(), I=p.I + p.G * (v - p.v))
            self.updated += 1
            return self.pending
        if not same and self._reusable(t, v, h):
            self.pending = self._reused(t, v, h)
            return self.pending
        if p is not None:
            guess_V, guess_x = p.V, p.x
        else:
            guess_V, guess_x = base.V, base.x + h * base.f if self.stateful else base.x
            before = self.previous
            if before is not None and base.t > before.t:  # node voltages extrapolated along the last step
                guess_V = base.V + (base.V - before.V) * (h / (base.t - before.t))
        solved = self._solve(t, v, h, guess_V, guess_x, base, p)
        if solved is not None:
            self.pending = solved
        return solved

    def _close(self, p: Point, v: np.ndarray, h: float) -> bool:
        if not self.reuse:
            return False
        reltol, abstol = self.simulator_tolerances[:2]
        allowed = REUSE_SHARE * (reltol * np.abs(p.I) + abstol)
        return bool(np.all(2.0 * (p.G + self.port_cap / h) * float(np.max(np.abs(v - p.v))) <= allowed))

    def _reusable(self, t: float, v: np.ndarray, h: float) -> bool:
        ref = self.reference
        if not self.reuse or ref is None or t <= ref.t:
            return False
        reltol, abstol = self.simulator_tolerances[:2]
        allowed = REUSE_SHARE * (reltol * np.abs(ref.I) + abstol)
        change = 2.0 * (ref.G + self.port_cap / h) * float(np.max(np.abs(v - ref.v)))
        if self._drift is None:
            self._drift, self._settling = self._quietness(ref)
        change = change + self._drift * (t - ref.t) + self._settling
        return bool(np.all(change <= allowed))

    def _per_port(self, cell_values: np.ndarray) -> np.ndarray:
        """Sums of a per-cell quantity along every word line and every bit line."""
        a = cell_values.reshape(self.m, self.n)
        return np.concatenate([a.sum(axis=1), a.sum(axis=0)])

    def _quietness(self, ref: Point) -> tuple[np.ndarray, np.ndarray]:
        """(D, S) of the reuse test (see :meth:`step`) at the reference point."""
        drift = np.zeros(self.m + self.n)
        if self.stateful and ref.x.size:
            inner = self.cells.inner
            probe = STATE_PROBE * np.where(ref.x < 0.5, 1.0, -1.0)
            i_probe = inner.current(ref.u, ref.x + probe)[0]
            i_ref = inner.current(ref.u, ref.x)[0]
            drift = self._per_port(np.abs((i_probe - i_ref) / probe * ref.f))
        settling = np.zeros(self.m + self.n)
        if np.any(self.capacitive) and ref.R.size:
            net = self.nodes.net
            r = np.abs(ref.R)
            wl, bl = net.wl_index, net.bl_index
            on_w = np.where(wl >= 0, r[np.maximum(wl, 0)], 0.0)
            on_b = np.where(bl >= 0, r[np.maximum(bl, 0)], 0.0)
            settling = np.concatenate([on_w.sum(axis=1), on_b.sum(axis=0)])
        return drift, settling

    def _reused(self, t: float, v: np.ndarray, h: float) -> Point:
        ref = self.reference
        assert ref is not None
        self.reused += 1
        x = ref.x + (t - ref.t) * ref.f if self.stateful else ref.x
        if self._reused_G is None or self._reused_G[0] != h:
            self._reused_G = (h, self._norton(ref.g, h))
        G = self._reused_G[1]
        return Point(t, v.copy(), ref.V, x, ref.u, ref.i, ref.f, ref.R, ref.I + G * (v - ref.v), G, ref.g, False)

    def error(self, point: Point) -> float:
        """Local error estimate of the states over the step from the committed point to ``point`` (``tol``)."""
        base = self.committed
        if base is None or point.t <= base.t or not point.x.size:
            return 0.0
        h = point.t - base.t
        if self.theta < 1.0:  # x_trap - x_BE = h (f0 - f1) / 2 + O(h^3)
            return 0.5 * h * float(np.max(np.abs(base.f - point.f)))
        return float(np.max(np.abs(base.x + h * base.f - point.x)))  # against the forward-Euler predictor

    def capacitor_bound(self, point: Point) -> float:
        """Largest step (s) ngspice's truncation-error test allows the line capacitors (``CKTterr``).

        The line capacitors get the test ngspice applies to every capacitor of the monolithic netlist:
        divided differences of their charges over the last accepted points and ``point``, against
        ``trtol (max(abstol + reltol |i_C|, reltol max(|q|, chgtol) / h))``, with the simulator's own
        tolerances (:meth:`set_simulator_tolerances`).  Order 2 for the trapezoidal rule, 1 for backward
        Euler.  (A forward-Euler predictor, the array transient's own test, is useless here: the line RC
        constants are far below any step and the ports carry ngspice's Newton noise.)
        """
        history = self.history
        if self._cap_nodes.size == 0 or not history or point.t <= history[-1][0]:
            return 1e30
        order = 2 if self.theta < 1.0 else 1
        if len(history) < order + 1:
            return 1e30
        times = [t for t, _ in history[-(order + 1) :]] + [point.t]
        h, h_before = times[-1] - times[-2], times[-2] - times[-3]
        if h < SLIVER * h_before:  # a sliver ngspice inserts before a breakpoint or the final time: the charges'
            return 1e30  # divided differences there measure the ports' Newton noise, not the waveform
        reltol, abstol, chgtol, trtol = self.simulator_tolerances
        charges = self._charges[-(order + 1) :]
        bound = smallest_bound(charges, self._cap_nodes, self.nodes.cap, point.V, times, reltol, abstol, chgtol,
                               trtol, order)  # fmt: skip
        return max(SHRINK * h, bound ** (1.0 / order))

    def step_bound(self, point: Point) -> float:
        """Largest next step (s) the local errors allow; below 0.9 h it makes ngspice reject ``point``."""
        base = self.committed
        if base is None or point.t <= base.t:
            return 1e30
        h = point.t - base.t
        if not point.solved:  # reused: within the reuse test's share of the tolerance by construction
            return GROWTH * h
        err = self.error(point)
        if err <= self.tol:
            bound = h * (GROWTH if err == 0 else max(1.0, min(GROWTH, SAFETY * np.sqrt(self.tol / err))))
        else:
            bound = h * max(SHRINK, min(SAFETY, SAFETY * np.sqrt(self.tol / err)))
        return min(bound, self.capacitor_bound(point))

    def set_simulator_tolerances(self, reltol: float, abstol: float, chgtol: float = 1e-14, trtol: float = 7.0):
        """ngspice's ``reltol``, ``abstol`` (A), ``chgtol`` (C) and ``trtol`` for :meth:`capacitor_bound`, the
        reuse tests and the array's Newton tolerance (defaults: ngspice's)."""
        self.simulator_tolerances = (float(reltol), float(abstol), float(chgtol), float(trtol))
        # NEWTON_SHARE of reltol, as documented above, never tighter than the transient's own test (this was
        # min(), which made it the transient's 1e-10 for every reltol above 1e-8: one Newton correction and
        # cell evaluation more in about a third of the array solves)
        self.nodes.newton_v_tol = max(NEWTON_V_TOL, NEWTON_SHARE * float(reltol))

    def commit(self, t: float) -> Point:
        """Make the pending point at time ``t`` (s) the committed one (ngspice accepted it)."""
        p = self.pending
        if p is None or p.t != t:
            raise RuntimeError(
                f"no pending array point at t = {t!r} s to commit (pending: {None if p is None else p.t})"
            )
        self.previous, self.committed = self.committed, p
        self._remember(p)
        if p.solved:
            self.reference, self._drift, self._settling, self._reused_G = p, None, None, None
        return p

    def _remember(self, point: Point) -> None:
        nodes = self._cap_nodes
        if nodes.size == 0:
            return
        if self.history and not point.solved:  # a reused point keeps the reference's node voltages
            charges = self.history[-1][1]
        else:
            charges = self.nodes.cap[nodes] * point.V[nodes]
        self.history = (self.history + [(point.t, charges)])[-3:]
        self._charges = np.stack([q for _, q in self.history])  # for capacitor_bound, oldest first
