"""Issue 13, structured crossbar solver: two-level (line sweep + coarse) CG, float32 factors, memory."""

import numpy as np
import pytest

from memspice.circuits.crossbar import Crossbar
from memspice.solver import structured

pytestmark = pytest.mark.skipif(not structured.AVAILABLE, reason="numba not installed: no structured path")

if structured.AVAILABLE:
    from memspice.solver import coarse


def dense(system, shape):
    """The nodal matrix (2 m n square, word-line nodes first) from the matrix-free product."""
    m, n = shape
    N = m * n
    A = np.empty((2 * N, 2 * N))
    for k in range(2 * N):
        e = np.zeros(2 * N)
        e[k] = 1.0
        yw, yb = system.apply(e[:N].reshape(m, n), e[N:].reshape(m, n))
        A[:, k] = np.concatenate([yw.ravel(), yb.ravel()])
    return A


def array(shape, g_scale=1.0, r=1.0, seed=0, r_source=0.0, r_sense=0.0):
    rng = np.random.default_rng(seed)
    g = rng.uniform(1e-6, 1e-4, shape) * g_scale
    return Crossbar(g, r_word=r, r_bit=r, r_source=r_source, r_sense=r_sense), rng.uniform(0.0, 0.5, shape[0])


@pytest.mark.parametrize("shape, h", [((13, 9), 4), ((7, 30), 3), ((40, 33), 5)])
def test_coarse_operator_is_the_galerkin_product_of_both_fields(shape, h):
    """The factored coarse operator is P^T A P for P = diag(Pi, Pi) (a word- and a bit-line field), cells and
    shifts included, and follows the cells when they change."""
    xbar, _ = array(shape, r_source=0.5, r_sense=2.0)
    shift = np.random.default_rng(1).uniform(0.0, 1e-3, shape)
    system = structured.LineSystem(xbar, xbar.conductances)
    grid = coarse.CoarseGrid(shape, h, system.gw, system.gb, system.g_first, system.g_last)
    Pi = np.kron(
        coarse._interp_matrix(grid.ic, grid.wi, grid.mc).toarray(),
        coarse._interp_matrix(grid.jc, grid.wj, grid.nc).toarray(),
    )
    P = np.block([[Pi, np.zeros_like(Pi)], [np.zeros_like(Pi), Pi]])
    K = grid.mc * grid.nc
    interleaved = np.ravel(np.column_stack([np.arange(K), K + np.arange(K)]))  # node by node, fields inside
    for cells, s in [(xbar.conductances, None), (xbar.conductances[::-1] * 7.0, shift)]:
        system.set_cells(cells, shift_w=s, shift_b=None if s is None else 2 * s)
        A = dense(system, shape)
        cs = grid.space(cells, s, None if s is None else 2 * s, chunks=2)
        L = np.zeros((2 * K, 2 * K))
        for k in range(cs.factor.shape[0]):
            idx = np.arange(2 * K - k)
            L[idx + k, idx] = cs.factor[k, : len(idx)]
        ref = (P.T @ A @ P)[np.ix_(interleaved, interleaved)]
        np.testing.assert_allclose(L @ L.T, ref, rtol=1e-10, atol=1e-12 * np.abs(ref).max())
        # the coarse solve inverts it
        d = np.random.default_rng(2).standard_normal((2, grid.mc + 1, grid.nc + 1))
        c = cs.solve(d)
        got = ref @ np.ravel(np.moveaxis(c[:, : grid.mc, : grid.nc], 0, -1))
        np.testing.assert_allclose(got, np.ravel(np.moveaxis(d[:, : grid.mc, : grid.nc], 0, -1)), rtol=1e-9, atol=1e-9)


def test_interpolation_is_exact_at_coarse_nodes_and_linear_between():
    idx, w, k = coarse.interpolation(10, 4)  # coarse nodes 0, 4, 8, 9
    assert k == 4
    pos = np.array([0, 4, 8, 9])
    np.testing.assert_allclose(w * pos[idx] + (1 - w) * pos[np.minimum(idx + 1, k - 1)], np.arange(10))
    assert coarse.interpolation(1, 4)[2] == 1


