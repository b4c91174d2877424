"""Many input vectors on one crossbar: an exact transfer matrix for linear arrays, blocked solves otherwise.

A crossbar of linear (1R) cells with resistive word and bit lines is a linear
resistive network, so its column output currents are an affine function of
the word-line input voltages:

    I_out (p, n) = V (p, m) @ T (m, n) + c (n,)

where ``T[i, j]`` is the current into sense node ``j`` per volt on driver
``i`` (all other drivers and the sense nodes at 0 V) and ``c`` is the current
the bit-line biases drive alone (zero for ideal TIAs at 0 V).  Once ``T`` is
known, any number of input vectors costs one matrix product.

``T`` is computed exactly (a direct method, no iteration) by block Gaussian
elimination of the nodal equations along the lines:

1. every word line is a tridiagonal chain; eliminating it (one tridiagonal
   solve with n + 1 right-hand sides per row) leaves, for row ``i``, an n x n
   matrix ``K_i = D_i - D_i L_i^-1 D_i`` coupling the row's bit-line nodes
   (``D_i`` the row's cell conductances, ``L_i`` its word-line matrix) and the
   current ``r_i`` a 1 V input on row ``i`` pushes into them;
2. the bit lines couple row ``i`` to rows ``i - 1`` and ``i + 1`` through
   ``g_b = 1 / r_bit`` on each column: a block-tridiagonal system, eliminated
   from the top row down (``S_i = K_i + Q_i - g_b^2 S_{i-1}^-1``) while the
   right-hand sides of all m inputs are carried along;
3. the last row's bit-line voltages for all inputs at once give ``T``.

The cost is ``max(m, n) * min(m, n)^3 + m^2 n^2`` flops (dense BLAS-3, the
sweep runs along the longer side; by reciprocity of resistive networks the
transfer of the transposed array is the transpose), memory a few
``min(m, n)`` x ``max(m, n)`` matrices.  Measured on one thread of a shared
2-core machine: 128 x 128 in 0.3 s, 256 x 256 in 3 s, 512 x 512 in 36 s; 1024 x 1024
(~2e12 flops) costs about as much as 600 iterative single-vector solves, so
:func:`read_many` chooses between the two by an estimate of their cost.

Arrays of nonlinear cells (1S1R, TiOx, 1T1R, ...) have no transfer matrix;
:func:`read_blocked` solves them with :func:`memspice.solver.solve_dc` in
blocks of input vectors, keeping only the output currents, so memory stays
bounded for any number of vectors.

Geometry and sign conventions are those of
:class:`~memspice.circuits.crossbar.Crossbar` (badcrossbar's: drivers on the
left of the word lines, sense nodes at the foot of the bit lines).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve, lapack

from ..circuits.crossbar import require_crossbar

__all__ = [
    "ReadStrategy",
    "Transfer",
    "is_linear",
    "transfer",
    "transfer_matrix",
    "read_many",
    "read_blocked",
    "solve_blocks",
    "choose_strategy",
    "transfer_flops",
]

#: sustained dense BLAS-3 rate of the transfer sweep (flop/s), measured: 512 x 512 (1.4e11 flops) in 36 s on
#: one OpenBLAS thread of a shared 2-core x86 machine (2026); only its ratio to the next constant matters
FLOP_RATE = 4e9
#: time of one iterative single-vector solve per cell (s), measured on the same machine and thread count:
#: memspice's structured CG (two-level, 9 iterations) read 1024 x 1024 in 0.32 s (benchmarks/crossbar_dc.py)
SECONDS_PER_CELL_VECTOR = 3e-7
#: default memory for one block of input vectors in :func:`read_blocked` (bytes); assumed: small enough to
#: leave room for other processes on a laptop, large enough that per-call overhead is negligible
BLOCK_BYTES = 256 * 2**20
#: bytes per cell and input vector that solve_dc keeps for its results (word/bit voltages, device currents)
#: plus work arrays; used when memspice.solver.memory_estimate is unavailable
_BYTES_PER_CELL_VECTOR = 64


class ReadStrategy(enum.Enum):
    """How :func:`read_many` reads a linear array."""

    AUTO = "auto"  #: the cheaper of the two by :func:`choose_strategy`
    TRANSFER = "transfer"  #: exact transfer matrix, then one matrix product
    PER_VECTOR = "per_vector"  #: :func:`memspice.solver.solve_dc` on blocks of vectors


@dataclass(frozen=True)
class Transfer:
    """Affine map from word-line inputs to column output currents of one crossbar.

    ``matrix`` (m, n), A/V: ``matrix[i, j]`` is the current into sense node ``j`` per volt on driver ``i``.
    ``offset`` (n,), A: output currents with every input at 0 V (driven by the bit-line biases alone).
    """

    matrix: np.ndarray
    offset: np.ndarray

    def __call__(self, voltages) -> np.ndarray:
        """Output currents (p, n), A, for inputs ``voltages`` (m,) or (p, m), V (vectors first)."""
        v = np.asarray(voltages, dtype=float)
        m = self.matrix.shape[0]
        if v.ndim == 1:
            v = v[None, :]
        if v.ndim != 2 or v.shape[1] != m:
            raise ValueError(f"voltages must be (m,) or (p, m) = (vectors, word lines) with m = {m}, got {v.shape}")
        return v @ self.matrix + self.offset


def is_linear(xbar) -> bool:
    """True when the crossbar's cells are linear conductances (current = g u): a transfer matrix exists."""
    cell = xbar.cell
    if isinstance(cell, str):
        return cell.upper() == "1R"
    return bool(getattr(cell, "linear", False)) and getattr(xbar, "conductances", None) is not None


