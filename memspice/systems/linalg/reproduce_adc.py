"""``memspice reproduce adc``: the ADC resolution rule b_ADC = b_in + b_d + log2(N) (Bao et al., Front.
Optoelectron. 15, 23, 2022), on an ideal array (lossless at the rule, lossy one bit below) and measured on
simulated arrays with programming variation and wire resistance, read through memspice's solver
(:func:`.adc_rule.adc_bits_needed`): the bits an ADC needs before the array, not the ADC, limits the result.
"""

from __future__ import annotations

import time

import pandas as pd
from matplotlib.figure import Figure

from ...analysis.reproduction import Reproduction
from .adc_rule import adc_bits_needed, adc_rule_study, rule_tightness

#: the measured grid (assumed: 4-bit inputs and devices as the review's example, variation up to 10 %)
VARIATIONS = (0.0, 0.005, 0.01, 0.02, 0.05, 0.10)
WIRES = (0.0, 1.0, 5.0)
ROWS = (16, 64, 256)
DEFAULT = {"variation": 0.02, "r_wire": 1.0, "n": 64}


def adc(quick: bool = False, seed: int = 0, b_in: int = 4, b_d: int = 4) -> Reproduction:
    """Rule vs measured bits; json: the ideal study's keys (``bits_rule``, ``lossless_at_rule``, ...), ``measured``
    (one entry per variation, wire resistance and N) and ``bits_needed_default`` (2 %, 1 Ohm, N = 64).
    Options: ``b_in``, ``b_d`` (input and device bits)."""
    t0 = time.perf_counter()
    table, summary = adc_rule_study(b_in=b_in, b_d=b_d, vectors=64 if quick else 512, seed=seed)
    tight = rule_tightness()
    vectors = 128 if quick else 512
    variations = (0.0, 0.02, 0.10) if quick else VARIATIONS
    wires = (0.0, 1.0) if quick else WIRES
    rows_n = (16, 64) if quick else ROWS
    measured = []
    for n in rows_n:
        for rw in wires:
            for var in variations:
                r = adc_bits_needed(b_in, b_d, n, var, rw, vectors=vectors, seed=seed)
                measured.append(r)
    flat = pd.DataFrame([{k: v for k, v in m.items() if not k.startswith("curve")} for m in measured])
    default = next(m for m in measured if m["n"] == DEFAULT["n"] and m["r_wire_ohm"] == 1.0 and m["variation"] == 0.02)
    fig = Figure(figsize=(14, 4.3))
    axs = fig.subplots(1, 3)
    ax = axs[0]
    for m in measured:
        if m["n"] == DEFAULT["n"] and (m["r_wire_ohm"] == 0.0 or (m["r_wire_ohm"] == 1.0 and m["variation"] == 0.02)):
            c = pd.DataFrame(m["curve"])
            label = f"variation {m['variation']:.1%}, {m['r_wire_ohm']:g} Ohm"
            style = "s-" if m["r_wire_ohm"] else "o-"
            ax.semilogy(c.bits, c.rms_error_steps.clip(lower=1e-3), style, ms=3, label=label)
    ideal = next(m for m in measured if m["n"] == DEFAULT["n"] and m["r_wire_ohm"] == 0 and m["variation"] == 0)
    c = pd.DataFrame(ideal["curve"])
    ax.semilogy(c.bits, c.rms_error_steps.clip(lower=1e-3), "k--", lw=1, label="ideal array (floor 1e-3 = exact)")
    ax.axvline(default["bits_rule"], color="gray", lw=0.8)
    ax.set_xlabel("ADC bits (full scale = largest possible sum)")
    ax.set_ylabel("RMS error (product steps)")
    ax.set_title(f"N = {DEFAULT['n']}: the error floor is the array's (rule: grey line)", fontsize=9)
    ax.legend(fontsize=6)
    ax = axs[1]
    for rw, marker in zip(wires, "osd"):
        sel = flat[(flat.n == DEFAULT["n"]) & (flat.r_wire_ohm == rw)]
        ax.plot(sel.variation * 100, sel.bits_needed, marker + "-", label=f"{rw:g} Ohm")
        ax.plot(
            sel.variation * 100, sel.bits_needed_calibrated, marker + ":", alpha=0.6, label=f"{rw:g} Ohm, calibrated"
        )
    ax.axhline(default["bits_rule"], color="k", lw=1, label="rule b_in + b_d + log2 N")
    ax.set_xlabel("programming variation (%)")
    ax.set_ylabel("ADC bits needed (<= 10 % above the analog error)")
    ax.set_title(f"N = {DEFAULT['n']}: measured against the rule", fontsize=9)
    ax.legend(fontsize=6)
    ax = axs[2]
    for rw, marker in zip(wires, "osd"):
        sel = flat[(flat.variation == 0.02) & (flat.r_wire_ohm == rw)]
        ax.plot(sel.n, sel.bits_needed, marker + "-", label=f"2 %, {rw:g} Ohm")
    sel = flat[(flat.variation == 0.0) & (flat.r_wire_ohm == 0.0)]
    ax.plot(sel.n, sel.bits_rule, "k-", lw=1, label="rule")
    ax.plot(sel.n, sel.bits_needed, "kx", label="ideal array, measured")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("N (rows accumulated on one bit line)")
    ax.set_ylabel("ADC bits needed")
    ax.set_title("the rule grows with log2 N; IR drop eats the extra bits", fontsize=9)
    ax.legend(fontsize=6)
    fig.tight_layout()
    headline = {
        **summary,
        "rule_is_minimum_on_grid": bool((tight.bits_rule == tight.min_lossless_bits).all()),
        "measured": [{k: v for k, v in m.items() if not k.startswith("curve")} for m in measured],
        "bits_needed_default": {k: v for k, v in default.items() if not k.startswith("curve")},
        "ideal_array_needs_rule": bool(
            all(m["bits_needed"] == m["bits_rule"] for m in measured if m["variation"] == 0 and m["r_wire_ohm"] == 0)
        ),
        "seconds": time.perf_counter() - t0,
    }
    curves = pd.DataFrame(
        [
            {"n": m["n"], "variation": m["variation"], "r_wire_ohm": m["r_wire_ohm"], **c}
            for m in measured
            for c in m["curve"]
        ]
    )
    return Reproduction(fig, headline, table, {"tightness": tight, "measured": flat, "curves": curves})
