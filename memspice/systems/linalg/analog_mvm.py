"""A sparse signed matrix tiled onto simulated non-ideal crossbars that compute y = A x.

Design (after Zidan et al., "A general memristor-based partial differential equation
solver", Nat. Electron. 1, 411 (2018): sparse A tiled into arrays, precision extended
by bit slicing; and the signal chain of Bao et al., Front. Optoelectron. 15, 23 (2022)):

* **Tiles.** A is cut into tile_rows x tile_cols blocks and every block with a nonzero
  gets its own crossbar: word lines are the block's inputs, bit lines its outputs as
  differential pairs (G+, G-), so an entry a > 0 programs G+ and a < 0 programs G-.
  Cells of zero entries stay at g_min in both halves of the pair and cancel.  The
  digitised partial sums of the tiles in a block row are added digitally.
* **Conductance quantisation.** 2^device_bits levels between g_min and g_max.  An
  integer-valued A (stencils such as the Poisson matrix) maps one unit of A to a whole
  number q = floor((L - 1) / max|a|) of levels, so its entries are programmed exactly;
  any other A maps max|a| to the top level and is rounded to the nearest level.
* **Programming variation.** Every cell of every array gets its own lognormal error
  g -> g exp(sigma z) (``variation`` = sigma, assumed 2 %: write-verify programming).
* **IR drop.** The wires are simulated with memspice's sparse nodal solver
  (:func:`memspice.solver.solve_dc` on a :class:`~memspice.circuits.crossbar.Crossbar`
  with ``r_wire`` per segment): linear 1R cells and wires make the array a linear map,
  so one solve with every word line driven in turn gives its exact transfer matrix
  (effective signed conductance from each input to each output pair).  Arrays with the
  same programmed pattern share that solve; each array's own variation is added to it
  to first order (the IR drop acting on the small variation part, a product of two
  small relative errors, is neglected).
* **DAC, bit slicing, ADC.** Inputs are scaled by max|x| and quantised to
  ``input_bits`` signed bits (sign + magnitude); each magnitude bit is one read with word
  lines at +v_read, -v_read or 0 (1R cells conduct both ways), so the DAC is ternary.
  Each differential bit-line current goes through a signed ADC whose LSB is one product
  step (q levels x v_read) and whose bits follow the rule b_in + b_d + log2(N) of
  :mod:`.adc_rule` (b_in = 1 bit per slice, N = most nonzeros in a row of A) plus a sign
  bit.  Codes are shifted and added digitally.  Analog errors below half an LSB are
  rounded away; larger ones make a wrong code (counted in ``stats``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ...circuits.crossbar import Crossbar
from ...circuits.periphery import adc_quantize
from ...solver import solve_dc
from .adc_rule import adc_bits_rule


@dataclass(frozen=True)
class ArrayConfig:
    """Non-idealities and periphery of the simulated arrays (all defaults assumed; reasons given).

    Attributes
    ----------
    tile_rows, tile_cols : int
        Outputs (differential bit-line pairs) and inputs (word lines) per array; 72 x 72 (assumed) =
        one grid line of the 72 x 72 Poisson problem, so each array (72 word lines x 144 bit lines)
        holds one tridiagonal or identity block.
    device_bits : int
        Conductance levels 2^device_bits; 4 (assumed; Bao et al. 2022 quote <= 6-bit typical precision).
    g_min, g_max : float
        Lowest and highest programmable conductance (S); 1 uS and 100 uS (assumed, HfO2 RRAM range).
    variation : float
        Lognormal sigma of programmed conductances; 0.02 (assumed, write-verify programming).
    input_bits : int
        Signed input precision (sign + input_bits - 1 magnitude slices); 8 (assumed, as 8-bit DACs).
    v_read : float
        Read voltage of one input slice (V); 0.2 V (assumed, below any switching threshold).
    r_wire : float
        Word- and bit-line resistance per cell segment (Ohm); 1 Ohm (assumed, ~100 nm Cu/W lines).
    adc_bits : int or None
        Signed ADC bits; None = the rule (:func:`~.adc_rule.adc_bits_rule`) plus a sign bit.
    """

    tile_rows: int = 72
    tile_cols: int = 72
    device_bits: int = 4
    g_min: float = 1e-6
    g_max: float = 100e-6
    variation: float = 0.02
    input_bits: int = 8
    v_read: float = 0.2
    r_wire: float = 1.0
    adc_bits: int | None = None

    def __post_init__(self):
        for name, lo in (("tile_rows", 1), ("tile_cols", 1), ("device_bits", 1), ("input_bits", 2)):
            v = getattr(self, name)
            if not (isinstance(v, int) and v >= lo):
                raise ValueError(f"ArrayConfig.{name} must be an integer >= {lo}, got {v!r}")
        if not (0 <= self.g_min < self.g_max and math.isfinite(self.g_max)):
            raise ValueError(f"ArrayConfig needs 0 <= g_min < g_max (S), got {self.g_min!r}, {self.g_max!r}")
        for name in ("variation", "r_wire"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v >= 0):
                raise ValueError(f"ArrayConfig.{name} must be >= 0, got {v!r}")
        if not (math.isfinite(self.v_read) and self.v_read > 0):
            raise ValueError(f"ArrayConfig.v_read must be > 0 V, got {self.v_read!r}")
        if self.adc_bits is not None and not (isinstance(self.adc_bits, int) and 2 <= self.adc_bits <= 24):
            raise ValueError(f"ArrayConfig.adc_bits must be None or an integer in 2..24, got {self.adc_bits!r}")


@dataclass
class _Tile:
    rows: slice  # output rows of A
    lo: int  # first input column
    hi: int  # one past the last input column
    transfer: np.ndarray  # (outputs, inputs) effective signed conductance in product steps
    exact: np.ndarray  # (outputs, inputs) integer programmed levels (signed), in product steps


@dataclass
class AnalogArray:
    """``A`` (scipy sparse or dense, n_out x n_in) programmed onto tiled non-ideal crossbars.

    Call :meth:`matvec` for y ~ A x.  ``stats`` counts matrix-vector products, ADC conversions and
    wrong ADC codes (codes that differ from the ideal array's); ``info``
    describes the mapping (arrays, cells, ADC bits, levels per unit, IR-drop size).
    """

    A: np.ndarray | sp.spmatrix | sp.sparray  # a scipy.sparse.csr_matrix after __post_init__
    config: ArrayConfig = field(default_factory=ArrayConfig)
    seed: int = 0

    def __post_init__(self):
        A = sp.csr_matrix(self.A, dtype=float)
        A.eliminate_zeros()
        if A.shape[0] == 0 or A.shape[1] == 0 or A.nnz == 0:
            raise ValueError(f"A must be a non-empty matrix with nonzeros, got shape {A.shape}, nnz {A.nnz}")
        if not np.all(np.isfinite(A.data)):
            raise ValueError("A contains NaN or inf")
        self.A = A
        cfg = self.config
        levels = 2**cfg.device_bits - 1
        amax = float(np.max(np.abs(A.data)))
        integer = np.allclose(A.data, np.round(A.data)) and amax <= levels
        self.levels_per_unit = float(levels // int(round(amax))) if integer else levels / amax
        self.exact_levels = integer
        self.g_step = (cfg.g_max - cfg.g_min) / levels
        nnz_row = int(np.max(np.diff(A.indptr)))
        self.adc_bits = cfg.adc_bits if cfg.adc_bits is not None else adc_bits_rule(1, cfg.device_bits, nnz_row) + 1
        rng = np.random.default_rng(self.seed)
        self.tiles, cache = [], {}
        ir_rel = 0.0
        cells = 0
        unit = self.g_step * self.levels_per_unit if integer else self.g_step  # S per product step
        step_levels = unit / self.g_step
        tr, tc = cfg.tile_rows, cfg.tile_cols
        for r0 in range(0, A.shape[0], tr):
            rows = slice(r0, min(r0 + tr, A.shape[0]))
            band = A[rows]
            for c0 in np.unique(band.indices // tc) * tc:
                lo, hi = int(c0), int(min(c0 + tc, A.shape[1]))
                lev = np.round(band[:, lo:hi].toarray() * self.levels_per_unit).astype(int)  # signed levels
                if not lev.any():
                    continue
                gp = cfg.g_min + np.clip(lev, 0, None).T * self.g_step  # (inputs, outputs) G+
                gn = cfg.g_min + np.clip(-lev, 0, None).T * self.g_step  # G-
                key = (lev.shape, lev.tobytes())
                if key not in cache:
                    cache[key] = self._ir_transfer(gp, gn)
                nominal = cache[key]
                ir_rel = max(ir_rel, float(np.max(np.abs(nominal - (gp - gn).T))) / self.g_step)
                effective = nominal
                if cfg.variation > 0:
                    dp = gp * np.expm1(cfg.variation * rng.standard_normal(gp.shape))
                    dn = gn * np.expm1(cfg.variation * rng.standard_normal(gn.shape))
                    effective = nominal + (dp - dn).T
                self.tiles.append(_Tile(rows, lo, hi, effective / unit, lev / step_levels))
                cells += 2 * lev.size
        self._stack(A.shape)
        self.unit_levels = 1.0 if integer else self.levels_per_unit  # units of A per product step: 1 or 1/levels
        self.stats = {"mvms": 0, "adc_codes": 0, "wrong_codes": 0}
        self.info = {
            "arrays": len(self.tiles),
            "distinct_ir_solves": len(cache),
            "cells": cells,
            "adc_bits": self.adc_bits,
            "levels_per_unit": self.levels_per_unit,
            "exact_levels": bool(integer),
            "max_ir_error_levels": ir_rel,
            "array_shape": (cfg.tile_cols, 2 * cfg.tile_rows),
        }

    def _ir_transfer(self, gp: np.ndarray, gn: np.ndarray) -> np.ndarray:
        """Effective signed conductance (outputs, inputs) (S) of one array, wires included (sparse solver)."""
        cfg = self.config
        m, n = gp.shape
        g = np.empty((m, 2 * n))
        g[:, 0::2], g[:, 1::2] = gp, gn
        if cfg.r_wire == 0:
            return (gp - gn).T
        xbar = Crossbar(g, r_word=cfg.r_wire, r_bit=cfg.r_wire)
        sol = solve_dc(xbar, np.eye(m) * cfg.v_read, method="direct")
        cur = sol.output_currents / cfg.v_read  # (inputs, 2 n)
        return (cur[:, 0::2] - cur[:, 1::2]).T

    def _stack(self, shape):
        """Tiles as zero-padded stacks for one batched product: transfer (k, rows, cols) and gather/scatter indices."""
        tr, tc = self.config.tile_rows, self.config.tile_cols
        k = len(self.tiles)
        self._transfer = np.zeros((k, tr, tc))
        self._exact = np.zeros((k, tr, tc))
        self._gather = np.full((k, tc), shape[1])  # index shape[1] = a zero input row
        self._scatter = np.full((k, tr), shape[0])  # index shape[0] = a discarded output row
        for i, t in enumerate(self.tiles):
            r, c = t.transfer.shape
            self._transfer[i, :r, :c] = t.transfer
            self._exact[i, :r, :c] = t.exact
            self._gather[i, :c] = np.arange(t.lo, t.hi)
            self._scatter[i, :r] = np.arange(t.rows.start, t.rows.stop)

    @property
    def shape(self):
        return self.A.shape

    def matvec(self, x) -> np.ndarray:
        """y ~ A x through DAC slices, the arrays and the ADCs; ``x`` (n_in,) or (n_in, p)."""
        x = np.asarray(x, float)
        vec = x.ndim == 1
        X = x[:, None] if vec else x
        if X.shape[0] != self.A.shape[1] or not np.all(np.isfinite(X)):
            raise ValueError(f"x must be finite with {self.A.shape[1]} rows, got shape {x.shape}")
        top_in = 2 ** (self.config.input_bits - 1) - 1
        scale = np.max(np.abs(X), axis=0)
        scale[scale == 0] = 1.0
        codes = np.round(X / scale * top_in).astype(np.int64)
        mag, sign = np.abs(codes), np.sign(codes)
        nb = self.config.input_bits - 1
        # slices[:, k, j]: input digit (-1, 0, +1) of bit k of vector j
        slices = (((mag[:, None, :] >> np.arange(nb)[None, :, None]) & 1) * sign[:, None, :]).astype(float)
        p = X.shape[1]
        flat = slices.reshape(X.shape[0], nb * p)
        weights = (2.0 ** np.arange(nb))[:, None]
        top_adc = 2 ** (self.adc_bits - 1) - 1
        flat = np.vstack([flat, np.zeros((1, flat.shape[1]))])[self._gather]  # (k, cols, slices*p)
        analog = self._transfer @ flat  # bit-line currents in product steps (k, rows, slices*p)
        q, _ = adc_quantize(analog, self.adc_bits, float(top_adc), signed=True)
        ideal = np.rint(self._exact @ flat).astype(np.int64)
        partial = (q.reshape(q.shape[0], q.shape[1], nb, p) * weights).sum(axis=2)  # shift and add
        Y = np.zeros((self.A.shape[0] + 1, p))
        np.add.at(Y, self._scatter.ravel(), partial.reshape(-1, p))  # add the tiles of a row
        Y = Y[:-1]
        real = self._scatter < self.A.shape[0]
        self.stats["adc_codes"] += int(real.sum()) * nb * p
        self.stats["wrong_codes"] += int(np.count_nonzero((q != ideal)[real]))
        self.stats["mvms"] += p
        Y *= scale / (top_in * self.unit_levels)
        return Y[:, 0] if vec else Y
