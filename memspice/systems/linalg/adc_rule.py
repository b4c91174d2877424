"""ADC resolution rule for an analog dot product: b_ADC = b_in + b_d + log2(N).

Bao et al., "Toward memristive in-memory computing: principles and applications",
Front. Optoelectron. 15, 23 (2022), doi:10.1007/s12200-022-00025-4: with b_in-bit
inputs, b_d-bit device conductances and N accumulations on one bit line, an ADC
needs b_in + b_d + log2(N) bits to keep the full precision of the dot product.

Why it is exactly sufficient: the bit-line current is an integer multiple of one
product step (one input LSB times one conductance level), between 0 and
M = N (2^b_in - 1)(2^b_d - 1), i.e. M + 1 distinct values.  With the ADC's LSB equal
to that step, b bits recover every value iff 2^b >= M + 1; the rule's 2^b = 2^(b_in + b_d) N
is always enough.  One bit less gives 2^(b_in + b_d) N / 2 codes, fewer than M + 1 as soon
as (2^b_in - 1)(2^b_d - 1) > 2^(b_in + b_d - 1), which holds for b_in, b_d >= 2: then
no b-1-bit ADC can be lossless (pigeonhole), whatever its range or step.  For
1-bit inputs or devices the rule keeps one spare bit.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...circuits.crossbar import Crossbar
from ...circuits.periphery import adc_quantize


def _bits(name, value, lo=1):
    if not (isinstance(value, (int, np.integer)) and value >= lo):
        raise ValueError(f"{name} must be an integer >= {lo}, got {value!r}")
    return int(value)


def adc_bits_rule(b_in: int, b_d: int, n: int) -> int:
    """ADC bits b_in + b_d + ceil(log2 n) for ``b_in``-bit inputs, ``b_d``-bit devices, ``n`` accumulations."""
    b_in, b_d, n = _bits("b_in", b_in), _bits("b_d", b_d), _bits("n", n)
    return b_in + b_d + math.ceil(math.log2(n)) if n > 1 else b_in + b_d


def min_lossless_bits(b_in: int, b_d: int, n: int) -> int:
    """Fewest ADC bits that can tell apart every dot-product value 0 .. N (2^b_in-1)(2^b_d-1)."""
    b_in, b_d, n = _bits("b_in", b_in), _bits("b_d", b_d), _bits("n", n)
    top = n * (2**b_in - 1) * (2**b_d - 1)
    return max(1, math.ceil(math.log2(top + 1)))


def _array_reads(b_in, b_d, n, columns, vectors, rng, g_step, v_step):
    """Integer dot products and the bit-line currents of an ideal array computing them (worst cases included)."""
    levels = rng.integers(0, 2**b_d, (n, columns))
    levels[:, 0] = 2**b_d - 1  # a column of full-scale devices
    codes = rng.integers(0, 2**b_in, (n, vectors))
    codes[:, 0] = 2**b_in - 1  # a full-scale input vector: the largest possible sum
    codes[:, 1] = 0  # and the smallest
    xbar = Crossbar(levels * g_step)  # 1R cells, no wire resistance: currents = G^T v exactly
    currents = xbar.ideal_outputs((codes * v_step).T)  # inputs (vectors, rows) -> (vectors, columns), A
    exact = codes.T @ levels  # integers
    return exact, currents


def adc_rule_study(
    b_in: int = 4,
    b_d: int = 4,
    n: int = 64,
    columns: int = 16,
    vectors: int = 256,
    seed: int = 0,
    g_step: float = 1e-6,
    v_step: float = 10e-3,
    extra_bits=(-3, -2, -1, 0, 1),
):
    """Read an ideal b_d-bit array with b_in-bit inputs through ADCs of rule + k bits.

    Two ways to place a b-bit ADC (:func:`memspice.circuits.periphery.adc_quantize`, unsigned):
    ``step``: LSB = one product step g_step v_step (A), range (2^b - 1) steps (too few bits clip);
    ``range``: full scale = the largest possible current M g_step v_step (too few bits round).
    A read is lossless when the decoded integer equals the exact dot product.

    ``g_step`` (S per level) and ``v_step`` (V per input LSB) are assumed (1 uS, 10 mV); the result does
    not depend on them.  Returns (table, summary): one row per (bits, placement) with the fraction of
    wrong reads and the largest error in product steps; summary has ``bits_rule``, ``lossless_at_rule``,
    ``lossless_one_below``, ``min_lossless_bits``.
    """
    b_in, b_d, n = _bits("b_in", b_in), _bits("b_d", b_d), _bits("n", n)
    columns, vectors = _bits("columns", columns), _bits("vectors", vectors, lo=2)
    rule = adc_bits_rule(b_in, b_d, n)
    rng = np.random.default_rng(seed)
    exact, currents = _array_reads(b_in, b_d, n, columns, vectors, rng, g_step, v_step)
    unit = g_step * v_step
    top = n * (2**b_in - 1) * (2**b_d - 1)
    rows = []
    for k in extra_bits:
        bits = rule + k
        if not 1 <= bits <= 24:
            continue
        for placement in ("step", "range"):
            full_scale = (2**bits - 1) * unit if placement == "step" else top * unit
            _, volts = adc_quantize(currents, bits, full_scale, signed=False)
            decoded = np.round(volts / unit)
            err = np.abs(decoded - exact)
            rows.append(
                {
                    "bits": bits,
                    "bits_minus_rule": k,
                    "placement": placement,
                    "wrong_fraction": float(np.mean(err > 0)),
                    "max_error_steps": float(err.max()),
                }
            )
    table = pd.DataFrame(rows)

    def lossless(bits):
        sel = table[(table.bits == bits) & (table.placement == "step")]
        return bool(len(sel)) and bool(sel.wrong_fraction.iloc[0] == 0)

    def any_lossless(bits):
        return bool((table[table.bits == bits].wrong_fraction == 0).any())

    summary = {
        "b_in": b_in,
        "b_d": b_d,
        "n": n,
        "bits_rule": rule,
        "max_sum_steps": top,
        "min_lossless_bits": min_lossless_bits(b_in, b_d, n),
        "lossless_at_rule": lossless(rule),
        "lossless_one_below": any_lossless(rule - 1),
    }
    return table, summary


def rule_tightness(b_ins=(2, 3, 4, 6, 8), b_ds=(2, 4, 6), ns=(16, 64, 128, 256)) -> pd.DataFrame:
    """Rule against the pigeonhole minimum for a grid of (b_in, b_d, N): equal wherever b_in, b_d >= 2
    and N is a power of two."""
    rows = [
        {
            "b_in": bi,
            "b_d": bd,
            "n": n,
            "bits_rule": adc_bits_rule(bi, bd, n),
            "min_lossless_bits": min_lossless_bits(bi, bd, n),
        }
        for bi in b_ins
        for bd in b_ds
        for n in ns
    ]
    return pd.DataFrame(rows)


def _analog_reads(b_in, b_d, n, columns, vectors, variation, r_wire, rng, g_min, g_step, v_step):
    """Exact integer dot products and the analog reads of a programmed array with variation and wire resistance.

    The array is n word lines x (columns + 1) bit lines: ``columns`` of random b_d-bit levels and one reference
    column of unprogrammed cells (g_min) whose current is subtracted from every output (the offset that the
    g_min of each cell adds).  Every cell is lognormally varied (``variation``); the wires (``r_wire`` per
    segment) are solved exactly by :func:`memspice.solver.transfer.transfer_matrix`.  Inputs are b_in-bit DAC
    amplitudes (one read per vector).  Returns (exact, analog) in product steps, shape (vectors, columns).
    """
    from ...solver.transfer import transfer_matrix

    levels = rng.integers(0, 2**b_d, (n, columns))
    levels[:, 0] = 2**b_d - 1  # a column of full-scale devices
    codes = rng.integers(0, 2**b_in, (vectors, n))
    codes[0] = 2**b_in - 1  # a full-scale input vector: the largest possible sum
    codes[1] = 0
    g = g_min + np.hstack([levels, np.zeros((n, 1))]) * g_step
    if variation > 0:
        g = g * np.exp(variation * rng.standard_normal(g.shape))
    volts = codes * v_step
    if r_wire > 0:
        currents = volts @ transfer_matrix(Crossbar(g, r_word=r_wire, r_bit=r_wire))
    else:
        currents = volts @ g
    analog = (currents[:, :-1] - currents[:, -1:]) / (g_step * v_step)
    return codes @ levels, analog


def adc_bits_needed(
    b_in: int = 4,
    b_d: int = 4,
    n: int = 64,
    variation: float = 0.0,
    r_wire: float = 0.0,
    columns: int = 16,
    vectors: int = 512,
    seed: int = 0,
    g_min: float = 1e-6,
    g_step: float = 1e-6,
    v_step: float = 10e-3,
    tolerance: float = 0.1,
    max_bits: int = 24,
) -> dict:
    """ADC bits a simulated array needs: read through its wires with variation, against the rule.

    Reads (:func:`_analog_reads`) are converted by a b-bit ADC spanning the largest possible sum M = n (2^b_in - 1)
    (2^b_d - 1) product steps (LSB M / (2^b - 1); an ideal array's sum is an integer, so the decoded value is
    rounded to one).  ``bits_needed``: fewest bits whose RMS error against the exact integer dot product is at
    most (1 + ``tolerance``) times that of the finest ADC tried (``max_bits``, decoded the same way: the analog
    read's own error); the array then limits the result, not the ADC (``tolerance`` assumed 10 %).  For an ideal
    array (no variation, no wire resistance) the analog error is zero and this is the fewest lossless bits.
    ``*_calibrated``: the same after a per-column gain and offset fitted on a quarter of the reads (known inputs)
    and scored on the rest.
    ``enob``: the bits the analog read is worth, log2(M / (RMS error sqrt 12)).  Defaults (assumed): 1 uS
    g_min and level step, 10 mV input step, 16 columns, 512 random vectors.
    """
    b_in, b_d, n = _bits("b_in", b_in), _bits("b_d", b_d), _bits("n", n)
    for name, v in (("variation", variation), ("r_wire", r_wire)):
        if not (math.isfinite(v) and v >= 0):
            raise ValueError(f"{name} must be >= 0, got {v!r}")
    rng = np.random.default_rng(seed)
    exact, analog = _analog_reads(b_in, b_d, n, columns, vectors, variation, r_wire, rng, g_min, g_step, v_step)
    top = n * (2**b_in - 1) * (2**b_d - 1)
    # per-column gain and offset fitted on the first quarter of the vectors (a calibration read of known inputs),
    # applied to the rest: removes the systematic part of the IR drop, not the random part of the variation
    cal = max(4, vectors // 4)
    fitted = np.empty_like(analog)
    for j in range(exact.shape[1]):
        gain, offset = np.polyfit(exact[:cal, j], analog[:cal, j], 1)
        fitted[:, j] = (analog[:, j] - offset) / gain
    out: dict = {
        "b_in": b_in,
        "b_d": b_d,
        "n": n,
        "variation": float(variation),
        "r_wire_ohm": float(r_wire),
        "bits_rule": adc_bits_rule(b_in, b_d, n),
    }
    for tag, reads, rows in (("", analog, slice(None)), ("_calibrated", fitted, slice(cal, None))):
        floor = float(np.sqrt(np.mean((reads[rows] - exact[rows]) ** 2)))
        curve: list[dict] = []
        for bits in range(1, max_bits + 1):
            _, volts = adc_quantize(reads[rows], bits, float(top), signed=False)
            decoded = np.round(volts)  # the integer grid of an ideal array
            rms = float(np.sqrt(np.mean((decoded - exact[rows]) ** 2)))
            curve.append(
                {"bits": bits, "rms_error_steps": rms, "wrong_fraction": float(np.mean(decoded != exact[rows]))}
            )
        # the finest ADC's error, decoded the same way (rounded to the integer grid, clipped at full scale): with a
        # sub-step analog error the rounding alone can exceed 1.1 x the raw analog error at every bit count
        finest = curve[-1]["rms_error_steps"]
        needed = next(c["bits"] for c in curve if c["rms_error_steps"] <= (1 + tolerance) * finest + 1e-12)
        out[f"bits_needed{tag}"] = needed
        out[f"analog_rms_error_steps{tag}"] = floor
        out[f"enob{tag}"] = float(math.log2(top / (floor * math.sqrt(12)))) if floor > 0 else math.inf
        out[f"curve{tag}"] = curve
    out["max_abs_error_steps"] = float(np.max(np.abs(analog - exact)))
    return out
