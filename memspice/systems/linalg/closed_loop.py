"""Run the closed-loop crossbar circuits of :mod:`memspice.circuits.linear_solver` in
ngspice: the one-step solver's operating point and transient (does it settle, or
latch at the rails?) and the eigenvector circuit's transient from noise.

Sources: Sun et al., "Solving matrix equations in one step with cross-point
resistive arrays", PNAS 116, 4123 (2019), Figs. 1-3; Bao et al., "Toward memristive
in-memory computing: principles and applications", Front. Optoelectron. 15, 23 (2022).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...circuits.linear_solver import eigen_netlist, solver_netlist
from ...spice import run
from .stability import SolverDynamics, solver_dynamics

#: an op-amp output beyond this fraction of its limit counts as latched at the rail (assumed)
RAIL_FRACTION = 0.9


def _columns(waves, n: int) -> np.ndarray:
    return np.array([waves[f"v(c{j})"] for j in range(n)])


def solve_with_circuit(
    A, b, g_unit: float = 1e-4, i_unit: float = 1e-5, gain: float = 1e6, mode: str = "batch", **kwargs
) -> np.ndarray:
    """x from an ngspice ``.op`` of :func:`~memspice.circuits.linear_solver.solver_netlist`
    (dimensionless, like ``numpy.linalg.solve``).

    ``.op`` finds the equilibrium whether or not it is stable: use :func:`solver_transient` to
    know whether the circuit reaches it.  ``kwargs`` go to ``solver_netlist`` (``gbw``, ``v_sat``).
    """
    A = np.asarray(A, float)
    w = run(solver_netlist(A, b, g_unit, i_unit, gain, **kwargs), mode=mode).waveforms
    v = np.array([w[f"v(c{j})"][0] for j in range(A.shape[0])])
    return -v * g_unit / i_unit


@dataclass
class SolverTransient:
    """Transient of the closed-loop solver from op-amp outputs at 0 V.

    Attributes
    ----------
    time : numpy.ndarray
        Time points (s).
    columns : numpy.ndarray
        Column (op-amp output) voltages, shape (n, time) (V).
    x_final, x_op, x_exact : numpy.ndarray
        Solution read at the end of the transient, from ``.op``, and from numpy.
    dynamics : SolverDynamics
        Predicted poles and stability.
    settled : bool
        The transient ends within ``tolerance`` of the ``.op`` solution and off the rails.
    latched : bool
        Some op-amp output ends beyond ``RAIL_FRACTION`` of its limit.
    settling_time_s : float
        Measured time after which every column stays within ``tolerance`` of its final value
        (s); NaN unless ``settled``.
    """

    time: np.ndarray
    columns: np.ndarray
    x_final: np.ndarray
    x_op: np.ndarray
    x_exact: np.ndarray
    dynamics: SolverDynamics
    settled: bool
    latched: bool
    settling_time_s: float
    tolerance: float

    @property
    def stable(self) -> bool:
        """The circuit reaches its equilibrium (measured) and the poles say it should (predicted)."""
        return self.settled and self.dynamics.stable

    @property
    def predicted_settling_s(self) -> float:
        return self.dynamics.settling_time(self.tolerance)


def solver_transient(
    A,
    b,
    g_unit: float = 1e-4,
    i_unit: float = 1e-5,
    gain: float = 1e6,
    gbw: float = 10e6,
    v_sat: float = 10.0,
    t_stop: float | None = None,
    points: int = 2000,
    tolerance: float = 0.01,
) -> SolverTransient:
    """ngspice transient (and ``.op``) of the closed-loop solver: does it settle, how fast, or does it latch?

    Parameters
    ----------
    A, b, g_unit, i_unit, gain, gbw, v_sat
        As :func:`memspice.circuits.linear_solver.solver_netlist`.
    t_stop : float, optional
        Simulated time (s); default 15 time constants of the slowest pole (enough to settle to
        3e-7, or for an unstable mode to grow from the start-up error to the rails), at least 100 ns.
    points : int
        Output points of the transient (print step t_stop / points).
    tolerance : float
        Relative band for "settled" and for the settling time (assumed 1 %, the review's ~6-bit precision).
    """
    A = np.asarray(A, float)
    b = np.asarray(b, float)
    if not (isinstance(points, int) and points >= 10):
        raise ValueError(f"points must be an integer >= 10, got {points!r}")
    if not 0 < tolerance < 1:
        raise ValueError(f"tolerance must be in (0, 1), got {tolerance!r}")
    dyn = solver_dynamics(A, gain, gbw)
    if t_stop is None:
        tau = dyn.time_constant_s if math.isfinite(dyn.time_constant_s) else 1e-6
        t_stop = max(15 * tau, 100e-9)
    if not (math.isfinite(t_stop) and t_stop > 0):
        raise ValueError(f"t_stop must be > 0 s, got {t_stop!r}")
    step = t_stop / points
    common = dict(g_unit=g_unit, i_unit=i_unit, gain=gain, gbw=gbw, v_sat=v_sat)
    x_op = solve_with_circuit(A, b, g_unit=g_unit, i_unit=i_unit, gain=gain, gbw=gbw, v_sat=v_sat)
    waves = run(solver_netlist(A, b, **common, analysis=f".tran {step:.6g} {t_stop:.6g} 0 {step:.6g} uic")).waveforms
    cols = _columns(waves, A.shape[0])
    v_final = cols[:, -1]
    x_final = -v_final * g_unit / i_unit
    latched = bool(np.any(np.abs(v_final) >= RAIL_FRACTION * v_sat))
    v_op = -x_op * i_unit / g_unit
    scale = float(np.max(np.abs(v_op))) or 1.0
    settled = (not latched) and bool(np.max(np.abs(v_final - v_op)) <= tolerance * scale)
    ts = math.nan
    if settled:
        # last time any column is outside the band tolerance * max|v_op| around its .op value
        outside = np.flatnonzero(np.max(np.abs(cols - v_op[:, None]), axis=0) > tolerance * scale)
        t = np.asarray(waves.time)
        ts = float(t[min(outside[-1] + 1, t.size - 1)]) if outside.size else float(t[0])
    return SolverTransient(
        np.asarray(waves.time), cols, x_final, x_op, np.linalg.solve(A, b), dyn, settled, latched, ts, tolerance
    )


@dataclass
class EigenTransient:
    """Transient of the eigenvector circuit from a random kick.

    Attributes
    ----------
    time, columns : numpy.ndarray
        Time (s) and column voltages (n, time) (V).
    vector : numpy.ndarray
        Final column voltages normalised to unit length, sign matched to ``reference``.
    reference : numpy.ndarray
        numpy's principal eigenvector (unit length).
    eigenvalue : float
        numpy's largest eigenvalue of A.
    cosine : float
        |cos| of the angle between the circuit's and numpy's vectors.
    amplitude_V : float
        Largest final column voltage (V): the op-amp limit when the mode grew to the rails.
    settled : bool
        The columns moved by less than 1e-3 of ``amplitude_V`` over the last 10 % of the transient.
    """

    time: np.ndarray
    columns: np.ndarray
    vector: np.ndarray
    reference: np.ndarray
    eigenvalue: float
    cosine: float
    amplitude_V: float
    settled: bool


def eigenvector_transient(
    A,
    seed: int = 0,
    margin: float = 0.01,
    g_unit: float = 1e-4,
    kick_current: float = 1e-6,
    gain: float = 1e6,
    gbw: float = 10e6,
    v_sat: float = 1.0,
    t_stop: float | None = None,
    points: int = 4000,
) -> EigenTransient:
    """Principal eigenvector of symmetric-spectrum ``A`` from an ngspice transient of the eigenvector circuit.

    The feedback conductance is G_lambda = g_unit lambda_max / (1 + ``margin``): loop gain 1 + margin
    on the principal eigenvector (it grows out of the noise kick and the op-amp limit ``v_sat`` holds
    its amplitude), below 1 on every other mode (they decay).  ``margin`` is assumed 1 %: Sun et al. (2019)
    set G_lambda to the eigenvalue itself, where the mode neither grows nor decays; a small excess makes the
    result independent of the kick amplitude at the cost of an O(margin) distortion by the output limit.

    Parameters
    ----------
    A : array_like
        Real matrix with real eigenvalues (e.g. symmetric) whose largest eigenvalue is positive.
    seed : int
        Seed of the random kick (currents ``kick_current`` x standard normal, A, for 20 ns; ``kick_current``
        assumed 1 uA, small against the ~100 uA cell currents, so the loop starts in its linear range).
    t_stop : float, optional
        Simulated time (s); default 25 growth time constants 1 / (2 pi gbw margin lambda_max / (D_max + lambda)).
    """
    A = np.asarray(A, float)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or not np.all(np.isfinite(A)):
        raise ValueError(f"A must be a finite square matrix, got shape {A.shape}")
    w, vecs = np.linalg.eig(A)
    if np.max(np.abs(w.imag)) > 1e-9 * np.max(np.abs(w)):
        raise ValueError("A has complex eigenvalues; the eigenvector circuit needs a real spectrum")
    k = int(np.argmax(w.real))
    lam = float(w.real[k])
    if lam <= 0:
        raise ValueError(f"the largest eigenvalue of A must be > 0 to set a feedback conductance, got {lam!r}")
    if not (np.isfinite(margin) and 0 <= margin < 1):
        raise ValueError(f"margin must be in [0, 1), got {margin!r}")
    ref = np.real(vecs[:, k])
    ref /= np.linalg.norm(ref)
    lam_fb = lam / (1 + margin)
    if t_stop is None:
        load = float(np.max(np.abs(A).sum(axis=1))) + lam_fb
        rate = 2 * math.pi * gbw * max(margin, 1e-3) * lam_fb / load
        t_stop = 25 / rate
    kick = kick_current * np.random.default_rng(seed).standard_normal(A.shape[0])
    step = t_stop / points
    waves = run(
        eigen_netlist(
            A,
            lam_fb,
            kick,
            g_unit=g_unit,
            gain=gain,
            gbw=gbw,
            v_sat=v_sat,
            analysis=f".tran {step:.6g} {t_stop:.6g} 0 {step:.6g} uic",
        )
    ).waveforms
    cols = _columns(waves, A.shape[0])
    final = cols[:, -1]
    norm = float(np.linalg.norm(final))
    if norm == 0:
        raise RuntimeError("the eigenvector circuit ended at 0 V: no mode grew (margin too small or t_stop too short)")
    vec = final / norm
    if vec @ ref < 0:
        vec = -vec
    t = np.asarray(waves.time)
    late = cols[:, int(np.searchsorted(t, 0.9 * t[-1]))]
    amplitude = float(np.max(np.abs(final)))
    return EigenTransient(
        t, cols, vec, ref, lam, float(abs(vec @ ref)), amplitude, bool(np.max(np.abs(final - late)) < 1e-3 * amplitude)
    )
