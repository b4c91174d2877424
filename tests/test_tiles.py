"""Tiled layers on Dask (memspice.solver.tiles): each tile its own array, column blocks summed."""

import numpy as np
import pytest

from memspice.circuits.crossbar import Crossbar
from memspice.solver import solve_dc
from memspice.solver.tiles import Scheduler, read_tiled, tile_grid


def _reference(g, v, tile, **kw):
    """Every tile solved directly, outputs of tiles in one column block added."""
    grid = tile_grid(g.shape, tile)
    out = np.zeros((v.shape[0], g.shape[1]))
    for rs in grid.rows:
        for cs in grid.cols:
            out[:, cs] += solve_dc(Crossbar(g[rs, cs], **kw), v[:, rs], method="direct").output_currents
    return out


def test_grid_covers_layer_with_smaller_edge_tiles():
    grid = tile_grid((10, 7), (4, 3))
    assert grid.shape == (3, 3)
    assert [s.stop - s.start for s in grid.rows] == [4, 4, 2]
    assert [s.stop - s.start for s in grid.cols] == [3, 3, 1]
    with pytest.raises(ValueError, match="tile"):
        tile_grid((4, 4), 0)


@pytest.mark.parametrize("scheduler", [Scheduler.SYNCHRONOUS, Scheduler.THREADS])
def test_tiled_read_equals_per_tile_solves(scheduler):
    rng = np.random.default_rng(0)
    g = rng.uniform(1e-6, 1e-4, (10, 7))
    v = rng.uniform(0, 0.5, (5, 10))
    kw = dict(r_word=1.0, r_bit=2.0, r_sense=0.5)
    got = read_tiled(g, v, tile=(4, 3), scheduler=scheduler, **kw)
    ref = _reference(g, v, (4, 3), **kw)
    assert got.shape == (5, 7)
    assert np.max(np.abs(got - ref)) / np.max(np.abs(ref)) < 1e-10


def test_tiling_changes_ir_drop_physics():
    # one tile == the monolithic array; smaller tiles have shorter lines, hence less IR drop
    rng = np.random.default_rng(1)
    g = rng.uniform(5e-5, 1e-4, (16, 16))
    v = np.full((1, 16), 0.3)
    ideal = v @ g
    whole = read_tiled(g, v, tile=16, scheduler=Scheduler.SYNCHRONOUS, r_word=5.0, r_bit=5.0)
    mono = solve_dc(Crossbar(g, r_word=5.0, r_bit=5.0), v, method="direct").output_currents
    assert np.max(np.abs(whole - mono)) / np.max(np.abs(mono)) < 1e-10
    tiled = read_tiled(g, v, tile=4, scheduler=Scheduler.SYNCHRONOUS, r_word=5.0, r_bit=5.0)
    assert np.max(np.abs(tiled - ideal)) < 0.5 * np.max(np.abs(whole - ideal))


def test_nonlinear_tiles_and_bad_arguments():
    rng = np.random.default_rng(2)
    g = rng.uniform(1e-6, 1e-4, (6, 6))
    v = rng.uniform(0, 1.0, (3, 6))
    got = read_tiled(g, v, tile=3, scheduler=Scheduler.SYNCHRONOUS, r_word=1.0, r_bit=1.0, cell="1S1R")
    ref = np.zeros((3, 6))
    for rs in (slice(0, 3), slice(3, 6)):
        for cs in (slice(0, 3), slice(3, 6)):
            ref[:, cs] += solve_dc(Crossbar(g[rs, cs], r_word=1.0, r_bit=1.0, cell="1S1R"), v[:, rs]).output_currents
    assert np.max(np.abs(got - ref)) / np.max(np.abs(ref)) < 1e-9
    with pytest.raises(ValueError, match="voltages"):
        read_tiled(g, np.ones((2, 5)), tile=3, scheduler=Scheduler.SYNCHRONOUS)
    with pytest.raises(ValueError, match="scheduler"):
        read_tiled(g, v, tile=3, scheduler="threads")


@pytest.mark.slow
def test_local_cluster_runs():
    rng = np.random.default_rng(3)
    g = rng.uniform(1e-6, 1e-4, (8, 8))
    v = rng.uniform(0, 0.5, (4, 8))
    got = read_tiled(g, v, tile=4, n_workers=2, r_word=1.0, r_bit=1.0)
    ref = _reference(g, v, 4, r_word=1.0, r_bit=1.0)
    assert np.max(np.abs(got - ref)) / np.max(np.abs(ref)) < 1e-10
