"""Randomized transients against tight-tolerance references (issue 20): random pulse trains, line capacitance,
every method and tolerance; states stay finite and in the model's range, and the final states agree with a
reference run at a 1000 times tighter tolerance within the documented global bound
(:data:`memspice.accuracy.TRANSIENT_GLOBAL`)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from memspice.accuracy import TRANSIENT_GLOBAL
from memspice.solver import simulate_transient
from memspice.solver.state_kernels import X_CLIP
from memspice.solver.transient import Method

from .strategies import STATE_CELLS, CrossbarSpec, PulseSpec, budget, count, crossbars, observe, pulse_trains

pytestmark = pytest.mark.filterwarnings("ignore::memspice.circuits.cells.DesignWarning")


def _capacitance():
    return st.just(0.0) | st.floats(-15, -12).map(lambda e: float(10**e))


@settings(**budget("transient"))
@given(
    crossbars(cells=STATE_CELLS, max_rows=3, max_cols=3, bias=False),
    pulse_trains(),
    st.sampled_from(list(Method)),
    st.sampled_from([1e-3, 1e-4]),
    _capacitance(),
)
@example(  # issue 20 class: a stiff state started at a corner (the plain trapezoidal rule rang there)
    CrossbarSpec(m=1, n=1, cell="memristor", r_word=0.0, r_bit=0.0),
    PulseSpec(pulses=2, width=1e-3, amplitude=1.0, signed=False),
    Method.TRAP,
    1e-4,
    0.0,
)
def test_transient_agrees_with_a_tight_reference(spec, pulses, method, tol, c_line):
    count("transient")
    xbar = spec.build(c_word=c_line, c_bit=c_line)
    sources = pulses.build(spec.m)
    kw = {"max_step": pulses.t_stop / 50, "progress": False}
    run = simulate_transient(xbar, sources, pulses.t_stop, method=method, tol=tol, **kw)
    assert np.all(np.isfinite(run.states)) and np.all(np.isfinite(run.output_currents))
    assert run.states.min() >= X_CLIP[0] and run.states.max() <= X_CLIP[1]
    assert run.time[-1] == pytest.approx(pulses.t_stop, rel=1e-12)
    ref = simulate_transient(xbar, sources, pulses.t_stop, method=Method.BE, tol=tol / 1000, **kw)
    error = float(np.max(np.abs(run.states[-1] - ref.states[-1])))
    observe(f"transient {Method(method).value}", error / (TRANSIENT_GLOBAL * tol))
    assert error <= TRANSIENT_GLOBAL * tol, f"final-state error {error:.3g} = {error / tol:.3g} tol"
