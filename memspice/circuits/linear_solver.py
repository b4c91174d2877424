"""Closed-loop crossbar circuit that solves A x = b in one step (in-memory hard computing).

SEEDS (Bao et al. 2022): A is stored as conductances G = g_unit A, b is
injected as currents I = i_unit b into the row nodes; each row node is the
inverting input of an op-amp (non-inverting input grounded) whose output
drives the matching column, so the crossbar is the feedback network.  KCL at
every virtual-ground row gives G V = -I, i.e.

    V = -(i_unit / g_unit) A^-1 b,   x = -V g_unit / i_unit.

Negative entries of A sit in a second set of cells driven by unity-gain
inverters of the column voltages.  A finite op-amp gain leaves the rows
slightly off ground, which is the circuit's accuracy limit.
"""
from __future__ import annotations

import numpy as np

from .periphery import opamp_subckt
from ..units import spice_number


def _check(A, b, g_unit, i_unit):
    A, b = np.asarray(A, float), np.asarray(b, float)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0 or b.shape != (A.shape[0],):
        raise ValueError(f"need a non-empty square A (n x n) and b (n,), got {A.shape} and {b.shape}")
    if not (np.all(np.isfinite(A)) and np.all(np.isfinite(b))):
        raise ValueError("A and b must be finite")
    for name, v in (("g_unit", g_unit), ("i_unit", i_unit)):
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be > 0, got {v!r}")
    return A, b


def solver_netlist(A, b, g_unit: float = 1e-4, i_unit: float = 1e-5, gain: float = 1e6, gbw: float = 10e6,
                   v_sat: float = 10.0, analysis: str = ".op") -> str:
    """ngspice netlist of the closed-loop solver; column voltages are ``v(c<j>)`` (V)."""
    A, b = _check(A, b, g_unit, i_unit)
    n = A.shape[0]
    lines = [f"* memspice closed-loop linear solver, {n}x{n}: V(c) = -(i_unit/g_unit) A^-1 b",
             f"* g_unit={spice_number(g_unit)} S per unit entry, i_unit={spice_number(i_unit)} A per unit of b",
             opamp_subckt(gain, gbw, v_sat).rstrip(),
             "* right-hand side currents into the rows"]
    lines += [f"Ib{i} 0 r{i} DC {spice_number(b[i] * i_unit)}" for i in range(n)]
    lines.append("* one op-amp per row: inverting input on the row, output drives the column")
    lines += [f"Xoa{i} 0 r{i} c{i} ms_opamp" for i in range(n)]
    if np.any(A < 0):
        lines.append("* unity-gain inverters feed the cells of negative entries")
        lines += [f"Einv{j} cn{j} 0 c{j} 0 -1" for j in range(n)]
    lines.append("* the crossbar: cell (i, j) between row i and column j (or its inverse)")
    for i in range(n):
        for j in range(n):
            a = A[i, j]
            if a > 0:
                lines.append(f"Rc{i}_{j} r{i} c{j} {spice_number(1.0 / (a * g_unit))}")
            elif a < 0:
                lines.append(f"Rc{i}_{j} r{i} cn{j} {spice_number(1.0 / (-a * g_unit))}")
    lines += [analysis, ".end"]
    return "\n".join(lines) + "\n"


def solve_with_circuit(A, b, g_unit: float = 1e-4, i_unit: float = 1e-5, gain: float = 1e6, mode: str = "batch",
                       **kwargs) -> np.ndarray:
    """x from an ngspice ``.op`` of :func:`solver_netlist` (dimensionless, like numpy.linalg.solve)."""
    from ..spice import run

    A, b = _check(A, b, g_unit, i_unit)
    w = run(solver_netlist(A, b, g_unit, i_unit, gain, **kwargs), mode=mode).waveforms
    v = np.array([w[f"v(c{j})"][0] for j in range(A.shape[0])])
    return -v * g_unit / i_unit
