"""The coupling: ngspice's Newton iteration drives the arrays' port equations, ngspice's time steps drive theirs.

**Method** (monolithic Newton coupling through a compiled port device, :mod:`memspice.cosim.device`).
Every marked crossbar is one OSDI instance in ngspice.  On each Newton iteration of each trial time point
ngspice hands the instance the iterate's port voltages ``v``; the array (:class:`~memspice.cosim.array.ArrayPorts`)
is advanced from its last *accepted* point to that time at exactly those voltages (implicit step: states,
line capacitors and node voltages solved together), and ngspice stamps each port's current ``I_k(v)`` with
its Norton conductance ``G_k`` (the port's self-admittance).  ngspice's Newton iteration then solves the
whole circuit, periphery and arrays, at once: the coupling is implicit, on ngspice's own time grid, with no
extrapolated or lagged port waveforms.  Only the cross-admittances between ports are left out of the
Jacobian (a quasi-Newton iteration); the convergence test below sees their effect.

**Convergence test** (per Newton iteration, for every port).  The currents the array returns at the new
iterate are compared with what ngspice's linearisation predicted for it,
``|I_k(v_new) - (I_k(v_old) + G_k (v_new - v_old))| <= reltol max(|.|, |.|) + abstol``
with ngspice's own ``reltol`` and ``abstol`` (``.options``), the test SPICE applies to every nonlinear
device (a diode's ``cd`` against ``cdhat``).  Until every port passes, the device reports "not converged"
(OSDI's limiting flag), so ngspice iterates on; the first iteration of a time point never passes.  At an
accepted point the periphery and the arrays therefore agree to ngspice's Newton tolerance.

**Error control in time.**  ngspice's step control (truncation error of the periphery, breakpoints of its
sources) chooses the time points; the array bounds each step by the local error of its states and line
capacitors (OSDI ``bound_step``; the estimates of :mod:`memspice.solver.transient`, tolerance ``tol``): a
step whose array error is too large makes ngspice reject it and retry shorter.

**When the coupling does not converge** (a port fails the test for ngspice's whole iteration limit, or the
array's own Newton iteration fails) ngspice cuts the step by 8 and retries (its rule for any device that
does not converge), down to its minimum step; if it gives up there ("timestep too small") the run stops
with :class:`CouplingError` naming the time, the instance and the ports with the largest mismatch.

**Accepted points.**  Arrays move forward only at ngspice's accepted time points.  ngspice's transient
loop tells them apart by the time of the next trial point: after an accepted point it steps forward from
it, after a rejected one (truncation error, no convergence, a breakpoint crossed) it retries a shorter step
from the last accepted point, so the retried time is always earlier (``dctran.c``).  The first evaluation
at a time later than the pending point therefore commits that point; one at an earlier time discards it;
the last pending point is committed when the run ends (:meth:`Coupling.finish`).  Trial points that
ngspice rejects never touch an array's committed state.  (ngspice's ``GetSyncData`` callback would say
the same, but installing it changes ngspice's own step control near the final time: it then inserted a
step of 1e-20 s and gave up.)
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, field

import numpy as np

from ..circuits.crossbar import Crossbar
from .array import ArrayPorts
from .device import CONVERGED, NOT_CONVERGED

#: ngspice's defaults (``.options``), used when the simulator does not pass its own (it always does)
RELTOL, ABSTOL = 1e-3, 1e-12
#: ports named in a convergence report (the worst ones)
REPORTED_PORTS = 8


class CouplingError(RuntimeError):
    """The coupled transient could not proceed (with the time, instance and ports where it failed)."""


@dataclass
class ArraySpec:
    """A marked crossbar as the coupling needs it: ``label`` (e.g. ``X1, line 12``), its crossbar, what to
    record (``"ports"``, ``"states"`` or ``"none"``) and the array options."""

    label: str
    xbar: Crossbar
    save: str = "ports"
    tol: float = 1e-5
    method: str = "trap"
    chgtol: float = 1e-14
    trtol: float = 7.0
    reuse: bool = True


@dataclass
class Record:
    """Accepted points of one array instance: time (s), port currents (A), states (when saved)."""

    times: list = field(default_factory=list)
    currents: list = field(default_factory=list)
    states: list = field(default_factory=list)


@dataclass
class _Iterate:
    t: float
    v: np.ndarray
    I: np.ndarray  # noqa: E741
    G: np.ndarray


class _Instance:
    def __init__(self, spec: ArraySpec, name: str):
        self.spec, self.name = spec, name
        self.ports = ArrayPorts(spec.xbar, tol=spec.tol, method=spec.method, reuse=spec.reuse)
        self.record = Record()
        self.last: _Iterate | None = None
        self.mismatch: tuple[float, np.ndarray] | None = None  # (time, |mismatch| / tolerance per port)
        self.failures = 0
        self.tolerances_set = False

    def keep(self, point) -> None:
        r = self.record
        if r.times and point.t <= r.times[-1]:  # a new analysis started over: keep only the newest run
            self.record = r = Record()
        r.times.append(point.t)
        if self.spec.save != "none":
            r.currents.append(point.I.copy())
        if self.spec.save == "states":
            r.states.append(point.x.copy())


def _text(name) -> str:
    """A parameter name as OSDI passes it (a C string; ``str`` or ``bytes`` in tests) as text."""
    if isinstance(name, str):
        return name
    if not isinstance(name, bytes):
        from cffi import FFI

        name = FFI().string(name)
    return name.decode(errors="replace")


def instance_path(name: str) -> str:
    """User-facing path of an ngspice OSDI instance name: ``nx1`` -> ``x1``, ``n.xa.nx1`` -> ``xa.x1``."""
    parts = name.lower().split(".")
    if parts and parts[0] == "n" and len(parts) > 1:
        parts = parts[1:]
    parts[-1] = parts[-1][1:] if parts[-1].startswith("n") else parts[-1]
    return ".".join(parts)


class Coupling:
    """The port device's callback (see the module docstring).

    ``specs[k]`` is the marked crossbar with ``cosim_id = k``; ``progress(t)`` is called at accepted points.
    """

    def __init__(self, specs: list[ArraySpec], progress=None):
        self.specs = specs
        self.instances: dict[str, _Instance] = {}
        self.error: BaseException | None = None
        self.progress = progress
        self.evaluations = 0
        self.accepted = 0
        self.array_seconds = 0.0
        #: wall seconds in the port device's Python callback, the array solves included
        self.callback_seconds = 0.0
        self._params: tuple[float, float] | None = None

    # -- the port device ---------------------------------------------------------------------------------
    def instance(self, cid: int, name: str, ports: int) -> _Instance:
        inst = self.instances.get(name)
        if inst is None:
            if not 0 <= cid < len(self.specs):
                raise CouplingError(f"port device {name!r} has cosim_id {cid}, but only {len(self.specs)} are marked")
            spec = self.specs[cid]
            m, n = spec.xbar.shape
            if ports != m + n:
                raise CouplingError(f"{spec.label}: {ports} ports in ngspice, the array has {m} + {n}")
            inst = self.instances[name] = _Instance(spec, name)
        return inst

    def tolerances(self, names, values) -> tuple[float, float]:
        """(reltol, abstol) from the simulator parameters OSDI passes (read once)."""
        if self._params is None:
            found, k = {}, 0
            while names is not None and names[k]:
                # names[k] is a C string: its text is the key (a cdata key never matched, so the netlist's
                # reltol and abstol were ignored and the test ran at ngspice's defaults, 1e-3 and 1e-12 A)
                found[_text(names[k])] = float(values[k])
                k += 1
            self._params = (found.get("reltol", RELTOL), found.get("abstol", ABSTOL))
        return self._params

    def evaluate(self, cid: int, name: str, t: float, v: np.ndarray, reltol: float, abstol: float):
        """One Newton iteration of one instance: returns (status, I, G, bound)."""
        self.evaluations += 1
        inst = self.instance(cid, name, v.size)
        arr = inst.ports
        if not inst.tolerances_set:
            arr.set_simulator_tolerances(reltol, abstol, inst.spec.chgtol, inst.spec.trtol)
            inst.tolerances_set = True
        start = _time.perf_counter()
        try:
            if t > 0:
                pending = arr.pending
                if pending is not None and arr.committed is not None and arr.committed.t < pending.t < t:
                    self._accept(inst, pending.t)  # ngspice moved on from the pending point: it was accepted
                if arr.committed is None or t <= arr.committed.t:  # a transient without an operating point (uic)
                    arr.start_without_op()
                    inst.keep(arr.committed)
                    inst.last = None
                elif not inst.record.times:
                    inst.keep(arr.committed)  # the operating point: the transient's first sample
                point = arr.step(t, v)
            else:
                point = arr.dc(v)
        finally:
            self.array_seconds += _time.perf_counter() - start
        if point is None:  # the array's own Newton iteration failed at this step: ngspice must shorten it
            inst.failures += 1
            base = arr.committed
            bound = 0.25 * (t - base.t) if (t > 0 and base is not None and t > base.t) else 1e30
            last = inst.last
            if last is None:
                return NOT_CONVERGED, np.zeros(v.size), np.full(v.size, 1e-12), bound
            return NOT_CONVERGED, last.I, last.G, bound
        status = NOT_CONVERGED
        last = inst.last
        if last is not None and last.t == t:
            predicted = last.I + last.G * (v - last.v)
            allowed = reltol * np.maximum(np.abs(point.I), np.abs(predicted)) + abstol
            ratio = np.abs(point.I - predicted) / allowed
            inst.mismatch = (t, ratio)
            if np.all(ratio <= 1.0):
                status = CONVERGED
        inst.last = _Iterate(t, v.copy(), point.I, point.G)
        bound = arr.step_bound(point) if t > 0 else 1e30
        return status, point.I, point.G, bound

    # -- accepted points ---------------------------------------------------------------------------------
    def _accept(self, inst: _Instance, t: float) -> None:
        inst.keep(inst.ports.commit(t))
        inst.last = None
        self.accepted += 1
        if self.progress is not None:
            self.progress(t)

    def finish(self, t_end: float) -> None:
        """The run ended at ``t_end`` (s): commit every array's pending point at that time (ngspice accepted it)."""
        for inst in self.instances.values():
            arr = inst.ports
            p = arr.pending
            if p is not None and arr.committed is not None and arr.committed.t < p.t and p.t == t_end:
                self._accept(inst, p.t)

    # -- reporting ---------------------------------------------------------------------------------------
    def failure_report(self) -> str:
        """Where the coupling last failed to converge: instance, time and the worst ports."""
        lines = []
        for inst in self.instances.values():
            if inst.mismatch is None:
                continue
            t, ratio = inst.mismatch
            worst = [int(k) for k in np.argsort(ratio)[::-1][:REPORTED_PORTS] if ratio[k] > 1.0]
            if not worst and not inst.failures:
                continue
            m = inst.spec.xbar.m
            names = [f"{'wl' if k < m else 'bl'}{k if k < m else k - m} ({ratio[k]:.3g} x tolerance)" for k in worst]
            text = f"{inst.spec.label} (ngspice instance {inst.name}) at t = {t:.6g} s"
            if names:
                text += ": ports " + ", ".join(names)
            if inst.failures:
                text += f"; the array's own Newton iteration failed {inst.failures} time(s)"
            lines.append(text)
        return "\n".join(lines)
