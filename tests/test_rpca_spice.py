"""Circuit-level check of the RPCA array: the learned 32 x 32 TiOx array through the full ngspice netlist.

* the forward read of one frame column (its DAC bit planes) through the ngspice
  crossbar netlist (TiOx behavioural face; Verilog-A face where OSDI is available)
  agrees with memspice's sparse solver within 1e-6 relative;
* one programming step of a row (V/2, a 2 V pulse on the selected columns)
  through an ngspice transient agrees with memspice's sparse transient on the
  resulting states within 1e-4, and with the array model's own update.
"""

import numpy as np
import pytest

from memspice.spice.capabilities import ngspice_info
from memspice.systems.rpca.algorithm import run_online_rpca
from memspice.systems.rpca.array import ArrayConfig, NonIdealities, TiOxArray
from memspice.systems.rpca.video import surveillance_clip

INFO = ngspice_info()
needs_ngspice = pytest.mark.skipif(INFO.executable is None, reason="ngspice not installed (scripts/setup.sh)")


@pytest.fixture(scope="module")
def learned():
    """An array that learned a short clip with every non-ideality on, and that clip."""
    clip = surveillance_clip(16, 32, 32, seed=4)
    array = TiOxArray(1, seed=4)
    run_online_rpca(clip.frames, array)
    assert np.ptp(array.state) > 0.3  # it really learned a scene
    return array, clip


def _planes(column, bits=6, v_read=1.0):
    codes = np.round(np.clip(column, 0, 1) * (2**bits - 1)).astype(int)
    v = ((codes[None, :] >> np.arange(bits - 1, -1, -1)[:, None]) & 1) * v_read  # (planes, rows)
    return v[np.any(v > 0, axis=1)][:2]  # two non-empty planes keep the test short


@needs_ngspice
def test_forward_read_of_learned_array_ngspice_matches_sparse(learned):
    from memspice.simulate import simulate_crossbar

    array, clip = learned
    xbar = array.crossbar(0)
    assert xbar.r_word > 0 and xbar.r_sense > 0
    v = _planes(clip.frames[-1][:, 5])
    sparse = simulate_crossbar(xbar, v, backend="sparse").output_currents
    faces = ["behavioural"] + (["veriloga"] if INFO.osdi else [])
    for face in faces:
        spice = simulate_crossbar(xbar, v, backend="ngspice", face=face).output_currents
        err = np.max(np.abs(spice - sparse)) / np.max(np.abs(spice))
        assert err < 1e-6, (face, err)
    # and the array's own batched line solver is the same network
    from memspice.solver.tiox_lines import solve_lines

    _, i = solve_lines(
        array.law, array.state[0], v, np.zeros((v.shape[0], 32)), xbar.r_word, xbar.r_bit, 0.0, xbar.r_sense
    )
    assert np.max(np.abs(i.sum(axis=-2) - sparse)) / np.max(np.abs(sparse)) < 1e-9


@needs_ngspice
def test_rpca_ngspice_read_check_of_programmed_arrays(learned):
    """The check rpca.json reports (ngspice_vs_line_solver_max_rel_err) on a learned array and a fresh one."""
    from memspice.systems.rpca.reproduce import ngspice_read_check

    array, clip = learned
    pristine = TiOxArray(1, seed=1).state
    err, detail = ngspice_read_check({5: array.state, 0: pristine}, clip.frames, NonIdealities(), column=7)
    assert set(detail) == {0, 5}
    assert err < 1e-6
    # a different state must change the read: the check compares the programmed array, not a constant
    from memspice.simulate import simulate_crossbar

    v = _planes(clip.frames[6][:, 7])
    a = TiOxArray(1, nonideal=NonIdealities())
    a.state = array.state.copy()
    b = TiOxArray(1, nonideal=NonIdealities())
    b.state = pristine.copy()
    ia = simulate_crossbar(a.crossbar(0), v, backend="ngspice").output_currents
    ib = simulate_crossbar(b.crossbar(0), v, backend="ngspice").output_currents
    assert np.max(np.abs(ia - ib)) > 0.05 * np.max(np.abs(ia))


