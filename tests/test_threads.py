"""Solver thread count: set, read back, refused when out of range, taken from MEMSPICE_THREADS."""

import os
import subprocess
import sys

import numpy as np
import pytest

from memspice.circuits.crossbar import Crossbar
from memspice.solver import get_threads, set_threads, solve_dc
from memspice.solver.threads import max_threads


def test_set_threads_round_trip_and_same_answer():
    before = get_threads()
    xbar = Crossbar(np.random.default_rng(0).uniform(1e-6, 1e-4, (64, 64)), r_word=1.0, r_bit=1.0)
    try:
        assert set_threads(1) == 1 and get_threads() == 1
        one = solve_dc(xbar, np.ones(64)).output_currents
        assert set_threads(None) == max_threads() == get_threads()
        many = solve_dc(xbar, np.ones(64)).output_currents
    finally:
        set_threads(before)
    np.testing.assert_allclose(one, many, rtol=1e-10)


@pytest.mark.parametrize("bad", [0, -1, 10**6, 1.5, "2", True])
def test_bad_thread_counts_are_named(bad):
    with pytest.raises(ValueError, match="threads"):
        set_threads(bad)


def _python(code, env):
    """Run ``code`` in a fresh interpreter with environment ``env``."""
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)


def test_environment_variable_sets_the_count():
    code = "import memspice.solver.structured; from memspice.solver import get_threads; print(get_threads())"
    env = {**os.environ, "MEMSPICE_THREADS": "1"}
    out = _python(code, env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"
    bad = _python(code, {**env, "MEMSPICE_THREADS": "many"})
    assert bad.returncode != 0 and "MEMSPICE_THREADS" in bad.stderr


def test_idle_threads_sleep_unless_the_user_chose_a_wait_policy():
    code = "import os, memspice.solver; print(os.environ.get('OMP_WAIT_POLICY'))"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = _python(code, env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "PASSIVE"
    assert _python(code, {**env, "OMP_WAIT_POLICY": "ACTIVE"}).stdout.strip() == "ACTIVE"


def test_using_threads_sets_the_count_for_a_block_and_restores_it():
    from memspice.solver.threads import using_threads

    before = get_threads()
    with using_threads(1) as count:
        assert count == get_threads() == 1
    assert get_threads() == before
    with using_threads(None) as count:
        assert count == before
    with pytest.raises(ValueError, match="threads"), using_threads(0):
        pass
    assert get_threads() == before


def test_tile_tasks_run_on_one_solver_thread_and_give_the_same_currents():
    from memspice.solver.tiles import read_tile

    g = np.random.default_rng(0).uniform(1e-6, 1e-4, (16, 12))
    v = np.random.default_rng(1).uniform(0, 0.3, (3, 16))
    before = get_threads()
    one = read_tile(g, v, {"r_word": 1.0, "r_bit": 1.0}, threads=1)
    assert get_threads() == before
    np.testing.assert_allclose(one, read_tile(g, v, {"r_word": 1.0, "r_bit": 1.0}), rtol=1e-12)


def test_small_arrays_run_on_one_thread_large_ones_on_the_set_count():
    from memspice.solver.threads import SERIAL_BELOW, threads_for

    assert threads_for(32 * 32) == 1 and threads_for(SERIAL_BELOW - 1) == 1
    assert threads_for(SERIAL_BELOW) is None and threads_for(1024 * 1024) is None
