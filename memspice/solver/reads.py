"""A DC read of any batch of input vectors: output currents the fastest exact way, per-cell arrays on demand.

:func:`read_dc` is the sparse backend of :func:`memspice.simulate.simulate_crossbar`.  It returns a
:class:`~memspice.solver.solution.CrossbarSolution` whose output currents are computed now by

* the exact transfer matrix (:func:`memspice.solver.transfer.transfer`) for linear (1R) arrays where that
  is estimated cheaper than one solve per vector (:func:`~memspice.solver.transfer.choose_strategy`:
  many vectors), then one matrix product;
* otherwise per-vector solves (:func:`memspice.solver.solve_dc`: structured CG, Newton for nonlinear
  cells): all at once, per-cell arrays kept, when those arrays fit in one block
  (:data:`~memspice.solver.transfer.BLOCK_BYTES`, or half the memory available when that is less); else
  block by block, keeping only the output currents.

Per-cell arrays that were not kept are computed on first access by ``solve_dc`` (after a memory check),
or one vector at a time by :meth:`~memspice.solver.solution.CrossbarSolution.vector`.  Both paths give
the same numbers as ``solve_dc`` (per-cell arrays identical; output currents within the solvers'
accuracy, ~1e-10 relative: tests/test_lazy_solution.py).
"""

from __future__ import annotations

import functools

import numpy as np

from ..circuits.crossbar import Crossbar, require_crossbar
from . import structured
from .dc import solve_dc
from .guards import check_solution
from .memory import BYTES_PER_CELL_VECTOR, gigabytes, memory_limit
from .solution import CrossbarSolution, SolveInfo
from .transfer import BLOCK_BYTES, ReadStrategy, choose_strategy, is_linear, solve_blocks, transfer

__all__ = ["read_dc"]


def read_dc(xbar: Crossbar, voltages, max_memory: float | None = None, **solve_kw) -> CrossbarSolution:
    """DC read of ``xbar`` for ``voltages`` ((m,) or (p, m), V): outputs now, per-cell arrays on demand.

    Parameters
    ----------
    xbar : Crossbar
        Any cell kind.
    voltages : array (m,) or (p, m)
        Word-line inputs, V, vectors first.
    max_memory : float, optional
        Bytes the read (and later the per-cell arrays of all vectors) may use; default the memory
        available at that time.
    **solve_kw
        Options of :func:`memspice.solver.solve_dc` (``method``, ``tol``, ``max_newton``, ``i_tol``,
        ...).  An explicit ``method`` other than "auto" makes every vector a solve with that method (no
        transfer matrix).

    Returns
    -------
    CrossbarSolution
        ``output_currents`` (p, n), A; ``info.outputs`` says how they were computed.

    Raises
    ------
    ValueError
        When the output currents alone would not fit in memory.
    """
    require_crossbar(xbar)
    v = xbar.check_inputs(voltages)  # (m, p)
    m, n = xbar.shape
    p = v.shape[1]
    need = 8 * p * (m + 2 * n)  # inputs, outputs and one copy
    limit, what = memory_limit(max_memory)
    if limit is not None and need > limit:
        raise ValueError(
            f"the output currents of {p} input vectors need about {gigabytes(need)}, above the "
            f"{gigabytes(limit)} {what}; read fewer vectors per call"
        )
    per_cell = functools.partial(solve_dc, xbar, max_memory=max_memory, **solve_kw)

    def lazy(out: np.ndarray, info: SolveInfo) -> CrossbarSolution:
        return check_solution(
            CrossbarSolution(
                out,
                backend="sparse",
                info=info,
                xbar=xbar,
                voltages=v.T,
                per_cell=per_cell,
                work_bytes=_work_bytes(xbar),
                max_memory=max_memory,
            )
        )

    method = solve_kw.get("method", "auto")
    if method == "auto" and is_linear(xbar) and choose_strategy(m, n, p) is ReadStrategy.TRANSFER:
        info = SolveInfo(outputs="exact transfer matrix, one matrix product (per-cell arrays on first access)")
        return lazy(transfer(xbar)(v.T), info)
    # one block's results and solver work: BLOCK_BYTES, or half the memory left when that is less
    block_bytes = BLOCK_BYTES if limit is None else max(min(BLOCK_BYTES, (limit - need) / 2), 0)
    if BYTES_PER_CELL_VECTOR * m * n * p <= block_bytes:
        sol = solve_dc(xbar, v.T, max_memory=max_memory, **solve_kw)
        sol.info.outputs = "one solve per vector (per-cell arrays kept)"
        return sol
    out = np.empty((p, n))
    info = SolveInfo()
    blocks = 0
    for start, sol in solve_blocks(xbar, v.T, max_bytes=block_bytes, max_memory=max_memory, **solve_kw):
        out[start : start + sol.vectors] = sol.output_currents
        _accumulate(info, sol.info)
        blocks += 1
        del sol  # before the next block is solved: one block's arrays in memory at a time
    info.outputs = (
        f"one solve per vector in {blocks} block(s) of at most {gigabytes(block_bytes)}, keeping the output "
        "currents only (per-cell arrays on first access)"
    )
    return lazy(out, info)


def _work_bytes(xbar: Crossbar) -> int:
    """Solver work memory (bytes) of a solve besides its results (:func:`memspice.solver.memory_estimate`)."""
    from .dc import BYTES_PER_CELL

    path = "structured" if structured.applicable(xbar) else "sparse"
    return BYTES_PER_CELL[path] * xbar.m * xbar.n


def _accumulate(total: SolveInfo, block: SolveInfo) -> None:
    """Fold one block's solver report into the read's: iterations at most, Newton iterations appended."""
    total.method = total.method or block.method
    total.unknowns = block.unknowns
    if block.iterations is not None:
        total.iterations = max(total.iterations or 0, block.iterations)
    total.newton_iterations += block.newton_iterations
    if block.cg_iterations_total is not None:
        total.cg_iterations_total = (total.cg_iterations_total or 0) + block.cg_iterations_total
