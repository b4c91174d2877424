"""Transfer matrix and many-vector reads (memspice.solver.transfer) against direct solves."""

import numpy as np
import pytest

from memspice.circuits.crossbar import Crossbar
from memspice.solver import solve_dc
from memspice.solver.transfer import (
    ReadStrategy,
    choose_strategy,
    is_linear,
    read_blocked,
    read_many,
    transfer,
    transfer_matrix,
)

WIRES = [  # r_word, r_bit, r_source, r_sense (Ohm): every elimination branch
    (1.0, 2.0, 0.0, 0.0),
    (1.0, 0.5, 3.0, 2.0),
    (0.0, 1.0, 0.0, 0.0),
    (0.0, 1.0, 5.0, 0.0),
    (1.0, 0.0, 0.0, 0.0),
    (1.0, 0.0, 0.0, 4.0),
    (0.0, 0.0, 2.0, 3.0),
    (0.0, 0.0, 0.0, 0.0),
]


def _rel(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


@pytest.mark.parametrize("shape", [(7, 5), (5, 9), (1, 4), (4, 1)])
@pytest.mark.parametrize("wires", WIRES)
def test_transfer_equals_direct_solve(shape, wires):
    rng = np.random.default_rng(sum(shape) + int(10 * sum(wires)))
    g = rng.uniform(1e-6, 1e-3, shape)
    g[0, 0] = 0.0  # an open cell
    rw, rb, rs, rt = wires
    for bias in (0.0, 0.3, rng.uniform(-0.2, 0.2, shape[1])):
        xbar = Crossbar(g, r_word=rw, r_bit=rb, r_source=rs, r_sense=rt, bit_bias=bias)
        v = rng.uniform(-1, 1, (6, shape[0]))
        ref = solve_dc(xbar, v, method="direct").output_currents
        assert _rel(transfer(xbar)(v), ref) < 1e-10


def test_transfer_matrix_columns_are_unit_responses_and_reciprocal_sweep_agrees():
    rng = np.random.default_rng(3)
    g = rng.uniform(1e-6, 1e-4, (24, 40))  # wide: the sweep runs on the transposed array
    xbar = Crossbar(g, r_word=1.0, r_bit=1.0, r_sense=2.0)
    T = transfer_matrix(xbar)
    assert T.shape == (24, 40)
    ref = solve_dc(xbar, np.eye(24), method="direct").output_currents  # row i: unit input on word line i
    assert _rel(T, ref) < 1e-10
    # the tall array (transposed, reversed) has the transposed, reversed transfer: reciprocity
    tall = Crossbar(np.ascontiguousarray(g[::-1, ::-1].T), r_word=1.0, r_bit=1.0, r_source=2.0)
    assert _rel(transfer_matrix(tall), T[::-1, ::-1].T) < 1e-10


def test_structured_size_matches_structured_solver():
    rng = np.random.default_rng(4)
    xbar = Crossbar(rng.uniform(1e-6, 1e-4, (120, 100)), r_word=1.0, r_bit=1.0)  # structured path in solve_dc
    v = rng.uniform(0, 0.5, (3, 120))
    ref = solve_dc(xbar, v, method="direct").output_currents
    assert _rel(read_many(xbar, v, strategy=ReadStrategy.TRANSFER), ref) < 1e-10


def test_read_many_per_vector_and_transfer_agree():
    rng = np.random.default_rng(5)
    xbar = Crossbar(rng.uniform(1e-6, 1e-4, (16, 12)), r_word=2.0, r_bit=1.0, bit_bias=0.1)
    v = rng.uniform(0, 0.5, (50, 16))
    a = read_many(xbar, v, strategy=ReadStrategy.TRANSFER)
    b = read_many(xbar, v, strategy=ReadStrategy.PER_VECTOR, block=7)
    assert a.shape == b.shape == (50, 12)
    assert _rel(a, b) < 1e-9


def test_nonlinear_cells_use_blocked_solves():
    rng = np.random.default_rng(6)
    xbar = Crossbar(rng.uniform(1e-6, 1e-4, (8, 6)), r_word=1.0, r_bit=1.0, cell="1S1R")
    assert not is_linear(xbar)
    v = rng.uniform(0, 1.0, (9, 8))
    ref = solve_dc(xbar, v).output_currents
    assert _rel(read_many(xbar, v, block=4), ref) < 1e-9
    assert _rel(read_blocked(xbar, v, max_bytes=1), ref) < 1e-9  # one vector per block
    with pytest.raises(ValueError, match="linear"):
        transfer(xbar)
    with pytest.raises(ValueError, match="TRANSFER"):
        read_many(xbar, v, strategy=ReadStrategy.TRANSFER)


def test_bad_arguments_are_named():
    xbar = Crossbar(np.full((3, 3), 1e-5), r_word=1.0, r_bit=1.0)
    with pytest.raises(ValueError, match="voltages"):
        read_many(xbar, np.ones((2, 4)))
    with pytest.raises(ValueError, match="block"):
        read_blocked(xbar, np.ones((2, 3)), block=0)
    with pytest.raises(ValueError, match="strategy"):
        read_many(xbar, np.ones((2, 3)), strategy="transfer")
    with pytest.raises(ValueError, match="blas_threads"):
        transfer(xbar, blas_threads=0)


def test_strategy_prefers_transfer_for_many_vectors_on_small_arrays():
    assert choose_strategy(128, 128, 10_000) is ReadStrategy.TRANSFER
    assert choose_strategy(4096, 4096, 10) is ReadStrategy.PER_VECTOR
