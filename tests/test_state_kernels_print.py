"""The generated per-cell kernels equal an independent evaluation of each model's sympy equations.

The kernels (:mod:`memspice.solver.state_kernels`) are printed branch by branch with the parameters'
subexpressions hoisted (:mod:`memspice.solver.kernel_print`); the reference is the model's numpy face
(``sympy.lambdify`` of the plain expressions).  Both evaluate the same tree in floating point, so they
agree to rounding: within 1e-12 of the magnitude of the summed terms (the sum's condition: the
retention, SET and RESET terms of a state equation cancel at its fixed points, where a relative
comparison of the small result would only measure that cancellation).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memspice.circuits.cells import ModelCell
from memspice.models import symbolic
from memspice.models.base import CompactModel
from memspice.models.drift_diffusion import DriftDiffusion, DriftDiffusionParallel
from memspice.models.params import param, validate_fields
from memspice.models.threshold_switch import ThresholdSwitch
from memspice.models.tiox import TiOx
from memspice.solver import kernel_print
from memspice.solver import state_kernels as sk

pytestmark = pytest.mark.skipif(not sk.AVAILABLE, reason="numba not installed")

RTOL = 1e-12


@dataclasses.dataclass(frozen=True)
class BranchyParams:
    """A user model's parameters (SI units; test values)."""

    g0: float = param(1e-5, "S", "conductance scale; test value")
    v_a: float = param(0.7, "V", "first knee; test value")
    v_b: float = param(-0.4, "V", "second knee; test value", check="any")
    k: float = param(3e5, "1/s", "rate; test value")
    window_p: float = param(2.5, "1", "window exponent; test value")
    x0: float = param(0.3, "1", "rest state; test value", check="fraction")
    tau_ret: float = param(1e6, "s", "retention; test value")

    def __post_init__(self):
        validate_fields(self)


class Branchy(CompactModel):
    """A user model with what the generator must handle: nested piecewise laws, piecewise laws of the
    parameters alone, piecewise laws sharing and not sharing conditions, state-free subexpressions inside
    state-dependent terms and non-integer window exponents."""

    name = "test_branchy"
    title = "test model with nested and parameter-only piecewise laws"
    Params = BranchyParams

    @classmethod
    def current_expr(cls):
        s, v, x = cls._sym(), symbolic.V, symbolic.X
        knee = sp.Piecewise((sp.exp(v - s["v_a"]), v < s["v_a"]), (1 + v - s["v_a"], True))
        inner = sp.Piecewise((sp.sinh(v) * x, v > s["v_b"]), (sp.Piecewise((v**3, x > 0.5), (v * x, True)), True))
        sign = sp.Piecewise((1.0, s["v_a"] > 0), (-1.0, True))  # parameters only
        return s["g0"] * (knee * (0.1 + x) + 0.01 * inner * sign + sp.log(1 + v**2) * x**2)

    @classmethod
    def rate_expr(cls):
        s, v, x = cls._sym(), symbolic.V, symbolic.X
        drive = symbolic.softplus((v - s["v_a"]) / 0.05) - symbolic.softplus((s["v_b"] - v) / 0.05)
        window = 1 - (x**2) ** s["window_p"]
        gate = sp.Piecewise((sp.tanh(x * sp.log(1 + v**2)), x > 0.2), (x, True))
        return s["k"] * (drive * window + 0.1 * gate * sp.exp(-(v**2)))


MODELS = {"tiox": TiOx, "dd": DriftDiffusion, "ddp": DriftDiffusionParallel, "ts": ThresholdSwitch, "user": Branchy}
#: window exponents tried where a model has one (whole ones take the multiplication path of _pow)
WINDOWS = (1.0, 2.5, 4.0, 7.0)


def _reference(model_cls):
    """numpy functions of (i, di/dv, di/dx, f, df/dx, df/dv) and of their terms' magnitudes."""
    v, x = symbolic.V, symbolic.X
    i, f = model_cls.current_expr(), model_cls.full_rate_expr()
    exprs = [i, sp.diff(i, v), sp.diff(i, x), f, sp.powsimp(sp.diff(f, x), force=True), sp.diff(f, v)]
    names = [fld.name for fld in dataclasses.fields(model_cls.Params)]
    values = [symbolic.to_numpy(e, names) for e in exprs]
    scales = [symbolic.to_numpy(_magnitude(e), names) for e in exprs]
    return values, scales