def _bias(xbar) -> np.ndarray:
    return np.broadcast_to(np.asarray(xbar.bit_bias, dtype=float), (xbar.n,)).astype(float)


def _word_line(g: np.ndarray, r_word: float, r_source: float):
    """Eliminate one word line with cell conductances ``g`` (n,), S.

    Returns ``(K, r)``: K (n, n), S, the conductance matrix the row's cells and word line present to the
    row's bit-line nodes (bit nodes' voltages -> currents into them, with sign K b drawn out), and r (n,),
    A/V, the currents a 1 V input pushes into the bit-line nodes (bit nodes at 0 V).
    """
    n = g.size
    if r_word > 0:
        gw, g_first = 1.0 / r_word, 1.0 / (r_source + r_word)
        d = g + 2.0 * gw
        d[0] += g_first - gw
        d[-1] -= gw
        if n == 1:  # one cell: the source resistance and the first segment in series
            return (g - g * g / d)[:, None], g * g_first / d
        e = np.full(n - 1, -gw)
        df, ef, info = lapack.dpttrf(d, e)
        if info != 0:  # pragma: no cover - SPD by construction (g_first > 0)
            raise np.linalg.LinAlgError(f"word-line matrix not positive definite (LAPACK info {info})")
        rhs = np.zeros((n, n + 1))
        rhs[np.arange(n), np.arange(n)] = g
        rhs[0, n] = g_first
        x, info = lapack.dpttrs(df, ef, rhs)
        if info != 0:  # pragma: no cover
            raise np.linalg.LinAlgError(f"word-line solve failed (LAPACK info {info})")
        K = -g[:, None] * x[:, :n]
        K[np.arange(n), np.arange(n)] += g
        return K, g * x[:, n]
    if r_source > 0:  # the whole word line is one node behind the source resistance
        g_src = 1.0 / r_source
        total = g_src + g.sum()
        return np.diag(g) - np.outer(g, g) / total, g * (g_src / total)
    return np.diag(g), g.copy()  # word line held at the input voltage


