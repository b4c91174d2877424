"""Small-signal dynamics of the closed-loop solver circuit: poles, the stability
condition and the predicted settling time (pure numpy, no simulator).

Derivation for :func:`memspice.circuits.linear_solver.solver_netlist` with the
single-pole op-amp of :func:`memspice.circuits.periphery.opamp_subckt` (DC gain a0,
pole at gbw/a0, so tau = a0 / (2 pi gbw)):

* the row node r_i carries no capacitance, so KCL holds at every instant:
  g (A c)_i - g D_i r_i + i_unit b_i = 0 with D = diag(sum_j |A_ij|) (every cell of
  row i, positive or inverted, loads the row node), i.e.
  r = D^-1 (A c + (i_unit/g) b);
* each op-amp integrates tau dc/dt = -a0 r - c.

Hence tau dc/dt = -(I + a0 D^-1 A) c - a0 D^-1 (i_unit/g) b, with poles

    s_k = -(2 pi gbw) (mu_k + 1/a0),   mu_k = eig(D^-1 A).

The circuit is stable iff Re(mu_k) > -1/a0 for every k; for a0 -> infinity iff every
eigenvalue of D^-1 A has a positive real part.  Sun et al. (PNAS 116, 4123, 2019) and
the review of Bao et al. (Front. Optoelectron. 15, 23, 2022) state the condition on A
itself (eigenvalues, or their real parts, positive; settling set by the smallest
one).  For symmetric A the two agree exactly: D^-1 A is similar to
D^-1/2 A D^-1/2, which is congruent to A (Sylvester's law of inertia); for
non-symmetric A this module reports both and the circuit follows the D^-1 A one.
An unstable mode grows until the op-amp outputs reach their limit: the circuit
latches at the rails although ``.op`` (which only looks for an equilibrium) returns
the textbook solution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SolverDynamics:
    """Linear dynamics of the closed-loop solver around its equilibrium.

    Attributes
    ----------
    poles : numpy.ndarray
        Closed-loop poles s_k (1/s, complex), sorted by real part (largest first).
    eig_A : numpy.ndarray
        Eigenvalues of A (the paper's stability condition).
    eig_loaded : numpy.ndarray
        Eigenvalues mu_k of D^-1 A (the condition for this topology).
    paper_stable : bool
        Every eigenvalue of A has a positive real part.
    stable : bool
        Every pole in the left half plane (the circuit's own condition, finite gain included).
    time_constant_s : float
        1 / |Re s| of the slowest pole (s): the settling (or, if unstable, growth) time scale.
    """

    poles: np.ndarray
    eig_A: np.ndarray
    eig_loaded: np.ndarray
    paper_stable: bool
    stable: bool
    time_constant_s: float

    def settling_time(self, tolerance: float = 0.01) -> float:
        """Predicted settling time (s) to ``tolerance`` of the final value: ln(1/tol) slowest time constants.

        ``inf`` for an unstable circuit.
        """
        if not 0 < tolerance < 1:
            raise ValueError(f"tolerance must be in (0, 1), got {tolerance!r}")
        return math.log(1 / tolerance) * self.time_constant_s if self.stable else math.inf


def row_loading(A) -> np.ndarray:
    """D_i = sum_j |A_ij|: the total cell conductance on row node i in units of g_unit."""
    A = np.asarray(A, float)
    d = np.abs(A).sum(axis=1)
    if np.any(d == 0):
        raise ValueError(f"A has an all-zero row ({int(np.flatnonzero(d == 0)[0])}): the row node floats")
    return d


def solver_dynamics(A, gain: float = 1e6, gbw: float = 10e6) -> SolverDynamics:
    """Poles and stability of the closed-loop solver for matrix ``A`` (op-amp ``gain`` V/V, ``gbw`` Hz).

    Defaults match :func:`memspice.circuits.linear_solver.solver_netlist`.
    """
    A = np.asarray(A, float)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0 or not np.all(np.isfinite(A)):
        raise ValueError(f"A must be a finite, non-empty square matrix, got shape {A.shape}")
    for name, v in (("gain", gain), ("gbw", gbw)):
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be > 0, got {v!r}")
    mu = np.linalg.eigvals(A / row_loading(A)[:, None])
    poles = -2 * math.pi * gbw * (mu + 1 / gain)
    poles = poles[np.argsort(-poles.real)]
    eig_a = np.linalg.eigvals(A)
    slow = float(np.min(np.abs(poles.real)))
    return SolverDynamics(
        poles, eig_a, mu, bool(np.all(eig_a.real > 0)), bool(np.all(poles.real < 0)), 1 / slow if slow > 0 else math.inf
    )
