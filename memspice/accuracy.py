"""How accurate each crossbar read path is: the one table of documented tolerances, and the bound they give.

Every path that returns column output currents promises, for each input vector ``k`` and column ``j``,

    |I_kj - I*_kj| <= rtol * max_j |I*_kj| + dV_k * G + atol + gleak * J * V_k

against the exact nodal solution I* of the same circuit, where

* ``rtol`` is relative to the vector's largest output current (a vector of tiny inputs is judged on its own
  scale, not against a vector of large ones);
* ``dV_k = (vtol + ROUND) * V_k`` (V) is the node-voltage error: ``vtol`` the relative stopping rule of the
  path's nonlinear iteration (memspice's Newton: :data:`memspice.solver.dc.NEWTON_TOL`; ngspice: ``vntol``),
  counted for nonlinear cells only (a linear network is solved directly), and :data:`ROUND` the rounding of
  float64 node voltages; ``V_k = max(1 V, largest |input| of vector k, largest |bit-line bias|)``, the scale
  both rules use;
* ``G`` (S) is what turns a node error into an output error: twice the largest column sum of the cells'
  small-signal conductance at the solution (an error ``dV`` on both ends of every cell moves a column's cell
  currents by at most ``2 dV`` times that sum) plus the sense link's conductance ``1 / (r_bit + r_sense)``
  (an output read as a voltage difference across that link, as ngspice's sense-source current is: with a
  biased bit line and a 0.01 Ohm link, one rounding of a 0.1 V node is 1e-15 A);
* ``atol`` (A) is an absolute floor: currents far below any meter (ngspice's ``abstol``);
* ``gleak * J * V_k`` (A) is ngspice's ``gmin`` (``gleak``, S: its default 1e-12 S, which
  :data:`READ_OPTIONS <memspice.netlists.multi_vector.READ_OPTIONS>` leaves) across each pn junction of the
  netlist's cells, which it keeps even with the junctions' saturation current off: ``J`` junctions can leak
  into one column, ``m * cell.spice_junctions`` (1T1R: two per cell; 0 for the other kinds, whose faces have
  no junctions).  Measured: a 1x1 1T1R cell read with its input equal to the 0.5 V bit-line bias (exactly
  0 A) gives -4.9e-13 A in ngspice, -4.9e-16 A with ``.options gmin=1e-15``.

The numbers and where each comes from (:data:`TOLERANCES`); ``tests/test_property_*.py`` checks every path
against every other on generated circuits with the sum of both paths' bounds:

| path | rtol | vtol | atol (A) | gleak (S) | source |
| --- | --- | --- | --- | --- | --- |
| ``direct`` | 1e-10 | 1e-9 | 1e-18 | 0 | SuperLU (backward stable); Newton's stopping rule (nonlinear cells) |
| ``cg`` | 1e-9 | 1e-9 | 1e-18 | 0 | CG to relative and preconditioned residual 1e-12 (``solve_dc(tol=)``) |
| ``structured`` | 1e-9 | 1e-9 | 1e-18 | 0 | ``i_tol = 1e-10`` current balance of every bit line |
| ``transfer`` | 1e-10 | 0 | 1e-18 | 0 | exact Schur complements (linear cells only) |
| ``ngspice`` | 1e-8 | 1e-12 | 1e-18 | 1e-12 | ``reltol=1e-9 vntol=1e-12 abstol=1e-18``, 10-digit values, ``gmin`` |

ngspice's options are :data:`memspice.simulate.SPICE_READ_OPTIONS`; element values are written with
:data:`memspice.core.units.SIGNIFICANT_DIGITS` (10) digits, so each conductance is off by up to 5e-10 of
itself, and source levels exactly (:func:`memspice.netlists.crossbar.source_level`).

``read_many`` and ``read_blocked`` inherit the bound of the path they run (``transfer`` or the ``solve_dc``
method); tiled reads (:func:`memspice.solver.tiles.read_tiled`) that of their per-tile read, for the
tiled hardware (each tile its own crossbar, see :mod:`memspice.solver.tiles`); the Verilog-A face and the
shared-library mode of ngspice that of ``ngspice``.

These bounds are documented engineering promises, not proven error bounds; the property suite is what
checks them (``benchmarks/property_long.py`` for the long run and its report).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Tolerance",
    "TOLERANCES",
    "ROUND",
    "TRANSIENT_GLOBAL",
    "allowed_error",
    "conductance_scale",
    "junctions",
]

#: transients (:func:`memspice.solver.simulate_transient`): ``tol`` bounds the local error of each step; the
#: final states of a run lie within ``TRANSIENT_GLOBAL * tol`` of a run at a 1000 times tighter tolerance
#: (measured by ``tests/test_property_transient.py`` on random pulse trains, see its long-profile report)
TRANSIENT_GLOBAL = 50.0

#: relative rounding of float64 node voltages (a few units of the last place: 16 eps)
ROUND = 16 * float(np.finfo(float).eps)


@dataclass(frozen=True)
class Tolerance:
    """A read path's promise: ``rtol`` (relative), ``vtol`` (V, nonlinear iteration), ``atol`` (A),
    ``gleak`` (S, the simulator's conductance across each junction of a cell; 0 for memspice's solvers)."""

    rtol: float
    vtol: float
    atol: float
    source: str
    gleak: float = 0.0

    def __add__(self, other: Tolerance) -> Tolerance:
        """The bound on the difference of two paths' results: both errors added."""
        return Tolerance(
            self.rtol + other.rtol,
            self.vtol + other.vtol,
            self.atol + other.atol,
            f"{self.source} + {other.source}",
            self.gleak + other.gleak,
        )