def _sweep(G: np.ndarray, r_word: float, r_bit: float, r_source: float, r_sense: float, v_foot: np.ndarray):
    """Transfer matrix (m, n) and bias offset (n,) by eliminating word lines, then bit lines top-down."""
    m, n = G.shape
    if r_bit == 0 and r_sense == 0:  # bit lines held at their foot voltages: outputs are the cell currents
        T = np.empty((m, n))
        K_sum = np.zeros((n, n))
        for i in range(m):
            K, r = _word_line(G[i], r_word, r_source)
            T[i] = r
            K_sum += K
        return T, -(K_sum @ v_foot)
    if r_bit == 0:  # each bit line is one node behind the sense resistance
        g_s = 1.0 / r_sense
        K_all = np.zeros((n, n))
        Rm = np.empty((n, m + 1))
        for i in range(m):
            K, Rm[:, i] = _word_line(G[i], r_word, r_source)
            K_all += K
        # the bias column solves for (foot voltage - v_foot) directly: S (B - v_foot) = -K_all v_foot
        Rm[:, m] = -(K_all @ v_foot)
        S0 = K_all + g_s * np.eye(n)
        B = cho_solve(cho_factor(S0, lower=False, check_finite=False), Rm, check_finite=False)
        return g_s * B[:, :m].T, g_s * B[:, m]
    gb, g_last = 1.0 / r_bit, 1.0 / (r_bit + r_sense)
    R = np.zeros((n, m + 1))  # right-hand sides of all m inputs, then the bias column
    eye = np.eye(n)
    # Row i's Schur complement is S_i = D_i + (link below) I, with D_i = K_i + gb S_{i-1}^-1 D_{i-1}: the same as
    # K_i + (links) I - gb^2 S_{i-1}^-1, but without subtracting two numbers of size gb = 1/r_bit to get one of
    # the cells' size (with r_bit = 1 mOhm and 1e-4 S cells that cancellation cost 7 digits)
    S: np.ndarray | None = None
    D = np.zeros((n, n))
    for i in range(m):
        K, R[:, i] = _word_line(G[i], r_word, r_source)
        if S is not None:  # eliminate row i - 1
            c, info = lapack.dpotrf(S, lower=0, overwrite_a=1)
            if info != 0:
                raise np.linalg.LinAlgError(
                    f"bit-line Schur complement not positive definite at row {i} (LAPACK info {info})"
                )
            inv, info = lapack.dpotri(c, lower=0, overwrite_c=1)
            if info != 0:  # pragma: no cover
                raise np.linalg.LinAlgError(f"inverse failed at row {i} (LAPACK info {info})")
            inv = np.triu(inv)
            inv += np.triu(inv, 1).T
            R[:, :i] = gb * (inv @ R[:, :i])
            X = gb * (inv @ D)
            K += 0.5 * (X + X.T)  # symmetric in exact arithmetic (S and D commute)
        D = K
        S = D + (gb if i < m - 1 else g_last) * eye
    R[:, m] = -(D @ v_foot)  # the bias column solves for (foot voltage - v_foot): S (B - v_foot) = -D v_foot
    assert S is not None  # m >= 1
    B = cho_solve(cho_factor(S, lower=False, overwrite_a=True, check_finite=False), R, check_finite=False)
    return g_last * B[:, :m].T, g_last * B[:, m]


def transfer_flops(m: int, n: int) -> float:
    """Floating-point operations of the exact transfer sweep for an m x n array (estimate)."""
    big, small = max(m, n), min(m, n)
    return float(big) * small**3 + float(m) ** 2 * n**2


def transfer(xbar, blas_threads: int | None = 1) -> Transfer:
    """Exact affine input-to-output map of a crossbar of linear cells (see the module docstring).

    Parameters
    ----------
    xbar : Crossbar
        Cells must be linear (``"1R"``); word/bit-line, source and sense resistances and bit-line biases are
        taken into account, line capacitances are not (DC).
    blas_threads : int or None
        BLAS threads for the dense sweep; None: BLAS's own setting.  Default 1 (assumed safe choice): on a
        busy machine multithreaded OpenBLAS was measured 100x slower (128 x 128: 32 s with 2 threads at load
        average 8 on 2 cores, 0.2 s with one); pass more on a dedicated many-core machine.

    Returns
    -------
    Transfer
        ``matrix`` (m, n), A/V, and ``offset`` (n,), A.

    Raises
    ------
    ValueError
        If the cells are not linear.
    """
    require_crossbar(xbar)
    if not is_linear(xbar):
        name = getattr(xbar.cell, "name", xbar.cell)
        raise ValueError(
            f"a transfer matrix needs linear cells (1R); cell {name!r} is nonlinear: "
            "use read_blocked (or read_many, which does) instead"
        )
    G = np.asarray(xbar.conductances, dtype=float)
    m, n = G.shape
    if blas_threads is not None:
        if int(blas_threads) < 1:
            raise ValueError(f"blas_threads must be a positive number of threads or None, got {blas_threads!r}")
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=int(blas_threads), user_api="blas"):
            return _transfer(xbar, G)
    return _transfer(xbar, G)


def _transfer(xbar, G: np.ndarray) -> Transfer:
    m, n = G.shape
    v_foot = _bias(xbar)
    uniform = bool(np.all(v_foot == v_foot[0]))
    if m < n and uniform:
        # sweep along the longer side: by reciprocity the transposed, reversed array (word lines <-> bit lines,
        # drivers <-> sense nodes) has the transposed transfer matrix
        Tt, _ = _sweep(
            np.ascontiguousarray(G[::-1, ::-1].T), xbar.r_bit, xbar.r_word, xbar.r_sense, xbar.r_source, np.zeros(m)
        )
        T = np.ascontiguousarray(Tt[::-1, ::-1].T)
        # raising every port by the same voltage moves no current: a uniform bias c acts as inputs -c
        offset = -v_foot[0] * T.sum(axis=0)
    else:
        T, offset = _sweep(G, xbar.r_word, xbar.r_bit, xbar.r_source, xbar.r_sense, v_foot)
    return Transfer(T, offset)


