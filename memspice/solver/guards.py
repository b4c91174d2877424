"""One guard for every result path: NaN or inf never leaves a solver as a number.

Inputs within the :class:`~memspice.circuits.crossbar.Crossbar` bounds give finite results, so a NaN or
inf at the end of a solve is a solver or device-law breakdown, reported as :class:`NonFiniteResultError`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NonFiniteResultError", "check_solution", "require_finite"]


class NonFiniteResultError(FloatingPointError):
    """A solver produced NaN or inf: memspice raises this instead of returning the numbers."""


def require_finite(where: str, **arrays) -> None:
    """Raise :class:`NonFiniteResultError` naming ``where`` and the first bad entry of any of ``arrays``.

    The one guard every result path calls before returning (DC solves on either backend, many-vector reads,
    transients).
    """
    for name, arr in arrays.items():
        a = np.asarray(arr)
        bad = ~np.isfinite(a)
        if np.any(bad):
            k = tuple(int(q) for q in np.argwhere(bad)[0])
            raise NonFiniteResultError(
                f"{where} produced {float(a[k])!r} in {name} at index {k} ({int(np.count_nonzero(bad))} of {a.size} "
                "entries not finite); the inputs are within memspice's bounds, so this is a numerical breakdown "
                "(a device law overflowing at these voltages, or a singular network): check the device parameters "
                "and input range, or try another backend"
            )


def check_solution(sol):
    """``sol`` (a :class:`~memspice.solver.solution.CrossbarSolution`) after :func:`require_finite`.

    Output currents are always checked; per-cell arrays when they have been computed (a lazy solution's
    per-cell arrays come from a full solve, which is checked when it is made).
    """
    arrays = {"output_currents": sol.output_currents}
    if sol.per_cell_computed:
        arrays.update(
            device_currents=sol.device_currents,
            word_line_voltages=sol.word_line_voltages,
            bit_line_voltages=sol.bit_line_voltages,
        )
    require_finite(f"the {sol.backend} DC solve", **arrays)
    return sol