#: the documented tolerance of every read path (see the module docstring for the derivations)
TOLERANCES: dict[str, Tolerance] = {
    "direct": Tolerance(1e-10, 1e-9, 1e-18, "SuperLU; Newton NEWTON_TOL for nonlinear cells"),
    "cg": Tolerance(1e-9, 1e-9, 1e-18, "scipy CG, relative residual 1e-12"),
    "structured": Tolerance(1e-9, 1e-9, 1e-18, "i_tol = 1e-10 bit-line current balance"),
    "transfer": Tolerance(1e-10, 0.0, 1e-18, "exact Schur complements"),
    "ngspice": Tolerance(1e-8, 1e-12, 1e-18, "reltol 1e-9, vntol 1e-12, 10-digit element values, gmin", 1e-12),
}


def conductance_scale(xbar, word_line_voltages, bit_line_voltages) -> np.ndarray:
    """``G`` (S) per input vector (module docstring): from the cells' small-signal conductance at a solution.

    ``word_line_voltages``, ``bit_line_voltages``: (p, m, n), V, of a solution
    (:class:`~memspice.solver.CrossbarSolution`).
    """
    m, n = xbar.shape
    arrays = xbar.cell_arrays()
    g_link = 1.0 / xbar.r_last if xbar.r_last > 0 else 0.0
    scales = []
    for wl, bl in zip(np.asarray(word_line_voltages), np.asarray(bit_line_voltages)):
        _, a, b = xbar.cell.current3(wl.ravel(), bl.ravel(), arrays)
        g = np.maximum(np.abs(a), np.abs(b)).reshape(m, n)
        scales.append(2.0 * float(np.max(g.sum(axis=0))) + g_link)
    return np.array(scales)


def junctions(xbar) -> int:
    """``J`` (module docstring): the pn junctions of the netlist face that can leak into one column."""
    return xbar.shape[0] * xbar.cell.spice_junctions


def allowed_error(
    tol: Tolerance, reference, voltages, g_scale, linear: bool, bias=0.0, junctions: int = 0
) -> np.ndarray:
    """The bound (p, n), A, on ``|I - reference|`` for a path with tolerance ``tol`` (module docstring).

    ``reference``: output currents (p, n), A; ``voltages``: the inputs (p, m), V; ``g_scale``: ``G`` (p,),
    S, from :func:`conductance_scale`; ``linear``: the cells are linear (``cell.linear``: no ``vtol``);
    ``bias``: the bit-line biases, V; ``junctions``: ``J``, the junctions that can leak into one column
    (:func:`junctions`).
    """
    ref = np.atleast_2d(np.asarray(reference, float))
    v = np.atleast_2d(np.asarray(voltages, float))
    scale = np.max(np.abs(ref), axis=1, keepdims=True)
    v_scale = np.maximum(max(1.0, float(np.max(np.abs(bias)))), np.max(np.abs(v), axis=1, keepdims=True))
    dv = ((0.0 if linear else tol.vtol) + ROUND) * v_scale
    leak = tol.gleak * junctions * v_scale
    bound = tol.rtol * scale + dv * np.asarray(g_scale, float).reshape(-1, 1) + tol.atol + leak
    return np.broadcast_to(bound, ref.shape)