def transfer_matrix(xbar, blas_threads: int | None = 1) -> np.ndarray:
    """Transfer matrix T (m, n), A/V, of a linear crossbar: outputs = V^T T (+ the bias offset)."""
    return transfer(xbar, blas_threads).matrix


def _block_size(xbar, max_bytes: float) -> int:
    try:
        from . import memory_estimate

        per_vector = max(memory_estimate(xbar, 2) - memory_estimate(xbar, 1), 1)
        fixed = memory_estimate(xbar, 1) - per_vector
    except (ImportError, TypeError, ValueError):
        per_vector, fixed = _BYTES_PER_CELL_VECTOR * xbar.m * xbar.n, 0
    return max(1, int((max_bytes - fixed) // per_vector))


def read_blocked(xbar, voltages, block: int | None = None, max_bytes: float = BLOCK_BYTES, **solve_kw) -> np.ndarray:
    """Output currents (p, n), A, of any crossbar by :func:`memspice.solver.solve_dc` on blocks of vectors.

    Parameters
    ----------
    voltages : array (m,) or (p, m)
        Word-line inputs, V, vectors first.
    block : int, optional
        Input vectors per ``solve_dc`` call; default: as many as fit in ``max_bytes``.
    max_bytes : float
        Memory for one block's results and work arrays (default :data:`BLOCK_BYTES`, assumed).
    **solve_kw
        Passed to ``solve_dc`` (``method``, ``tol``, ``max_newton``, ...).
    """
    v = xbar.check_inputs(voltages)
    out = np.empty((v.shape[1], xbar.n))
    for start, sol in solve_blocks(xbar, v.T, block, max_bytes, **solve_kw):
        out[start : start + sol.vectors] = sol.output_currents
        del sol  # before the next block is solved: one block's arrays in memory at a time
    return out


def solve_blocks(xbar, voltages, block: int | None = None, max_bytes: float = BLOCK_BYTES, **solve_kw):
    """Yield (first vector, :class:`~memspice.solver.CrossbarSolution`) for blocks of input ``voltages``
    (p, m), V, each solved by :func:`memspice.solver.solve_dc` (options as :func:`read_blocked`).  Memory
    stays that of one block when the caller drops each block's solution before asking for the next."""
    from .dc import solve_dc

    v = xbar.check_inputs(voltages)
    p = v.shape[1]
    if block is None:
        block = _block_size(xbar, max_bytes)
    if isinstance(block, bool) or int(block) < 1:
        raise ValueError(f"block must be a positive number of input vectors, got {block!r}")
    block = int(block)
    for start in range(0, p, block):
        yield start, solve_dc(xbar, v[:, start : start + block].T, **solve_kw)


def choose_strategy(m: int, n: int, p: int) -> ReadStrategy:
    """The cheaper way to read p vectors from a linear m x n array, by the estimates of the constants above."""
    t_transfer = transfer_flops(m, n) / FLOP_RATE + 2.0 * p * m * n / FLOP_RATE
    t_vectors = p * m * n * SECONDS_PER_CELL_VECTOR
    return ReadStrategy.TRANSFER if t_transfer < t_vectors else ReadStrategy.PER_VECTOR


def read_many(
    xbar,
    voltages,
    strategy: ReadStrategy = ReadStrategy.AUTO,
    block: int | None = None,
    max_bytes: float = BLOCK_BYTES,
    **solve_kw,
) -> np.ndarray:
    """Column output currents (p, n), A, for many input vectors ``voltages`` (p, m), V.

    Linear arrays: the exact :func:`transfer` map then one matrix product, or blocked
    :func:`memspice.solver.solve_dc` calls when that is estimated cheaper (few vectors on a large array),
    as ``strategy`` says.  Nonlinear arrays: always :func:`read_blocked` (``strategy`` TRANSFER is refused).
    """
    require_crossbar(xbar)
    from .guards import require_finite

    if not isinstance(strategy, ReadStrategy):
        raise ValueError(f"strategy must be a ReadStrategy, got {strategy!r}")
    v = xbar.check_inputs(voltages)
    m, n = xbar.shape
    if not is_linear(xbar):
        if strategy is ReadStrategy.TRANSFER:
            raise ValueError("strategy=TRANSFER needs linear cells (1R)")
        return read_blocked(xbar, v.T, block=block, max_bytes=max_bytes, **solve_kw)
    if strategy is ReadStrategy.AUTO:
        strategy = choose_strategy(m, n, v.shape[1])
    if strategy is ReadStrategy.TRANSFER:
        out = transfer(xbar)(v.T)
        require_finite("the transfer-matrix read", output_currents=out)
        return out
    return read_blocked(xbar, v.T, block=block, max_bytes=max_bytes, **solve_kw)