@pytest.mark.parametrize("use_coarse", [False, True])
@pytest.mark.parametrize("shifted", [False, True])
def test_solve_matches_a_dense_direct_solve(use_coarse, shifted):
    shape = (17, 23)
    xbar, v = array(shape, g_scale=300.0, r_source=0.3, r_sense=0.7)
    system = structured.LineSystem(xbar, xbar.conductances, coarse=use_coarse)
    shift = np.random.default_rng(2).uniform(0.0, 1e-3, shape) if shifted else None
    system.set_cells(xbar.conductances, shift_w=shift, shift_b=shift)
    assert (system.coarse is not None) == use_coarse
    bw, bb = system.drive(v, np.full(shape[1], 0.01))
    bb += np.random.default_rng(3).uniform(0, 1e-4, shape)  # a general right-hand side (transients)
    ref = np.linalg.solve(dense(system, shape), np.concatenate([bw.ravel(), bb.ravel()]))
    vw, vb, its = system.solve(bw, bb, tol=1e-13, i_tol=1e-12, v_foot=np.full(shape[1], 0.01))
    got = np.concatenate([vw.ravel(), vb.ravel()])
    assert np.max(np.abs(got - ref)) <= 1e-11 * np.max(np.abs(ref))
    # a start at the answer ends at once
    _, _, its0 = system.solve(bw, bb, tol=1e-10, x0=(vw, vb), v_foot=np.full(shape[1], 0.01))
    assert its0 <= 1 < its
    # written into the caller's arrays (whatever they held), the same answer
    out = (np.full(shape, np.nan), np.full(shape, 7.0))
    ow, ob, _ = system.solve(bw, bb, tol=1e-13, i_tol=1e-12, v_foot=np.full(shape[1], 0.01), out=out)
    assert ow is out[0] and ob is out[1]
    np.testing.assert_array_equal(np.concatenate([ow.ravel(), ob.ravel()]), got)


def test_solve_refuses_out_arrays_it_cannot_write_in_place():
    xbar, v = array((6, 5))
    system = structured.LineSystem(xbar, xbar.conductances)
    bw, bb = system.drive(v, np.zeros(5))
    for out in [
        (np.zeros((5, 6)), np.zeros((6, 5))),
        (np.zeros((6, 5), np.float32),) * 2,
        (np.zeros((6, 10))[:, ::2],) * 2,
    ]:
        with pytest.raises(ValueError, match="out must be"):
            system.solve(bw, bb, out=out)


@pytest.mark.parametrize("shape", [(9, 7), (6, 11), (1, 5), (7, 1)])
def test_read_equals_a_solve_of_the_formed_drive(shape):
    """``read`` (the right-hand side kept on the driven edges) gives the same node voltages as ``solve``
    of :meth:`drive`'s m x n arrays; row counts not a multiple of four exercise the factor's remainder."""
    xbar, v = array(shape, g_scale=300.0, r_source=0.3, r_sense=0.7)
    system = structured.LineSystem(xbar, xbar.conductances)
    v_bit = np.linspace(0.0, 0.02, shape[1])
    formed = system.solve(*system.drive(v, v_bit), tol=1e-13, i_tol=1e-12, v_foot=v_bit)
    ref = np.linalg.solve(dense(system, shape), np.concatenate([a.ravel() for a in system.drive(v, v_bit)]))
    edge = system.read(v, v_bit, tol=1e-13, i_tol=1e-12)
    got = np.concatenate([edge[0].ravel(), edge[1].ravel()])
    assert np.max(np.abs(got - ref)) <= 1e-11 * np.max(np.abs(ref))
    np.testing.assert_allclose(got, np.concatenate([formed[0].ravel(), formed[1].ravel()]), rtol=0, atol=1e-13)
    zero = system.read(np.zeros(shape[0]), np.zeros(shape[1]))
    assert zero[2] == 0 and not zero[0].any() and not zero[1].any()


def test_read_and_solve_name_wrong_shapes():
    xbar, v = array((6, 5))
    system = structured.LineSystem(xbar, xbar.conductances)
    with pytest.raises(ValueError, match="v_word needs shape"):
        system.read(v[:5], np.zeros(5))
    with pytest.raises(ValueError, match="v_word needs shape"):
        system.read(v, np.zeros(6))
    with pytest.raises(ValueError, match="bw and bb must have the array's shape"):
        system.solve(np.zeros((6, 1)), np.zeros((1, 5)))


def test_word_line_pivots_match_a_scalar_ldlt_for_every_row():
    """The word-line factor runs four lines at a time plus a remainder: every row against numpy."""
    shape = (7, 6)
    xbar, _ = array(shape, g_scale=50.0, r_source=0.2)
    system = structured.LineSystem(xbar, xbar.conductances)
    shift = np.random.default_rng(4).uniform(0.0, 1e-3, shape)
    for s in (None, shift):
        system.set_cells(xbar.conductances, shift_w=s, shift_b=s)
        for i in range(shape[0]):
            d = xbar.conductances[i] + system.basew + (0.0 if s is None else s[i])
            inv = np.empty(shape[1])
            for j in range(shape[1]):
                inv[j] = 1.0 / (d[j] - (system.gw**2 * inv[j - 1] if j else 0.0))
            np.testing.assert_allclose(system.invw[i], inv.astype(np.float32), rtol=1e-6)


