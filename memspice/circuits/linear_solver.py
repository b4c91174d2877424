"""Closed-loop crossbar circuits of in-memory hard computing: the one-step linear
solver (A x = b) and the eigenvector circuit (A x = lambda x).  Netlist writers only:
running them in ngspice lives in :mod:`memspice.systems.linalg`.

Linear solver (Sun et al., "Solving matrix equations in one step with cross-point
resistive arrays", PNAS 116, 4123, 2019, Fig. 1; reviewed in Bao et al., "Toward
memristive in-memory computing: principles and applications", Front. Optoelectron.
15, 23, 2022): A is stored as conductances G = g_unit A, b is injected as currents
I = i_unit b into the row nodes; each row node is the inverting input of an op-amp
(non-inverting input grounded) whose output drives the matching column, so the
crossbar is the feedback network.  KCL at every virtual-ground row gives G V = -I:

    V = -(i_unit / g_unit) A^-1 b,   x = -V g_unit / i_unit.

Negative entries of A sit in a second set of cells driven by unity-gain inverters of
the column voltages.  A finite op-amp gain leaves the rows slightly off ground, which
is the circuit's accuracy limit; the op-amp pole sets its dynamics (see
:mod:`memspice.systems.linalg.stability`).

Eigenvector circuit (Sun et al. 2019, Fig. 3): the column voltages V drive the array;
the row currents G V flow into transimpedance amplifiers with feedback conductance
G_lambda = lambda g_unit, whose outputs -G V / G_lambda are inverted and fed back to
the columns.  The loop is at rest only where A V = lambda V.
"""

from __future__ import annotations

import numpy as np

from ..core.units import spice_number
from .periphery import opamp_subckt


