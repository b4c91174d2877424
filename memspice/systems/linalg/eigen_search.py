"""The eigenvector circuit on programmed memristors, and its eigenvalue measured from the circuit.

Circuit: Sun et al., "Solving matrix equations in one step with cross-point resistive arrays",
PNAS 116, 4123 (2019), Fig. 3; Bao et al., Front. Optoelectron. 15, 23 (2022): column voltages V drive
the array, the row currents G V flow into transimpedance amplifiers with feedback conductance
G_lambda = lambda g_unit whose inverted outputs drive the columns again.  Row i's op-amp obeys
(single-pole op-amp of DC gain a0, see :mod:`.stability`)

    tau dy/dt = a0 ((A y)_i - lambda y_i) / (D_i + lambda) - y_i,

so a mode grows where A y > lambda y and decays otherwise: the loop neither grows nor decays exactly
when lambda is the largest eigenvalue of the matrix the devices hold (to O((D + lambda) / a0)).
Sun et al. set G_lambda to a known eigenvalue; here the circuit finds it.

The outer loop (:func:`find_eigenvalue`, documented assumption): for a trial lambda, an ngspice
transient from a small random kick; the growth rate s of the column-voltage norm is fitted to its
logarithm while the loop is still linear.  s(lambda) is negative above the top eigenvalue and positive
below it, and nearly linear near it, so bracketing and regula falsi (Illinois) on the measured s converge
in a few transients.  The start bracket comes from the target matrix only (Gershgorin: lambda_max <=
max_i sum_j |a_ij|), never from an eigen-decomposition; the eigenvector is the column-voltage pattern
of the transient closest to neutral.

Devices: each entry is a differential pair (G+ to the column, G- to its inverted copy) of memristors
(default :class:`~memspice.models.DriftDiffusion` with R_on / R_off = 4.95 kOhm / 164 kOhm, the 6.1 to
202.1 uS range of the TaOx/HfOx devices of Shi et al. 2025; assumed for these arrays).  Each cell is
programmed to the state x at which the *nominal* device has its target conductance (open-loop, no
verify); every device has its own R_on and R_off, lognormal with sigma = ``variation``
(device-to-device), so its conductance at that state is off target through the model's own current law.
The netlist holds each cell as the model's frozen-state read face (:meth:`CompactModel.spice_frozen_subckt`)
with its own parameters and state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...circuits.linear_solver import eigen_netlist
from ...core.units import spice_number
from ...models import CompactModel, DriftDiffusion
from ...spice import run


def _ddk_device() -> DriftDiffusion:
    # assumed: the 6.1-202.1 uS pulsed range of the TaOx/HfOx 1T1R devices (Shi et al. 2025) as R_off / R_on
    return DriftDiffusion(r_on=1 / 202.1e-6, r_off=1 / 6.1e-6)


@dataclass(frozen=True)
class ProgrammedMatrix:
    """A signed matrix held by differential pairs of programmed devices.

    ``states_pos``/``states_neg`` (n, n) device states, ``r_on``/``r_off`` (2, n, n) each device's own
    parameters ([0] = G+ device, [1] = G- device), ``g_unit`` (S per unit of A); ``effective`` = (G+ - G-) /
    g_unit, the matrix the circuit computes with; ``loading`` = (G+ + G-) / g_unit summed per row.
    """

    target: np.ndarray
    device: CompactModel
    states: np.ndarray  # (2, n, n)
    r_on: np.ndarray  # (2, n, n)
    r_off: np.ndarray  # (2, n, n)
    g_unit: float
    conductances: np.ndarray  # (2, n, n) S
    v_read: float

    @property
    def effective(self) -> np.ndarray:
        return (self.conductances[0] - self.conductances[1]) / self.g_unit

    @property
    def loading(self) -> np.ndarray:
        return (self.conductances[0] + self.conductances[1]).sum(axis=1) / self.g_unit

    def netlist_cells(self, pos: str = "c", neg: str = "y") -> str:
        """Subcircuit of the frozen device face and one instance per device (rows r<i>)."""
        dev = self.device
        lines = [dev.spice_frozen_subckt().rstrip()]
        n = self.target.shape[0]
        for k, node in ((0, pos), (1, neg)):
            for i in range(n):
                for j in range(n):
                    if self.target[i, j] == 0:
                        continue
                    lines.append(
                        f"Xd{k}_{i}_{j} r{i} {node}{j} {dev.frozen_name} x0={self.states[k, i, j]:.9g} "
                        f"r_on={spice_number(self.r_on[k, i, j])} r_off={spice_number(self.r_off[k, i, j])}"
                    )
        return "\n".join(lines)


def device_conductance(device: CompactModel, x, r_on, r_off, v_read: float) -> np.ndarray:
    """Chord conductance i(v_read) / v_read (S) of ``device`` at states ``x`` with per-device R_on, R_off."""
    from ...models.symbolic import to_numpy

    fn = to_numpy(device.current_expr(), device.param_names)
    values = dict(zip(device.param_names, device.param_values))
    values.update(r_on=r_on, r_off=r_off)
    return np.asarray(fn(v_read, x, *[values[k] for k in device.param_names]), float) / v_read


def program_matrix(
    A, variation: float = 0.0, seed: int = 0, device: CompactModel | None = None, v_read: float = 0.1
) -> ProgrammedMatrix:
    """Program signed ``A`` onto differential pairs of ``device`` (module docstring): open-loop states from the
    nominal device, lognormal device-to-device R_on, R_off with sigma ``variation``.

    ``v_read`` (V): the read voltage at which conductances are defined (assumed 0.1 V; the drift-diffusion
    read law is ohmic, so any small voltage gives the same value).
    """
    A = np.asarray(A, float)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or not np.all(np.isfinite(A)) or not A.any():
        raise ValueError(f"A must be a finite, nonzero square matrix, got shape {A.shape}")
    if not (math.isfinite(variation) and variation >= 0):
        raise ValueError(f"variation must be >= 0, got {variation!r}")
    device = _ddk_device() if device is None else device
    p = device.params
    r_on0, r_off0 = float(p.r_on), float(p.r_off)
    xs = np.linspace(0.0, 1.0, 20001)
    g_curve = device_conductance(device, xs, r_on0, r_off0, v_read)
    if not np.all(np.diff(g_curve) > 0):
        raise ValueError("the device's read conductance must increase with its state")
    g_lo, g_hi = float(g_curve[0]), float(g_curve[-1])
    g_unit = (g_hi - g_lo) / float(np.max(np.abs(A)))
    target = np.stack([g_lo + g_unit * np.clip(A, 0, None), g_lo + g_unit * np.clip(-A, 0, None)])
    states = np.interp(target, g_curve, xs)  # the nominal device's state for each target conductance
    rng = np.random.default_rng(seed)
    r_on = r_on0 * np.exp(variation * rng.standard_normal(states.shape))
    r_off = r_off0 * np.exp(variation * rng.standard_normal(states.shape))
    g = device_conductance(device, states, r_on, r_off, v_read)
    g = np.where(A[None] != 0, g, 0.0)  # no devices where A is zero
    return ProgrammedMatrix(A, device, states, r_on, r_off, g_unit, g, v_read)


@dataclass
class GrowthMeasurement:
    """One transient at feedback ``lam``: fitted growth rate ``rate`` (1/s), the column pattern ``vector`` at the
    end of the fitted window, whether the run reached the rails, the fitted points, and ||v(c)|| (V) over
    ``time`` (s), thinned to ~300 points."""

    lam: float
    rate: float
    vector: np.ndarray
    saturated: bool
    points: int
    time: np.ndarray = field(default_factory=lambda: np.zeros(0))
    norm: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass
class EigenSearch:
    """Result of :func:`find_eigenvalue`: the eigenvalue (units of A) and eigenvector the circuit settled on."""

    eigenvalue: float
    vector: np.ndarray
    bracket: tuple[float, float]
    transients: int
    history: list = field(default_factory=list)
    converged: bool = False


def growth_rate(
    prog: ProgrammedMatrix,
    lam: float,
    seed: int = 0,
    t_stop: float | None = None,
    gain: float = 1e6,
    gbw: float = 10e6,
    v_sat: float = 10.0,
    kick_current: float = 1e-7,
    points: int = 1500,
    timeout: float = 120.0,
) -> GrowthMeasurement:
    """ngspice transient of the eigenvector circuit at G_lambda = ``lam`` g_unit; growth rate of ||v(c)|| (1/s).

    The rate is the slope of log ||v|| over the later part of the run (after the faster modes have
    decayed) while every output is below 10 % of ``v_sat`` (linear loop).  ``t_stop`` defaults to 200 /
    (2 pi gbw lam / (D_max + lam)): modes 5 % away from ``lam`` change by e^10 over the run.  Op-amp values
    as :func:`~memspice.circuits.linear_solver.eigen_netlist` (1e6, 10 MHz), ``v_sat`` 10 V (assumed, room to
    grow), kick 0.1 uA (assumed, starts the loop far below the rails).  The op-amps are limited before
    their pole (``bounded_opamp``), so a loop far below its eigenvalue saturates without stalling ngspice;
    ``timeout`` (s) per transient.
    """
    n = prog.target.shape[0]
    load = float(np.max(prog.loading)) + lam
    if t_stop is None:
        t_stop = 200 / (2 * math.pi * gbw * lam / load)
    step = t_stop / points
    kick = kick_current * np.random.default_rng(seed).standard_normal(n)
    net = eigen_netlist(
        prog.target,
        lam,
        kick,
        g_unit=prog.g_unit,
        gain=gain,
        gbw=gbw,
        v_sat=v_sat,
        analysis=f".tran {step:.6g} {t_stop:.6g} 0 {step:.6g} uic",
        cells=prog.netlist_cells(),
        options=".options reltol=1e-5 abstol=1e-15 vntol=1e-12",
        bounded_opamp=True,
    )
    w = run(net, timeout=timeout).waveforms
    t = np.asarray(w.time)
    cols = np.array([w[f"v(c{j})"] for j in range(n)])
    norm = np.linalg.norm(cols, axis=0)
    linear = (np.max(np.abs(cols), axis=0) < 0.1 * v_sat) & (norm > 0)
    late = linear & (t >= 0.5 * t[-1])
    use = late if late.sum() >= 20 else linear & (t >= 0.1 * t[-1])
    if use.sum() < 5:
        use = linear
    rate = float(np.polyfit(t[use], np.log(norm[use]), 1)[0]) if use.sum() >= 2 else math.nan
    k = int(np.flatnonzero(use)[-1]) if use.any() else len(t) - 1
    vec = cols[:, k] / (np.linalg.norm(cols[:, k]) or 1.0)
    keep = slice(None, None, max(1, len(t) // 300))
    return GrowthMeasurement(lam, rate, vec, bool(not linear[-1]), int(use.sum()), t[keep], norm[keep])


def find_eigenvalue(prog: ProgrammedMatrix, rtol: float = 1e-4, max_transients: int = 16, seed: int = 0, **kw):
    """Largest eigenvalue of the programmed matrix, found by the circuit: G_lambda where the loop stops growing.

    Start above the eigenvalue at Gershgorin's bound on the target matrix, step down by secant
    extrapolation of the measured decay rates until the loop grows, then regula falsi (Illinois) on the
    measured growth rate until the bracket is ``rtol`` (relative, assumed 1e-4) wide or ``max_transients`` runs.
    ``kw`` go to :func:`growth_rate`.
    """
    A = prog.target
    hi = 1.05 * float(np.max(np.abs(A).sum(axis=1)))  # Gershgorin, with room for the programming error
    hist: list[GrowthMeasurement] = []

    def measure(lam):
        m = growth_rate(prog, lam, seed=seed, **kw)
        hist.append(m)
        return m

    m_hi = measure(hi)
    while m_hi.rate > 0 and len(hist) < max_transients:  # still growing: the bound was not enough
        hi *= 1.5
        m_hi = measure(hi)
    # approach from above: the decay rate is nearly linear in lambda, so extrapolate its zero (secant) and step
    # there, never more than 30 % down at once; a loop far below the eigenvalue would race to the rails
    prev, lam = m_hi, 0.95 * hi
    m_lo = measure(lam)
    while m_lo.rate <= 0 and len(hist) < max_transients:
        hi, m_hi = lam, m_lo
        slope = (m_lo.rate - prev.rate) / (m_lo.lam - prev.lam)
        guess = m_lo.lam - m_lo.rate / slope if slope < 0 else 0.7 * lam
        lam_new = float(np.clip(guess * (1 - 1e-3), 0.7 * lam, lam * (1 - 1e-4)))
        prev, lam = m_lo, lam_new
        m_lo = measure(lam)
    lo = lam
    f_lo, f_hi = m_lo.rate, m_hi.rate  # > 0 (grows) and < 0 (decays)
    last = 0
    converged = False
    while len(hist) < max_transients and f_lo > 0 > f_hi:
        lam = (lo * f_hi - hi * f_lo) / (f_hi - f_lo)
        if not lo < lam < hi:
            lam = 0.5 * (lo + hi)
        m = measure(lam)
        if m.rate > 0:
            lo, m_lo, f_lo = lam, m, m.rate
            if last == 1:
                f_hi /= 2  # Illinois: the same end moved twice, halve the other end's weight
            last = 1
        else:
            hi, m_hi, f_hi = lam, m, m.rate
            if last == -1:
                f_lo /= 2
            last = -1
        if hi - lo <= rtol * hi or m.rate == 0:
            converged = True
            break
    best = min(hist, key=lambda h: abs(h.rate))
    lam = (lo * m_hi.rate - hi * m_lo.rate) / (m_hi.rate - m_lo.rate) if m_hi.rate != m_lo.rate else best.lam
    return EigenSearch(float(lam), best.vector, (lo, hi), len(hist), hist, converged)