def _programming_step(array, size: int, row: int, steps: int):
    """One V/2 programming pulse on ``row`` of the top-left ``size`` x ``size`` block of the learned array:
    (initial states, sparse-transient states, ngspice-transient states, array-model states, selected columns)."""
    import dataclasses

    from memspice.circuits.sources import PWL
    from memspice.netlists import crossbar_netlist
    from memspice.solver import simulate_transient
    from memspice.spice import run

    cfg = ArrayConfig()
    v_w, width, rise = cfg.v_write, cfg.pulse_width, 2e-9
    selected = np.zeros(size, bool)
    selected[::3] = True
    bias = np.where(selected, 0.0, v_w / 2)
    # states nudged off exactly 0 and 1 (stuck cells): TiOx.rate_dx is NaN there (0 * inf in the windows'
    # derivative), which the sparse transient's per-cell Newton does not guard against (reported)
    state = np.clip(array.state[0, :size, :size], 1e-9, 1 - 1e-9)
    xbar = dataclasses.replace(array.crossbar(0, r_sense=0.0, state=state), bit_bias=bias)
    t1, t2, t3 = 5e-9, 5e-9 + rise, 5e-9 + rise + width
    t_stop = t3 + rise + 5e-9
    sources = [
        PWL((0.0, t1, t2, t3, t3 + rise, t_stop), (v_w / 2, v_w / 2, v_w, v_w, v_w / 2, v_w / 2))
        if i == row
        else PWL((0.0, t_stop), (v_w / 2, v_w / 2))
        for i in range(size)
    ]
    sparse = simulate_transient(xbar, sources, t_stop, tol=1e-6).states[-1]
    text = crossbar_netlist(
        xbar,
        [s.spice() for s in sources],
        transient=True,
        options=".options reltol=1e-6 abstol=1e-15",
        analysis=f".tran {t_stop / steps} {t_stop} 0 {t_stop / steps} uic",
    )
    w = run(text, timeout=900).waveforms
    spice = np.array([[w[f"v(xc{i}_{j}.u)"][-1] + state[i, j] for j in range(size)] for i in range(size)])
    # the array model's own update: DC write voltage with IR drop, then the state equation per cell
    model = TiOxArray(1, shape=(size, size), nonideal=NonIdealities.only("r_wire"), seed=0)
    model.state = state[None].copy()
    n = np.zeros(model.shape, int)
    n[0, row, selected] = 1
    model.program(n)
    return state, sparse, spice, model.state[0], selected


def _check_step(state, sparse, spice, modelled, selected, row):
    moved = sparse - state
    assert np.all(moved[row, selected] > 1e-3)  # the selected cells switch
    others = np.ones(state.shape, bool)
    others[row, selected] = False
    assert np.max(np.abs(moved[others])) < 1e-6  # half-selected cells do not
    assert np.max(np.abs(spice - sparse)) < 1e-4  # ngspice vs memspice sparse transient
    assert np.max(np.abs(modelled - sparse)) < 2e-4  # the RPCA array's update model


@needs_ngspice
def test_programming_step_of_a_row_ngspice_transient_matches_sparse_transient(learned):
    """An 8 x 8 block of the learned array (a full 32 x 32 ngspice transient takes minutes: see the slow test)."""
    array, _ = learned
    state, sparse, spice, modelled, selected = _programming_step(array, 8, 3, 400)
    _check_step(state, sparse, spice, modelled, selected, 3)


@pytest.mark.slow
@needs_ngspice
def test_programming_step_of_a_row_full_array(learned):
    array, _ = learned
    state, sparse, spice, modelled, selected = _programming_step(array, 32, 9, 400)
    _check_step(state, sparse, spice, modelled, selected, 9)
