"""Batched DC solution of a passive TiOx crossbar with resistive word and bit lines.

The online RPCA loop reads its 32 x 32 array some 10^5 times per clip (every
bit plane of every column of every frame), far more than the general sparse
solver (:func:`memspice.solver.solve_dc`, one Newton solve per input vector,
~10-30 ms each for 32 x 32) can afford.  This module solves the *same*
network (the geometry of :class:`memspice.circuits.crossbar.Crossbar`) for
many input vectors at once, exploiting its structure:

* word line i is driven at its left end (resistance ``r_word_end`` in series
  with the first segment), bit line j at its bottom end (``r_bit_end`` in
  series with the last segment); the far ends are open, so each line is a
  tree and its node voltages follow from cumulative sums of the cell
  currents:  V_w(i, j) = e_w(i) - sum_{k<=j} R_k sum_{l>=k} I(i, l) and
  V_b(i, j) = e_b(j) + sum_{k>=i} R'_k sum_{l<=k} I(l, j), i.e. products with
  fixed m x m and n x n resistance kernels (BLAS);
* the cell currents I = i(V_w - V_b, x) come from the device law, so the
  network is the fixed point u = F(u) of those two maps, iterated (with
  damping if it ever grows) to ``tol`` volts.  The contraction factor is
  about g_cell * R_line, ~1e-3 for reads of this high-resistance array, so
  reads converge in 3-4 sweeps.

It agrees with :func:`memspice.solver.solve_dc` to ~1e-12 relative (checked
in ``tests/test_rpca.py``); the circuit-level check against ngspice
goes through ``solve_dc`` and the netlist writer.

The TiOx current law is evaluated in closed form (``i = I_s(x) (E(v/V_c) - 1)``,
see :class:`memspice.models.TiOx`), separably as ``s(x) f(v)``; the
constructor checks that form against ``TiOx.current`` on a grid and refuses
to run if the model's equations have changed.
"""

from __future__ import annotations

import numpy as np

from ..models import TiOx


class ModelMismatch(RuntimeError):
    """The closed-form TiOx law here no longer matches :class:`memspice.models.TiOx`."""


class TiOxLaw:
    """Fast, vectorised i(v, x) of a :class:`~memspice.models.TiOx` device (A), checked against the model."""

    def __init__(self, model: TiOx):
        p = model.params
        self.model = model
        self.vc = p.v_read / np.log(p.rectification_ratio)
        self.z_lin = p.v_lin / self.vc
        self.e_lin = np.exp(self.z_lin)
        self.i_s_on = p.v_read / (p.r_on * (np.exp(p.v_read / self.vc) - 1))
        self.off = 1.0 / p.on_off_ratio
        v = np.linspace(-3.0, 3.0, 121)
        x = np.linspace(0.0, 1.0, 11)
        vv, xx = np.meshgrid(v, x)
        ref = model.current(vv, xx)
        err = np.max(np.abs(self.current(vv, xx) - ref)) / np.max(np.abs(ref))
        if not err < 1e-9:
            raise ModelMismatch(f"closed-form TiOx law differs from TiOx.current by {err:.2e} (relative)")

    def scale(self, x):
        """I_s(x) / I_s,on = 1/ONOFF + x (1 - 1/ONOFF): read current is linear in the state."""
        return self.off + np.asarray(x) * (1.0 - self.off)

    def shape(self, v):
        """I_s,on (E(v/V_c) - 1) (A): the state-free factor of the current."""
        z = np.asarray(v) / self.vc
        if z.size and np.max(z) <= self.z_lin:  # read regime: plain exponential
            return self.i_s_on * np.expm1(z)
        e = np.where(z > self.z_lin, self.e_lin * (1.0 + z - self.z_lin), np.exp(np.minimum(z, self.z_lin)))
        return self.i_s_on * (e - 1.0)

    def current(self, v, x):
        return self.scale(x) * self.shape(v)


def solve_lines(
    law: TiOxLaw,
    state,
    e_word,
    e_bit,
    r_word: float,
    r_bit: float,
    r_word_end: float = 0.0,
    r_bit_end: float = 0.0,
    gain=None,
    tol: float = 1e-12,
    max_iter: int = 200,
):
    """Cell voltages and currents of crossbars driven at the line ends.

    Parameters
    ----------
    law : TiOxLaw
        Cell law.
    state : ndarray, shape (..., m, n)
        Cell states (leading axes: independent arrays, e.g. frame tiles).
    e_word : ndarray, shape (..., p, m)
        Voltage (V) at the left end of every word line, for p input vectors.
    e_bit : ndarray, shape (..., p, n)
        Voltage (V) at the bottom end of every bit line.
    r_word, r_bit : float
        Segment resistances (Ohm).
    r_word_end, r_bit_end : float
        Extra resistance (Ohm) between each line's end and its first (word) /
        last (bit) segment: driver output or TIA input resistance.
    gain : ndarray, shape (..., p, m, n), optional
        Per-read multiplicative factor on every cell current (read noise).
    tol : float
        Convergence tolerance on cell voltages (V).

    Returns
    -------
    u, i : ndarray, shape (..., p, m, n)
        Cell voltages (V) and cell currents (A, word line to bit line).
    """
    s = law.scale(state)[..., None, :, :]
    u = e_word[..., :, None] - e_bit[..., None, :]
    ideal = r_word == 0 and r_bit == 0 and r_word_end == 0 and r_bit_end == 0
    m, n = u.shape[-2:]
    rw = np.full(n, float(r_word))
    rw[0] += r_word_end
    rb = np.full(m, float(r_bit))
    rb[-1] += r_bit_end
    # drop at word-line node j from the current of cell l: resistance shared by the two paths to the end
    cw = np.cumsum(rw)
    k_word = cw[np.minimum.outer(np.arange(n), np.arange(n))]  # (l, j)
    cb = np.cumsum(rb[::-1])[::-1]
    k_bit = cb[np.maximum.outer(np.arange(m), np.arange(m))]  # (i, l)
    omega, last = 1.0, np.inf
    for _ in range(max_iter):
        i = s * law.shape(u)
        if gain is not None:
            i = i * gain
        if ideal:
            return u, i
        drop_w = i @ k_word
        rise_b = k_bit @ i
        u_new = (e_word[..., :, None] - drop_w) - (e_bit[..., None, :] + rise_b)
        step = float(np.max(np.abs(u_new - u)))
        if step > last:
            omega *= 0.5
        last = step
        u = u + omega * (u_new - u)
        if step <= tol:
            i = s * law.shape(u)
            return u, (i * gain if gain is not None else i)
    raise RuntimeError(
        f"crossbar line solve did not converge in {max_iter} sweeps (last change {step:.2e} V); "
        f"wire resistance r_word={r_word}, r_bit={r_bit} Ohm is too large for this drive"
    )