def _check_matrix(A):
    A = np.asarray(A, float)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ValueError(f"need a non-empty square A (n x n), got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError("A and b must be finite")
    return A


def _check_positive(**values):
    for name, v in values.items():
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be > 0, got {v!r}")


def _check(A, b, g_unit, i_unit):
    A = _check_matrix(A)
    b = np.asarray(b, float)
    if b.shape != (A.shape[0],):
        raise ValueError(f"need a non-empty square A (n x n) and b (n,), got {A.shape} and {b.shape}")
    if not np.all(np.isfinite(b)):
        raise ValueError("A and b must be finite")
    _check_positive(g_unit=g_unit, i_unit=i_unit)
    return A, b


def _cells(A, g_unit, pos: str, neg: str) -> list[str]:
    """Cell (i, j) between row i and node ``pos<j>`` (a > 0) or ``neg<j>`` (a < 0)."""
    lines = []
    for i, j in zip(*np.nonzero(A)):
        a = A[i, j]
        lines.append(f"Rc{i}_{j} r{i} {pos if a > 0 else neg}{j} {spice_number(1.0 / (abs(a) * g_unit))}")
    return lines


def solver_netlist(
    A,
    b,
    g_unit: float = 1e-4,
    i_unit: float = 1e-5,
    gain: float = 1e6,
    gbw: float = 10e6,
    v_sat: float = 10.0,
    analysis: str = ".op",
) -> str:
    """ngspice netlist of the closed-loop solver; column voltages are ``v(c<j>)`` (V), rows ``v(r<i>)``.

    Parameters
    ----------
    A, b : array_like
        The system (n x n) and right-hand side (n,), dimensionless.
    g_unit : float
        Conductance of one unit of A (S); assumed 100 uS, a mid-range HfO2 RRAM conductance.
    i_unit : float
        Current of one unit of b (A); assumed 10 uA, so V = -0.1 A^-1 b stays within the rails.
    gain, gbw, v_sat : float
        Op-amp open-loop DC gain (V/V), gain-bandwidth (Hz) and output limit (V) of
        :func:`memspice.circuits.periphery.opamp_subckt`; assumed 1e6, 10 MHz, 10 V (a general-purpose op-amp).
    analysis : str
        The analysis line, ``.op`` or e.g. ``.tran 1n 2u uic`` (``uic``: op-amp outputs start at 0 V).
    """
    A, b = _check(A, b, g_unit, i_unit)
    n = A.shape[0]
    lines = [
        f"* memspice closed-loop linear solver, {n}x{n}: V(c) = -(i_unit/g_unit) A^-1 b",
        f"* g_unit={spice_number(g_unit)} S per unit entry, i_unit={spice_number(i_unit)} A per unit of b",
        opamp_subckt(gain, gbw, v_sat).rstrip(),
        "* right-hand side currents into the rows",
    ]
    lines += [f"Ib{i} 0 r{i} DC {spice_number(b[i] * i_unit)}" for i in range(n)]
    lines.append("* one op-amp per row: inverting input on the row, output drives the column")
    lines += [f"Xoa{i} 0 r{i} c{i} ms_opamp" for i in range(n)]
    if np.any(A < 0):
        lines.append("* unity-gain inverters feed the cells of negative entries")
        lines += [f"Einv{j} cn{j} 0 c{j} 0 -1" for j in range(n)]
    lines.append("* the crossbar: cell (i, j) between row i and column j (or its inverse)")
    lines += _cells(A, g_unit, "c", "cn")
    lines += [analysis, ".end"]
    return "\n".join(lines) + "\n"


def eigen_netlist(
    A,
    lam: float,
    kick,
    g_unit: float = 1e-4,
    kick_width: float = 20e-9,
    gain: float = 1e6,
    gbw: float = 10e6,
    v_sat: float = 1.0,
    analysis: str = ".tran 10n 20u uic",
    cells: str | None = None,
    options: str = "",
    bounded_opamp: bool = False,
) -> str:
    """ngspice netlist of the eigenvector circuit; the eigenvector is read at ``v(c<j>)`` (V).

    Row i: transimpedance amplifier (op-amp ``Xoa<i>``, inverting input ``r<i>``, output ``y<i>``)
    with feedback resistor 1 / (lam g_unit); an ideal unity-gain inverter makes ``c<i> = -y<i>``,
    which drives column i.  Cells with a > 0 sit between ``r<i>`` and ``c<j>``, cells with a < 0
    between ``r<i>`` and ``y<j>`` (the already inverted signal), so signed matrices need no extra
    inverters.  A loop gain A / lam above one on the principal eigenvector makes that mode grow
    out of the ``kick`` until the op-amp output limit ``v_sat`` holds its amplitude.

    Parameters
    ----------
    A : array_like
        Matrix (n x n), dimensionless.
    lam : float
        Feedback conductance in units of g_unit: G_lambda = lam g_unit (Sun et al. 2019 set it to the
        eigenvalue sought).
    kick : array_like
        Current pulse amplitudes (A, one per row) injected during ``kick_width`` (s) at t = 0: the
        noise the loop grows from.
    g_unit : float
        Conductance of one unit of A (S); assumed 100 uS as in :func:`solver_netlist`.
    gain, gbw, v_sat : float
        Op-amp DC gain (V/V), gain-bandwidth (Hz), output limit (V); assumed 1e6, 10 MHz, 1 V.
    cells : str, optional
        The crossbar as netlist text (subcircuit definitions and instances between ``r<i>`` and ``c<j>`` or
        ``y<j>``), e.g. programmed devices; default: one resistor 1 / (|a| g_unit) per nonzero entry.
    options : str
        Extra netlist lines before the analysis (e.g. ``.options reltol=1e-6``).
    bounded_opamp : bool
        Op-amps limited before their pole (:func:`~memspice.circuits.periphery.opamp_subckt` ``bounded``).
    """
    A = _check_matrix(A)
    n = A.shape[0]
    kick = np.asarray(kick, float)
    if kick.shape != (n,) or not np.all(np.isfinite(kick)):
        raise ValueError(f"kick must be {n} finite currents (A), got shape {kick.shape}")
    _check_positive(lam=lam, g_unit=g_unit, kick_width=kick_width)
    edge = kick_width / 10
    lines = [
        f"* memspice eigenvector circuit, {n}x{n}: rest where A V = lam V, lam={spice_number(lam)}",
        opamp_subckt(gain, gbw, v_sat, bounded=bounded_opamp).rstrip(),
        "* noise kick into the rows",
    ]
    for i in range(n):
        lines.append(
            f"Ik{i} 0 r{i} PWL(0 0 {spice_number(edge)} {spice_number(kick[i])} "
            f"{spice_number(kick_width)} {spice_number(kick[i])} {spice_number(kick_width + edge)} 0)"
        )
    lines.append("* transimpedance amplifiers with feedback conductance lam g_unit, then inverters")
    for i in range(n):
        lines += [
            f"Xoa{i} 0 r{i} y{i} ms_opamp",
            f"Rl{i} r{i} y{i} {spice_number(1.0 / (lam * g_unit))}",
            f"Einv{i} c{i} 0 y{i} 0 -1",
        ]
    lines.append("* the crossbar")
    lines += _cells(A, g_unit, "c", "y") if cells is None else [cells.rstrip()]
    if options:
        lines.append(options.rstrip())
    lines += [analysis, ".end"]
    return "\n".join(lines) + "\n"