def test_line_sweep_preconditioner_is_symmetric_positive_definite_with_float32_pivots():
    shape = (6, 7)
    xbar, _ = array(shape, g_scale=1e3)
    system = structured.LineSystem(xbar, xbar.conductances, coarse=False)
    assert system.invw.dtype == np.float32 and system.invb.dtype == np.float32
    m, n = shape
    N = m * n
    M = np.empty((2 * N, 2 * N))
    D = np.zeros((1, 2, 2, 2))
    for k in range(2 * N):
        r = np.zeros(2 * N)
        r[k] = 1.0
        rw, rb = r[:N].reshape(m, n).copy(), r[N:].reshape(m, n).copy()
        # z in float64 here, to see the operator's own symmetry (the solver stores z in float32: the sweep's
        # output is rounded to 6e-8 relative, as the directions p are)
        zw, zb = np.zeros((m, n)), np.zeros((m, n))
        p = np.zeros((m, n), np.float32)
        x = np.zeros((m, n))
        structured._sweep1(
            0.0, system.G, system.gb, system.basew, system.baseb, system.sw, system.sb, False, p, p, zw, x, x.copy(),
            rw, rb, system.invw, system.gw, D, False, False, 1,
        )  # fmt: skip
        structured._sweep2(system.invb, system.gb, rb, system.G, zw, zb, 1)
        ic, jc = np.zeros(m, np.int64), np.zeros(n, np.int64)
        structured._sweep3(
            system.invw,
            system.gw,
            rw,
            system.G,
            zb,
            zw,
            ic,
            np.ones(m),
            coarse.segment_starts(jc, 1),
            np.ones(n),
            D,
            False,
            1,
        )
        M[:, k] = np.concatenate([zw.ravel(), zb.ravel()])
    assert np.max(np.abs(M - M.T)) <= 1e-12 * np.max(np.abs(M))
    assert np.linalg.eigvalsh((M + M.T) / 2).min() > 0


def test_coarse_correction_keeps_iterations_flat_as_the_array_grows():
    """Cells scaled x64 put a 128-256 array where a 1024-2048 one is (leak length l ~ 12 segments):
    the line sweep alone needs more iterations the larger the array; with the coarse space it does not."""
    its = {}
    for n in (128, 256):
        xbar, v = array((n, n), g_scale=64.0)
        for use in (False, True):
            system = structured.LineSystem(xbar, xbar.conductances, coarse=use)
            its[n, use] = system.solve(*system.drive(v, np.zeros(n)), i_tol=1e-10)[2]
    assert its[256, False] >= its[128, False] + 4
    assert its[256, True] <= its[128, True] + 1
    assert its[256, True] <= 0.6 * its[256, False]


def test_default_uses_the_coarse_space_only_where_slow_modes_exist():
    big, _ = array((600, 600))  # leak length l ~ 100 segments: 6 l, spacing l / 2
    assert 35 <= structured.LineSystem(big, big.conductances).coarse.h <= 65
    small, _ = array((150, 150))  # 1.5 l: few slow modes
    assert structured.LineSystem(small, small.conductances).coarse is None
    dense_cells, _ = array((200, 200), g_scale=1e4)  # l ~ 1: the line sweep alone suffices
    assert structured.LineSystem(dense_cells, dense_cells.conductances).coarse is None
    tall, _ = array((2048, 16))  # long lines in one direction are enough
    assert structured.LineSystem(tall, tall.conductances).coarse is not None


def test_stored_state_is_under_ten_bytes_per_cell():
    """Besides the caller's conductances: two float32 pivot arrays (the diagonals are not stored)."""
    xbar, _ = array((64, 80))
    system = structured.LineSystem(xbar, xbar.conductances)
    stored = sum(a.nbytes for a in vars(system).values() if isinstance(a, np.ndarray) and a is not system.G)
    assert stored <= 10 * 64 * 80


def test_coarse_grids_are_shared_per_geometry_and_the_cache_is_bounded():
    xbar, _ = array((40, 40), g_scale=1e-2)
    one, two = (structured.LineSystem(xbar, xbar.conductances, coarse=True) for _ in range(2))
    assert one.coarse.grid is two.coarse.grid  # a new crossbar of the same geometry builds no new grid
    assert one.coarse is not two.coarse  # (the cells enter each system's own operator)
    for k in range(coarse.CACHE_SIZE + 3):
        coarse.cached_grid((40, 40), 3 + k, 1.0, 1.0, 1.0, 1.0)
    assert len(coarse._CACHE) == coarse.CACHE_SIZE
