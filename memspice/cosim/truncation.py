"""ngspice's truncation-error step bound for the arrays' line capacitors, in one compiled pass (numba).

:meth:`memspice.cosim.array.ArrayPorts.capacitor_bound` applies to every line capacitor the test ngspice applies
to every capacitor of a monolithic netlist (``CKTterr``): the (order + 1)-th divided difference of its charge
over the last accepted points and the trial point, against ``trtol`` times
``max(abstol + reltol max(|i_1|, |i_0|), reltol max(|q_1|, |q_0|, chgtol) / h)``.  The divided difference is
a fixed combination ``sum_k c_k q_k`` of the charges (the weights :func:`divided_difference_weights` depend
on the times only), so one loop over the capacitors computes it without temporaries: a 512 x 512 array has
half a million line capacitors and the bound is asked at every solved trial point.
"""

from __future__ import annotations

import numpy as np

from ..solver import structured  # noqa: F401  (configures numba's cache folder before anything compiles)

try:
    from numba import njit
except ImportError:  # pragma: no cover - numba is a dependency
    njit = None


def divided_difference_weights(times) -> np.ndarray:
    """Weights ``c_k`` with ``sum_k c_k q_k`` the divided difference of ``q`` over ``times`` (distinct, s)."""
    t = np.asarray(times, float)
    return np.array([1.0 / np.prod([t[k] - t[j] for j in range(t.size) if j != k]) for k in range(t.size)])


def _smallest_bound(charges, nodes, cap, V, weights, h, h_before, reltol, abstol, chgtol, trtol, factor):
    """Smallest ``trtol tol / max(abstol, factor |divided difference|)`` over the capacitors ``nodes``.

    ``charges[p, k]``: charge (C) of capacitor k (node ``nodes[k]``) at the p-th earlier accepted point,
    oldest first; the trial point's is ``cap[j] V[j]``; ``weights``: one per earlier point, then the trial's.
    """
    best = np.inf
    last = charges.shape[0] - 1
    for k in range(nodes.size):
        j = nodes[k]
        q1 = cap[j] * V[j]
        q0 = charges[last, k]
        qb = charges[last - 1, k]
        d = weights[last + 1] * q1
        for p in range(last + 1):
            d += weights[p] * charges[p, k]
        i1 = (q1 - q0) / h
        i0 = (q0 - qb) / h_before
        tol = max(abstol + reltol * max(abs(i1), abs(i0)), reltol * max(max(abs(q1), abs(q0)), chgtol) / h)
        bound = trtol * tol / max(abstol, factor * abs(d))
        if bound < best:
            best = bound
    return best


if njit is not None:
    _smallest_bound = njit(cache=True)(_smallest_bound)


def smallest_bound(charges, nodes, cap, V, times, reltol, abstol, chgtol, trtol, order) -> float:
    """``min over capacitors`` of ngspice's truncation bound (before the ``1 / order`` root; see module docstring).

    ``charges``: (order + 1, capacitors) charges (C) of the last accepted points (oldest first) at
    ``times[:-1]``, capacitor k on node ``nodes[k]``; the trial point at ``times[-1]`` has node voltages ``V``
    (V); ``cap``: the capacitance of every node (F).
    """
    w = divided_difference_weights(times)
    h = times[-1] - times[-2]
    h_before = times[-2] - times[-3]
    factor = 1.0 / 12.0 if order == 2 else 0.5
    return float(
        _smallest_bound(
            np.ascontiguousarray(charges, dtype=float), np.asarray(nodes, np.int64), cap, V, w,
            float(h), float(h_before), float(reltol), float(abstol), float(chgtol), float(trtol), factor,
        )
    )  # fmt: skip