def _magnitude(e):
    """An expression bounding the size of the terms rounding acts on: sums of absolute values."""
    if isinstance(e, sp.Add):
        return sp.Add(*[_magnitude(a) for a in e.args])
    if isinstance(e, sp.Mul):
        return sp.Mul(*[_magnitude(a) for a in e.args])
    if isinstance(e, sp.Pow) and e.exp.is_number and e.exp > 0:
        return sp.Pow(_magnitude(e.base), e.exp)
    if isinstance(e, sp.Piecewise):
        return sp.Piecewise(*[(_magnitude(a), c) for a, c in e.args])
    return sp.Abs(e)


_CACHE: dict = {}


def _setup(key):
    if key not in _CACHE:
        model_cls = MODELS[key]
        _CACHE[key] = (model_cls, sk._load_module(model_cls), *_reference(model_cls))
    return _CACHE[key]


def _voltages(model_cls):
    """The model's own voltages (thresholds, knees, smoothing widths) and points just beside them."""
    params = model_cls.Params()
    knees = [float(getattr(params, fld.name)) for fld in dataclasses.fields(params) if fld.metadata.get("unit") == "V"]
    points = [0.0]
    for k in knees:
        for s in (1, -1):
            points += [s * k, s * k * (1 + 1e-9), s * k * (1 - 1e-9), s * k + 1e-3, s * k - 1e-3]
    return points


@st.composite
def cases(draw):
    key = draw(st.sampled_from(sorted(MODELS)))
    model_cls = MODELS[key]
    near = st.sampled_from(_voltages(model_cls))
    wide = st.floats(-5.0, 5.0, allow_nan=False)
    huge = st.floats(-2e3, 2e3, allow_nan=False)  # far beyond any drive: exp overflows in some laws
    v = draw(st.lists(st.one_of(near, wide, huge), min_size=1, max_size=24))
    edges = st.sampled_from([0.0, 1.0, 1e-12, 1 - 1e-12, -1e-12, 1 + 1e-12, 0.5, *sk.X_CLIP])
    x = draw(st.lists(st.one_of(edges, st.floats(-0.3, 1.3)), min_size=len(v), max_size=len(v)))
    names = [fld.name for fld in dataclasses.fields(model_cls.Params)]
    window = draw(st.sampled_from(WINDOWS)) if "window_p" in names else None
    return key, np.array(v), np.array(x), window


def _params(model_cls, window):
    params = model_cls.Params() if window is None else model_cls.Params(window_p=window)
    return np.array([float(getattr(params, n)) for n in model_cls().param_names]), params


def _compare(name, got, want, scale):
    both = np.isfinite(got) & np.isfinite(want)
    # the overflow behaviour is the plain printing's: a value is finite in both or in neither
    np.testing.assert_array_equal(np.isfinite(got), np.isfinite(want), err_msg=f"{name}: finite in one only")
    bound = RTOL * np.maximum(np.abs(want), np.where(np.isfinite(scale), scale, np.inf))
    bad = both & ~(np.abs(got - want) <= bound)
    assert not bad.any(), f"{name}: {got[bad]} vs {want[bad]} (bound {bound[bad]})"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_generated_kernels_equal_the_model_equations(case):
    key, v, x, window = case
    model_cls, module, values, scales = _setup(key)
    p, _ = _params(model_cls, window)
    c = module.constants(p)
    got = np.array([[*module.cell_current(vk, xk, p, c), *module.cell_rate(vk, xk, p, c)] for vk, xk in zip(v, x)]).T
    names = ["i", "di/dv", "di/dx", "f", "df/dx", "df/dv"]
    with np.errstate(all="ignore"):
        for k, name in enumerate(names):
            want = values[k](v, x, *p)
            _compare(f"{key} {name}", got[k], want, scales[k](v, x, *p))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.sampled_from([1e-12, 1e-9, 1e-6]), st.sampled_from([0.5, 1.0]))
