"""Transient error control and run-time faults (issue 20): bad tolerances refused, stiff devices under control
at the default tolerance, runaway step counts refused before the run, Ctrl-C stops cleanly."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from memspice.circuits.cells import memristor
from memspice.circuits.crossbar import Crossbar
from memspice.circuits.sources import pulse_train
from memspice.models import DriftDiffusion
from memspice.solver import simulate_transient
from memspice.solver.transient import Method

ROOT = Path(__file__).resolve().parents[1]


def _tiox(m=2, n=2):
    return Crossbar(state=np.full((m, n), 0.5), cell="tiox", r_word=1.0, r_bit=1.0)


@pytest.mark.parametrize("tol", [float("nan"), float("inf"), 0.0, -1e-4, 0.5, "abc", None])
def test_bad_tolerances_are_refused(tol):
    src = [pulse_train([1.0], 1e-6, 3e-6)] * 2
    with pytest.raises(ValueError, match="tol must be"):
        simulate_transient(_tiox(), src, 3e-6, tol=tol)


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"max_step": float("nan")}, "max_step must be a positive finite time"),
        ({"max_step": -1.0}, "max_step must be a positive"),
        ({"min_step": 0.0}, "min_step must be a positive"),
        ({"min_step": 1e-6, "max_step": 1e-8}, "min_step .* must not exceed max_step"),
        ({"method": "rk4"}, "rk4"),
    ],
)
def test_bad_step_settings_are_refused(kw, message):
    src = [pulse_train([1.0], 1e-6, 3e-6)] * 2
    with pytest.raises(ValueError, match=message):
        simulate_transient(_tiox(), src, 3e-6, **kw)


def _stiff():
    """Drift-diffusion mobility x 1e9, 4 x 4, three 1 V / 1 ms pulses (issue 20's stiff device)."""
    model = DriftDiffusion(mobility=3.2e-14 * 1e9)
    xbar = Crossbar(state=np.full((4, 4), 0.1), cell=memristor(model), r_word=1.0, r_bit=1.0)
    return xbar, [pulse_train([1.0] * 3, width=1e-3, period=2e-3)] * 4, 6e-3


@pytest.mark.parametrize("method", list(Method))
def test_stiff_device_is_under_error_control_at_the_default_tolerance(method):
    """The plain trapezoidal rule overshot to 1.125; the converged solution never exceeds 1.108 (trap and
    TR-BDF2 at tol 1e-6).  Above 1: the model's smooth direction switch (1 mV) lets x pass the window while
    the input crosses 0 V, which a 1e9 mobility makes fast (see memspice.solver.transient)."""
    xbar, src, t_stop = _stiff()
    run = simulate_transient(xbar, src, t_stop, method=method)
    assert run.states.max() <= 1.11
    assert run.states.min() >= 0.1 - 1e-9
    assert np.all(np.abs(run.states[-1] - 1.0) < 0.11)  # SET, within the model's excursion above 1


def test_a_state_newton_that_does_not_converge_fails_the_step_not_the_result(monkeypatch):
    """A per-cell Newton that ran out of iterations returned its last iterate as the state (issue 20)."""
    from memspice.solver import state_kernels

    monkeypatch.setattr(state_kernels, "STATE_ITERS", 1)  # nothing converges in one damped iteration
    xbar = Crossbar(state=np.full((2, 2), 0.5), cell="tiox", r_word=1.0, r_bit=1.0)
    src = [pulse_train([2.5], 1e-7, 3e-7)] * 2
    for compiled in (False, True):
        with pytest.raises(Exception, match="did not converge|step size fell"):
            simulate_transient(xbar, src, 3e-7, compiled=compiled, min_step=1e-12)


def test_runaway_step_counts_are_refused_before_the_run_with_the_estimate():
    src = [pulse_train([1.0], 1e-6, 3e-6)] * 2
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=r"at least 1e\+15 time steps .* above max_steps"):
        simulate_transient(_tiox(), src, 1.0, max_step=1e-15)
    assert time.perf_counter() - t0 < 5  # refused up front, not after running
    with pytest.raises(ValueError, match="max_steps"):
        simulate_transient(_tiox(), src, 3e-6, max_step=1e-9, max_steps=100)
    run = simulate_transient(_tiox(), src, 3e-6, max_step=1e-7, max_steps=100)  # 30 steps: fine
    assert run.time[-1] == pytest.approx(3e-6)


CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from memspice.circuits.crossbar import Crossbar
    from memspice.circuits.sources import pulse_train
    from memspice.solver import TransientInterrupted, simulate_transient

    def started(t, t_stop, seen=[]):
        if not seen:
            seen.append(t)
            print("started", flush=True)

    xbar = Crossbar(state=np.full((4, 4), 0.5), cell="tiox", r_word=1.0, r_bit=1.0)
    src = [pulse_train([2.0, -2.0] * 50, 1e-7, 3e-7)] * 4
    try:
        simulate_transient(xbar, src, 3e-5, max_step=1e-11, progress=started)  # ~3 million steps
    except TransientInterrupted as exc:
        print("interrupted", exc.partial.time.size, exc.partial.time[-1], flush=True)
        sys.exit(130)
    print("finished", flush=True)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_stops_a_long_transient_cleanly_with_the_partial_run(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path
    )
    try:
        assert proc.stdout.readline().strip() == "started"
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-2000:]
    words = out.split()
    assert words[0] == "interrupted" and int(words[1]) > 1 and 0 < float(words[2]) < 3e-5
    assert "Traceback" not in err
