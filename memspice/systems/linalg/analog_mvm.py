"""A signed matrix tiled onto simulated non-ideal crossbars that compute y = A x.

Design (after Zidan et al., "A general memristor-based partial differential equation solver",
Nat. Electron. 1, 411 (2018): A tiled into arrays, precision extended by slicing; Song et al.,
"Programming memristor arrays with arbitrarily high precision for analog computing", Science 383,
903 (2024): each further array stores the measured programming error of the ones before; and the
signal chain of Bao et al., Front. Optoelectron. 15, 23 (2022)):

* **Tiles.** A is cut into tile_rows x tile_cols blocks and every block with a nonzero gets its own
  crossbar: word lines are the block's inputs, bit lines its outputs as differential pairs (G+, G-),
  so an entry a > 0 programs G+ and a < 0 programs G- (the review's differential pairs).  Cells of
  zero entries stay at g_min in both halves of the pair.  The digitised partial sums of the tiles of
  a block row are added digitally, each times its tile's own digital scale.
* **Conductance quantisation.** 2^device_bits levels between g_min and g_max.  A block whose entries
  are integers with max|a| <= levels maps one unit to a whole number floor(levels / max|a|) of levels,
  so it is programmed exactly; any other block maps its own max|a| to the top level and rounds.
* **Programming variation.** Every programmed cell gets its own lognormal error g -> g exp(sigma z)
  (``variation`` = sigma, assumed 2 %: write-verify programming).
* **IR drop.** Each programmed array's word and bit lines (``r_wire`` per segment) are solved
  exactly by memspice's transfer-matrix solver (:func:`memspice.solver.transfer.transfer_matrix`):
  linear 1R cells and wires make the array a linear map, so its effective signed conductance from
  every input to every output pair is computed once, with that array's own varied conductances.
* **Error-compensating slices** (``slices`` > 1, Song et al. 2024).  After programming a block, its
  effective matrix is measured (one-hot calibration reads: the transfer above, assumed read exactly);
  the next array of the block is programmed with the remaining error target - measured, mapped to its
  own full conductance range, and its outputs are added with the matching digital scale.  Each slice
  multiplies the representation error (quantisation, variation, IR drop) by about
  variation + 2^-device_bits.
* **DAC, bit slicing, ADC.** Inputs are scaled by max|x| (each vector uses the DAC's full range
  whatever its size: the quantisation error stays relative) and quantised to ``input_bits`` signed bits
  (sign + magnitude); each magnitude bit is one read with word lines at +v_read, -v_read or 0 (1R
  cells conduct both ways).  Each differential bit-line current goes through a signed ADC whose bits
  follow the rule b_in + b_d + log2(N) of :mod:`.adc_rule` (b_in = 1 bit per input slice, N = most
  nonzeros in a row of a block) plus a sign bit, LSB one product step: an ideal array's reads are
  converted without loss.  ``adc_bits`` below the rule widens the LSB to 2^(rule - bits) product steps
  (full range kept, codes rounded).  Codes are shifted and added digitally.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ...circuits.crossbar import Crossbar
from ...circuits.periphery import adc_quantize
from ...solver.transfer import transfer_matrix
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
    slices : int
        Arrays per block at programming, each storing the measured error of the ones before (Song et al.
        2024); 1 (the papers' one array per block).  :meth:`AnalogArray.add_slice` adds more.
    adc_fraction_bits : int
        ADC bits beyond the rule: the LSB is 2^-adc_fraction_bits product steps, so the analog error of an
        array reaches the digital side and the next slice can cancel it (with an LSB of one product step the
        ADC rounds a small error away in one read and keeps it whole in another: measured, a second slice then
        adds error instead of removing it); 3 (assumed).
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
    slices: int = 1
    adc_fraction_bits: int = 3

    def __post_init__(self):
        for name, lo in (("tile_rows", 1), ("tile_cols", 1), ("device_bits", 1), ("input_bits", 2), ("slices", 1)):
            v = getattr(self, name)
            if not (isinstance(v, (int, np.integer)) and v >= lo):
                raise ValueError(f"ArrayConfig.{name} must be an integer >= {lo}, got {v!r}")
        if self.device_bits > 7:
            raise ValueError(f"ArrayConfig.device_bits must be <= 7 (levels stored as int8), got {self.device_bits}")
        if self.input_bits > 24:
            raise ValueError(f"ArrayConfig.input_bits must be <= 24, got {self.input_bits}")
        if not (0 <= self.g_min < self.g_max and math.isfinite(self.g_max)):
            raise ValueError(f"ArrayConfig needs 0 <= g_min < g_max (S), got {self.g_min!r}, {self.g_max!r}")
        for name in ("variation", "r_wire"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"ArrayConfig.{name} must be a finite number >= 0, got {v!r}")
        if not (math.isfinite(self.v_read) and self.v_read > 0):
            raise ValueError(f"ArrayConfig.v_read must be > 0 V, got {self.v_read!r}")
        if self.adc_bits is not None and not (isinstance(self.adc_bits, int) and 2 <= self.adc_bits <= 24):
            raise ValueError(f"ArrayConfig.adc_bits must be None or an integer in 2..24, got {self.adc_bits!r}")

    @property
    def levels(self) -> int:
        """Highest conductance level above g_min (2^device_bits - 1)."""
        return 2**self.device_bits - 1

    @property
    def g_step(self) -> float:
        """Conductance of one level (S)."""
        return (self.g_max - self.g_min) / self.levels


def _levels_per_unit(block: np.ndarray, levels: int) -> float:
    """Levels per unit of A for one block.

    A block whose nonzero entries are integer multiples of its smallest one u, with max|a| / u <= levels
    (a stencil such as tridiag(-1, 2, -1), also after a scaling), maps u to a whole number of levels, so it
    is programmed exactly; any other block maps its max|a| to the top level and is rounded.
    """
    mags = np.abs(block[block != 0])
    if mags.size == 0:
        return 0.0
    amax, unit = float(mags.max()), float(mags.min())
    steps = amax / unit
    if steps <= levels + 1e-9 and np.allclose(block / unit, np.round(block / unit), rtol=0, atol=1e-9):
        return float(levels // int(round(steps))) / unit
    return levels / amax


@dataclass
class AnalogArray:
    """``A`` (scipy sparse or dense, n_out x n_in) programmed onto tiled non-ideal crossbars.

    Call :meth:`matvec` for y ~ A x.  ``stats`` counts matrix-vector products, ADC conversions and
    (with ``count_wrong_codes``, which doubles the cost of a product) wrong ADC codes: codes that differ
    from those of the ideal array holding the same levels;
    ``info`` describes the mapping (arrays, cells, ADC bits, representation error, IR-drop size);
    :meth:`effective_matrix` is what the arrays compute with an infinitely fine DAC and ADC.
    """

    A: np.ndarray | sp.spmatrix | sp.sparray  # a scipy.sparse.csr_matrix after __post_init__
    config: ArrayConfig = field(default_factory=ArrayConfig)
    seed: int = 0
    count_wrong_codes: bool = False

    def __post_init__(self):
        A = sp.csr_matrix(self.A, dtype=float)
        A.eliminate_zeros()
        if A.shape[0] == 0 or A.shape[1] == 0 or A.nnz == 0:
            raise ValueError(f"A must be a non-empty matrix with nonzeros, got shape {A.shape}, nnz {A.nnz}")
        if not np.all(np.isfinite(A.data)):
            raise ValueError("A contains NaN or inf")
        self.A = A
        cfg = self.config
        self._rng = np.random.default_rng(self.seed)
        tr, tc = cfg.tile_rows, cfg.tile_cols
        self._blocks = []  # (r0, c0, target block, remaining error)
        for r0 in range(0, A.shape[0], tr):
            band = A[r0 : r0 + tr]
            for c0 in np.unique(band.indices // tc) * tc:
                block = band[:, int(c0) : int(c0) + tc].toarray()
                if block.any():
                    self._blocks.append((r0, int(c0), block, block.copy()))
        self._entries: list = []  # (r0, c0, transfer in product steps, levels int8, units of A per product step)
        self.input_bits = cfg.input_bits
        self.adc_fraction_bits = cfg.adc_fraction_bits
        self.stats = {"mvms": 0, "adc_codes": 0, "wrong_codes": 0}
        self._ir_rel = self._err_first = 0.0
        self.slices = 0
        for _ in range(cfg.slices):
            self.add_slice()

    def add_slice(self) -> None:
        """Program one more array per block with the block's remaining measured error (Song et al. 2024)."""
        cfg = self.config
        first = self.slices == 0
        for i, (r0, c0, block, remaining) in enumerate(self._blocks):
            lpu = _levels_per_unit(remaining, cfg.levels)
            if lpu == 0:
                continue  # the block is already represented exactly
            lev = np.round(remaining * lpu).astype(np.int8)
            eff, ir = self._program(lev, self._rng)  # effective signed levels (outputs, inputs)
            self._ir_rel = max(self._ir_rel, ir)
            if first:
                self._err_first = max(self._err_first, float(np.max(np.abs(eff - lev))))
            self._blocks[i] = (r0, c0, block, remaining - eff / lpu)
            self._entries.append((r0, c0, eff, lev, 1.0 / lpu))
        self.slices += 1
        # ADC rule with N = most nonzero levels on one bit line of any array (a slice's error pattern may be
        # denser than the matrix): the ADC's range is set for the arrays as programmed
        nnz_row = max((int(np.max(np.count_nonzero(e[3], axis=1))) for e in self._entries), default=1)
        self.rule_bits = adc_bits_rule(1, cfg.device_bits, max(nnz_row, 1)) + 1  # + sign bit
        self._stack(self._entries)

    @property
    def adc_bits(self) -> int:
        """Signed ADC bits: ``config.adc_bits`` if set, else the rule plus ``adc_fraction_bits`` (at most 24)."""
        if self.config.adc_bits is not None:
            return self.config.adc_bits
        return min(24, self.rule_bits + self.adc_fraction_bits)

    @property
    def lsb_steps(self) -> float:
        """ADC LSB in product steps: 2^(rule - bits); the range always spans the rule's largest sum."""
        return 2.0 ** (self.rule_bits - self.adc_bits)

    @property
    def info(self) -> dict:
        """The mapping: arrays, cells, ADC bits, IR-drop and programming errors, representation error."""
        cfg = self.config
        return {
            "arrays": len(self._entries),
            "blocks": len(self._blocks),
            "slices": self.slices,
            "cells": 2 * sum(e[3].size for e in self._entries),
            "input_bits": self.input_bits,
            "adc_bits": self.adc_bits,
            "adc_bits_rule": self.rule_bits,
            "adc_lsb_steps": self.lsb_steps,
            "array_shape": (cfg.tile_cols, 2 * cfg.tile_rows),
            "max_ir_error_levels": self._ir_rel,
            "max_program_error_levels": self._err_first,
            "representation_error": self.representation_error(),
        }

    def representation_error(self) -> float:
        """||A_eff - A||_F / ||A||_F of :meth:`effective_matrix`."""
        return float(spnorm(self.effective_matrix() - self.A) / spnorm(self.A))

    def _program(self, lev: np.ndarray, rng) -> tuple[np.ndarray, float]:
        """Program signed levels ``lev`` (outputs, inputs) on one differential array; effective signed levels
        (outputs, inputs) read through its wires, and the largest IR-drop error (levels)."""
        cfg = self.config
        gp = cfg.g_min + np.clip(lev, 0, None).T * cfg.g_step  # (inputs, outputs) G+
        gn = cfg.g_min + np.clip(-lev, 0, None).T.astype(float) * cfg.g_step
        if cfg.variation > 0:
            gp = gp * np.exp(cfg.variation * rng.standard_normal(gp.shape))
            gn = gn * np.exp(cfg.variation * rng.standard_normal(gn.shape))
        ideal = (gp - gn).T
        if cfg.r_wire == 0:
            return ideal / cfg.g_step, 0.0
        g = np.empty((gp.shape[0], 2 * gp.shape[1]))
        g[:, 0::2], g[:, 1::2] = gp, gn
        t = transfer_matrix(Crossbar(g, r_word=cfg.r_wire, r_bit=cfg.r_wire))  # (inputs, 2 outputs) A/V
        eff = (t[:, 0::2] - t[:, 1::2]).T
        return eff / cfg.g_step, float(np.max(np.abs(eff - ideal))) / cfg.g_step

    def _stack(self, entries):
        """Arrays as zero-padded stacks for one batched product: transfer (k, rows, cols), gather/scatter, scales."""
        tr, tc = self.config.tile_rows, self.config.tile_cols
        k = len(entries)
        self._transfer = np.zeros((k, tr, tc))
        self._levels = np.zeros((k, tr, tc), np.int8)
        self._gather = np.full((k, tc), self.A.shape[1])  # index shape[1] = a zero input row
        self._scatter = np.full((k, tr), self.A.shape[0])  # index shape[0] = a discarded output row
        self._scale = np.empty(k)
        for i, (r0, c0, eff, lev, unit) in enumerate(entries):
            r, c = eff.shape
            self._transfer[i, :r, :c] = eff
            self._levels[i, :r, :c] = lev
            self._gather[i, :c] = np.arange(c0, c0 + c)
            self._scatter[i, :r] = np.arange(r0, r0 + r)
            self._scale[i] = unit

    @property
    def shape(self):
        return self.A.shape

    def effective_matrix(self) -> sp.csr_matrix:
        """The matrix the arrays compute (all slices, variation and IR drop; exact DAC and ADC)."""
        rows, cols, vals = [], [], []
        for r0, c0, block, remaining in self._blocks:
            held = block - remaining
            i, j = np.nonzero(held)
            rows.append(i + r0)
            cols.append(j + c0)
            vals.append(held[i, j])
        if not vals:
            return sp.csr_matrix(self.A.shape)
        return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=self.A.shape)

    def matvec(self, x) -> np.ndarray:
        """y ~ A x through DAC slices, the arrays and the ADCs; ``x`` (n_in,) or (n_in, p)."""
        x = np.asarray(x, float)
        vec = x.ndim == 1
        X = x[:, None] if vec else x
        if X.ndim != 2 or X.shape[0] != self.A.shape[1] or not np.all(np.isfinite(X)):
            raise ValueError(f"x must be finite with {self.A.shape[1]} rows, got shape {x.shape}")
        if not (isinstance(self.input_bits, (int, np.integer)) and 2 <= self.input_bits <= 24):
            raise ValueError(f"input_bits must be an integer in 2..24, got {self.input_bits!r}")
        top_in = 2 ** (self.input_bits - 1) - 1
        scale = np.max(np.abs(X), axis=0)
        scale[scale == 0] = 1.0
        codes = np.round(X / scale * top_in).astype(np.int64)
        mag, sign = np.abs(codes), np.sign(codes)
        nb = self.input_bits - 1
        # slices[:, k, j]: input digit (-1, 0, +1) of bit k of vector j
        slices = (((mag[:, None, :] >> np.arange(nb)[None, :, None]) & 1) * sign[:, None, :]).astype(float)
        p = X.shape[1]
        flat = slices.reshape(X.shape[0], nb * p)
        flat = np.vstack([flat, np.zeros((1, flat.shape[1]))])[self._gather]  # (k, cols, slices*p)
        analog = self._transfer @ flat  # bit-line currents in product steps (k, rows, slices*p)
        top_adc = 2 ** (self.adc_bits - 1) - 1
        lsb = self.lsb_steps
        q, _ = adc_quantize(analog / lsb, self.adc_bits, float(top_adc), signed=True)
        q = q * lsb
        real = self._scatter < self.A.shape[0]
        self.stats["adc_codes"] += int(real.sum()) * nb * p
        if self.count_wrong_codes:
            ideal = lsb * np.rint(self._levels.astype(float) @ flat / lsb)
            self.stats["wrong_codes"] += int(np.count_nonzero((q != ideal)[real]))
        weights = 2.0 ** np.arange(nb)
        partial = np.einsum("krbp,b->krp", q.reshape(q.shape[0], q.shape[1], nb, p), weights)  # shift and add
        partial *= self._scale[:, None, None]  # each array's digital scale (units of A per product step)
        idx = self._scatter.ravel()
        flat_partial = partial.reshape(-1, p)
        Y = np.stack(
            [np.bincount(idx, weights=flat_partial[:, j], minlength=self.A.shape[0] + 1) for j in range(p)], axis=1
        )[:-1]  # add the arrays of a block row
        self.stats["mvms"] += p
        Y *= scale / top_in
        return Y[:, 0] if vec else Y


def spnorm(M) -> float:
    """Frobenius norm of a sparse or dense matrix."""
    return float(spla.norm(M)) if sp.issparse(M) else float(np.linalg.norm(M))
