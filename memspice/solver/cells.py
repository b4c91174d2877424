"""Cell current laws i(u) and di/du for the sparse solver, vectorised over cells.

The laws come from the same model objects as the SPICE faces, so the
solver and ngspice simulate the same equations.
"""
from __future__ import annotations

import numpy as np


class SeriesSolveError(RuntimeError):
    """The selector/resistor series split of a 1S1R cell did not converge."""


def linear(g):
    """Linear cells of conductance ``g`` (S)."""
    return lambda u: (g * u, np.broadcast_to(g, u.shape))


def selector_in_series(selector, g, iters: int = 60, tol: float = 1e-13):
    """1S1R: selector in series with conductance ``g`` (S), solved per cell by Newton.

    For terminal voltage u, find the selector voltage s with
    i_sel(s) = g (u - s); the cell conductance is the series combination.
    """
    g = np.asarray(g, float)

    def law(u):
        s = np.zeros_like(u)
        # start from the side that carries the drop: resistor-limited or selector-limited
        for _ in range(iters):
            i_s = selector.current(s)
            d_s = selector.conductance(s)
            f = i_s - g * (u - s)
            step = f / (d_s + g)
            s_new = s - step
            # keep the split physical: the selector voltage lies between 0 and u
            s_new = np.where(u >= 0, np.clip(s_new, 0, u), np.clip(s_new, u, 0))
            done = np.max(np.abs(s_new - s)) <= tol * (1 + np.max(np.abs(u)))
            s = s_new
            if done:
                break
        else:
            raise SeriesSolveError("1S1R series split did not converge; check selector parameters")
        d_s = selector.conductance(s)
        i = g * (u - s)
        with np.errstate(divide="ignore", invalid="ignore"):
            gd = np.where((d_s + g) > 0, d_s * g / (d_s + g), 0.0)
        return i, gd

    return law


def device(model, state):
    """Cells of a stateful model at fixed state ``state`` (read)."""
    x = np.asarray(state, float)
    return lambda u: (model.current(u, x), model.conductance(u, x))


def transistor_in_series(transistor, g, v_gate, iters: int = 100, tol: float = 1e-14):
    """1T1R: access transistor (drain at the word line) in series with conductance ``g`` (S).

    Three-terminal law: returns f(v_wl, v_bl) -> (i, di/dv_wl, di/dv_bl),
    solving the middle node per cell by safeguarded Newton.
    """
    g = np.asarray(g, float)
    vg = np.asarray(v_gate, float)

    def law(v_wl, v_bl):
        lo, hi = np.minimum(v_wl, v_bl), np.maximum(v_wl, v_bl)
        mid = 0.5 * (lo + hi)
        for _ in range(iters):
            i_t, _, d_s = transistor.current(vg, v_wl, mid)
            f = i_t - g * (mid - v_bl)
            df = d_s - g
            new = np.clip(mid - f / np.where(df != 0, df, -1e-30), lo, hi)
            done = np.max(np.abs(new - mid)) <= tol * (1 + np.max(np.abs(hi)))
            mid = new
            if done:
                break
        else:
            raise SeriesSolveError("1T1R series split did not converge; check transistor parameters")
        _, d_d, d_s = transistor.current(vg, v_wl, mid)
        df = d_s - g
        df = np.where(df != 0, df, -1e-30)
        i = g * (mid - v_bl)
        di_dwl = g * (-d_d / df)
        di_dbl = g * (-g / df - 1.0)
        return i, di_dwl, di_dbl

    return law
