"""Hypothesis strategies for memspice circuits, shared by the property suites (``tests/test_property_*.py``).

Every strategy draws a small, printable *spec* (a frozen dataclass of a few numbers) whose ``build()`` makes
the circuit; per-cell arrays come from a seeded generator.  So hypothesis shrinks sizes, kinds and
magnitudes (a failing 64 x 48 case shrinks towards 1 x 1, seed 0), and the falsifying example it prints is
the spec's constructor call: paste it into a test as an explicit regression example.

Ranges (issue 20): crossbars of 1 x 1 to 64 x 48 (tall and wide), every cell kind (1R, 1S1R, 1T1R, TiOx,
memristor), conductances over 1e-7..1e-2 S, lines 0..100 Ohm (word and bit resistances drawn apart),
source and sense resistances, bit-line biases; inputs zero, tiny, signed, 1..8 vectors; transients with
random pulse trains and line capacitance.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from memspice.circuits.crossbar import Crossbar
from memspice.circuits.sources import PWL

#: every built-in cell kind
CELLS = ("1R", "1S1R", "1T1R", "tiox", "memristor")
#: kinds whose per-cell data is a state in [0, 1] rather than a conductance
STATE_CELLS = ("tiox", "memristor")
#: kinds with a Verilog-A (OSDI) face of their own (1R and 1T1R write the same netlist in both faces)
VERILOG_A_CELLS = ("1S1R", "tiox", "memristor")
G_RANGE = (1e-7, 1e-2)  # S
R_LINE_MAX = 100.0  # Ohm


@dataclass(frozen=True)
class CrossbarSpec:
    """A crossbar drawn by :func:`crossbars`; ``build()`` makes it (arrays from ``seed``)."""

    m: int
    n: int
    cell: str = "1R"
    pattern: str = "loguniform"  # conductances / states: loguniform, binary, constant, open (some 0 S)
    g_lo: float = 1e-5  # S
    g_hi: float = 1e-4  # S
    seed: int = 0
    r_word: float = 1.0  # Ohm
    r_bit: float = 1.0
    r_source: float = 0.0
    r_sense: float = 0.0
    bias: float = 0.0  # V at the bit-line feet (scalar)
    bias_spread: float = 0.0  # V, per-column offsets drawn from seed around ``bias``
    v_gate: float = 1.5  # V, 1T1R gates

    def arrays(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        shape = (self.m, self.n)
        if self.cell in STATE_CELLS:
            if self.pattern == "binary":
                return rng.integers(0, 2, shape).astype(float)
            if self.pattern == "constant":
                return np.full(shape, 0.5)
            return rng.uniform(0.0, 1.0, shape)
        lo, hi = np.log10(self.g_lo), np.log10(self.g_hi)
        if self.pattern == "binary":
            return np.where(rng.integers(0, 2, shape) == 1, self.g_hi, self.g_lo)
        if self.pattern == "constant":
            return np.full(shape, self.g_hi)
        g = 10 ** rng.uniform(lo, hi, shape)
        if self.pattern == "open":
            g[rng.uniform(size=shape) < 0.3] = 0.0
        return g

    def build(self, **extra) -> Crossbar:
        data = self.arrays()
        kw = {"state": data} if self.cell in STATE_CELLS else {"conductances": data}
        bias = self.bias
        if self.bias_spread:
            bias = self.bias + self.bias_spread * np.random.default_rng(self.seed + 1).uniform(-1, 1, self.n)
        return Crossbar(
            cell=self.cell,
            r_word=self.r_word,
            r_bit=self.r_bit,
            r_source=self.r_source,
            r_sense=self.r_sense,
            bit_bias=bias,
            v_gate=self.v_gate,
            **kw,
            **extra,
        )


@dataclass(frozen=True)
class InputSpec:
    """p input vectors for m word lines, drawn by :func:`inputs`; ``build(m)`` makes them (p, m), V."""

    p: int = 1
    kinds: tuple = ("signed",)  # per vector: signed, positive, zero, tiny, constant, sparse
    amplitude: float = 0.5  # V
    seed: int = 0

    def build(self, m: int) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        rows = []
        for k in range(self.p):
            kind = self.kinds[k % len(self.kinds)]
            a = self.amplitude
            if kind == "zero":
                row = np.zeros(m)
            elif kind == "tiny":
                row = 1e-9 * a * rng.uniform(-1, 1, m)
            elif kind == "positive":
                row = a * rng.uniform(0, 1, m)
            elif kind == "constant":
                row = np.full(m, a)
            elif kind == "sparse":  # mostly exact zeros, a few signed values
                row = np.where(rng.uniform(size=m) < 0.2, a * rng.uniform(-1, 1, m), 0.0)
            else:
                row = a * rng.uniform(-1, 1, m)
            rows.append(row)
        return np.array(rows)


def _log_uniform(lo: float, hi: float):
    return st.floats(np.log10(lo), np.log10(hi)).map(lambda e: float(10**e))


def resistances(max_ohm: float = R_LINE_MAX, zero_first: bool = True):
    """A line resistance, Ohm: 0 (ideal) or log-uniform in 1e-3..``max_ohm``."""
    nonzero = _log_uniform(1e-3, max_ohm)
    return st.just(0.0) | nonzero if zero_first else nonzero | st.just(0.0)


def sizes(max_rows: int = 64, max_cols: int = 48):
    """(m, n): mostly small (cheap), sometimes up to ``max_rows`` x ``max_cols``; shrinks towards 1 x 1."""
    small = st.tuples(st.integers(1, min(8, max_rows)), st.integers(1, min(8, max_cols)))
    medium = st.tuples(st.integers(1, min(24, max_rows)), st.integers(1, min(24, max_cols)))
    large = st.tuples(st.integers(1, max_rows), st.integers(1, max_cols))
    return st.one_of(small, small, small, medium, large)


@st.composite
def crossbars(draw, cells=CELLS, max_rows: int = 64, max_cols: int = 48, lines=True, bias=True) -> CrossbarSpec:
    """A :class:`CrossbarSpec` (call ``.build()``): any kind in ``cells``, any shape up to the maxima."""
    m, n = draw(sizes(max_rows, max_cols))
    cell = draw(st.sampled_from(cells))
    pattern = draw(st.sampled_from(("loguniform", "binary", "constant", "open")))
    if cell in STATE_CELLS and pattern == "open":
        pattern = "loguniform"
    e_lo = draw(st.floats(np.log10(G_RANGE[0]), np.log10(G_RANGE[1])))
    e_hi = draw(st.floats(e_lo, np.log10(G_RANGE[1])))
    r_word = draw(resistances()) if lines else 0.0
    r_bit = draw(resistances()) if lines else 0.0
    r_source = draw(resistances(10.0)) if lines else 0.0
    r_sense = draw(resistances(10.0)) if lines else 0.0
    b = draw(st.just(0.0) | st.floats(-0.5, 0.5)) if bias else 0.0
    spread = draw(st.just(0.0) | st.floats(0.0, 0.2)) if bias else 0.0
    v_gate = draw(st.floats(1.2, 3.0)) if cell == "1T1R" else 1.5
    return CrossbarSpec(
        m, n, cell, pattern, float(10**e_lo), float(10**e_hi), draw(st.integers(0, 2**16)),
        r_word, r_bit, r_source, r_sense, b, spread, v_gate,
    )  # fmt: skip


@st.composite
def inputs(draw, max_vectors: int = 8, max_amplitude: float = 1.0) -> InputSpec:
    """An :class:`InputSpec` (call ``.build(m)``): 1..``max_vectors`` vectors of zero/tiny/signed inputs."""
    p = draw(st.integers(1, max_vectors))
    kinds = ("signed", "positive", "zero", "tiny", "constant", "sparse")
    chosen = tuple(draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=p)))
    amplitude = draw(st.floats(0.01, max_amplitude))
    return InputSpec(p, chosen, amplitude, draw(st.integers(0, 2**16)))


@dataclass(frozen=True)
class PulseSpec:
    """Random write pulse trains, one per word line (``build(m)``: m PWL sources) and ``t_stop`` (s)."""

    pulses: int = 2
    width: float = 1e-6  # s, flat top
    amplitude: float = 1.0  # V, largest |pulse|
    signed: bool = True
    seed: int = 0

    @property
    def period(self) -> float:
        return 2.0 * self.width

    @property
    def t_stop(self) -> float:
        return self.pulses * self.period

    def build(self, m: int) -> list:
        rng = np.random.default_rng(self.seed)
        rise = self.width / 20
        sources = []
        for _ in range(m):
            amps = self.amplitude * (rng.uniform(-1, 1, self.pulses) if self.signed else rng.uniform(0, 1, self.pulses))
            times, values = [0.0], [0.0]
            for k, a in enumerate(amps):
                t0 = k * self.period
                times += [t0 + rise, t0 + rise + self.width, t0 + 2 * rise + self.width]
                values += [a, a, 0.0]
            sources.append(PWL(tuple(times), tuple(values)))
        return sources


@st.composite
def pulse_trains(draw, max_pulses: int = 4, widths=(1e-7, 1e-3), max_amplitude: float = 2.0) -> PulseSpec:
    """A :class:`PulseSpec`: 1..``max_pulses`` signed or unipolar pulses of one width per run."""
    pulses = draw(st.integers(1, max_pulses))
    width = draw(_log_uniform(*widths))
    amplitude = draw(st.floats(0.1, max_amplitude))
    return PulseSpec(pulses, width, amplitude, draw(st.booleans()), draw(st.integers(0, 2**16)))


# ---- profiles and budgets -------------------------------------------------------------------------------

#: the property run's profile: "quick" (CI, derandomized: the same cases every run) or "long"
#: (``benchmarks/property_long.py``, random with a recorded seed); set by ``MEMSPICE_PROPERTY_PROFILE``
PROFILE = os.environ.get("MEMSPICE_PROPERTY_PROFILE", "quick")
if PROFILE not in ("quick", "long"):
    raise ValueError(f"MEMSPICE_PROPERTY_PROFILE must be 'quick' or 'long', got {PROFILE!r}")

#: examples per property: (quick, long).  Quick: the CI budget (all properties together well under two
#: minutes on a busy 2-core machine); long: 10,000+ cases in total, about an hour and a half there.
BUDGETS = {
    "sparse_paths": (40, 3400),
    "tiles": (10, 800),
    "ngspice_batch": (12, 2000),
    "ngspice_large": (0, 60),
    "ngspice_faces": (6, 900),
    "netlist_round_trip": (6, 900),
    "transient": (5, 2000),
}

#: cases run per property in this process (each execution of a property's body, shrinking included)
CASES: Counter = Counter()


#: multiplies the long budgets (``MEMSPICE_PROPERTY_SCALE``; e.g. 0.1 for a shorter exploratory run)
SCALE = float(os.environ.get("MEMSPICE_PROPERTY_SCALE", "1"))


def budget(name: str) -> dict:
    """``settings`` keywords for property ``name`` under the active profile (see :data:`BUDGETS`)."""
    quick, long = BUDGETS[name]
    return {"max_examples": max(1, round(long * SCALE) if PROFILE == "long" else quick)}


#: the largest error seen per property, as a multiple of its documented bound (1 = at the bound)
WORST: dict[str, float] = {}


def count(name: str) -> None:
    """Record one case of property ``name`` (see :data:`CASES`)."""
    CASES[name] += 1


def observe(name: str, ratio: float) -> None:
    """Record an error of ``ratio`` times the documented bound for property ``name`` (see :data:`WORST`)."""
    if np.isfinite(ratio):
        WORST[name] = max(WORST.get(name, 0.0), float(ratio))


def register_profiles() -> None:
    """Register and load the hypothesis profile named by :data:`PROFILE` (called by ``tests/conftest.py``)."""
    common = dict(
        deadline=None,  # solver times vary with the machine's load: no per-example deadline
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )
    settings.register_profile("quick", derandomize=True, database=None, **common)
    settings.register_profile("long", database=None, **common)
    settings.load_profile(PROFILE)