def test_implicit_step_equals_the_numpy_step(case, h, theta):
    """The whole per-cell step (state Newton, current, total Jacobian) against numpy; cells that fail
    (no convergence, a value that is not finite) fail in both."""
    key, v, x, window = case
    model_cls, _, _, _ = _setup(key)
    _, params = _params(model_cls, window)
    cell = ModelCell(model_cls(params), key)
    fast, ref = sk.CompiledCells(cell), sk.NumpyCells(cell)
    x = np.clip(x, 0.0, 1.0)
    with np.errstate(all="ignore"):
        f = ref.rate(x, v)
        f = np.where(np.isfinite(f), f, 0.0)
        a = fast.implicit(v, x, f, x, h, theta)
        # cell by cell: the numpy step's convergence test is over all cells at once
        b = [ref.implicit(v[k : k + 1], x[k : k + 1], f[k : k + 1], x[k : k + 1], h, theta) for k in range(v.size)]
    x2 = np.concatenate([r[0] for r in b])
    i2 = np.concatenate([r[1] for r in b])
    failed = np.array([r[4] > 0 for r in b])
    assert (a[4] > 0) == failed.any()
    ok = ~failed
    np.testing.assert_allclose(a[0][ok], x2[ok], rtol=0, atol=1e-11)
    scale = np.max(np.abs(i2[ok]), initial=0.0)
    np.testing.assert_allclose(a[1][ok], i2[ok], rtol=1e-9, atol=1e-12 * scale)


def test_piecewise_branches_compute_only_their_own_work():
    """Temporaries that one branch alone uses are computed inside it; piecewise laws with the same
    conditions share one if-statement; the parameters' own subexpressions leave the per-cell code."""
    text = sk.kernel_source(TiOx)
    current = text[text.index("def cell_current") : text.index("def cell_rate_pre")]
    assert current.count("if ") == 1 and "else:" in current
    head = current.partition("if ")[0]
    assert "math.exp" not in head  # exp(v/v_c) only where the exponential branch is taken
    assert "rectification_ratio" not in current and "math.log" not in current  # log(ratio)/v_read: constants()
    pre = text[text.index("def cell_rate_pre") : text.index("def cell_rate_post")]
    # each softplus: one exp and one log in each branch, none before the choice
    for fn in ("math.exp(", "math.log("):
        lines = [line for line in pre.splitlines() if fn in line]
        assert len(lines) == 4 and all(line.startswith(" " * 8) for line in lines)


def test_schedule_falls_back_when_merged_branches_cannot_be_ordered():
    """a and c share their condition but c needs b, which needs a: one statement for a and c cannot be
    ordered, so each gets its own, and the printed code still gives the piecewise values."""
    v = sp.Symbol("v", real=True)
    a = sp.Piecewise((sp.exp(v), v > 0), (v, True))
    b = sp.Piecewise((a * 2, v > 1), (a - 1, True))
    c = sp.Piecewise((b + sp.exp(3 * v), v > 0), (b * 3, True))
    sched = kernel_print.schedule([a + c, b], ["_o0", "_o1"])
    source = "\n".join(line[4:] for line in sched.lines(sk._printer()))
    for value in (-1.3, 0.0, 0.7, 2.0):
        scope = {"v": value, "math": math}
        exec(source, scope)  # noqa: S102 - test-generated code
        want_a = math.exp(value) if value > 0 else value
        want_b = want_a * 2 if value > 1 else want_a - 1
        want_c = want_b + math.exp(3 * value) if value > 0 else want_b * 3
        assert scope["_o0"] == pytest.approx(want_a + want_c, rel=1e-15)
        assert scope["_o1"] == pytest.approx(want_b, rel=1e-15)


def test_shared_conditions_share_one_statement():
    v = sp.Symbol("v", real=True)
    a = sp.Piecewise((sp.exp(v), v > 0), (v, True))
    sched = kernel_print.schedule([a, sp.diff(a, v)], ["_o0", "_o1"])
    source = "\n".join(sched.lines(sk._printer()))
    assert source.count("if ") == 1 and source.count("math.exp") == 1


def test_constants_are_hoisted_from_sums_and_products():
    v, x, p, q = sp.symbols("v x p q", real=True)
    expr = 2 * p * x * v + sp.log(q) / p + sp.exp(v * p * q)
    fixed, (e,) = kernel_print.hoist_constants([expr], {v, x})
    assert not e.free_symbols & {p, q} and len(fixed) == 3  # 2p, log(q)/p, p q
    values = {v: 0.3, x: 0.7, p: 1.5, q: 2.5}
    consts = {s: c.subs(values) for s, c in fixed}
    assert float(e.subs(consts).subs(values)) == pytest.approx(float(expr.subs(values)), rel=1e-14)
