"""Randomized differential testing of every DC read path against every other (issue 20).

Circuits come from ``tests/strategies.py``; every path must agree with the sparse direct solve (SuperLU on the
nodal matrix, Newton for nonlinear cells) within the sum of both paths' documented tolerances
(:mod:`memspice.accuracy`).  The quick profile runs in CI (derandomized); ``benchmarks/property_long.py`` runs
the long one and commits its report.  A failure prints the shrunk ``CrossbarSpec`` / ``InputSpec``: add it as
an explicit ``@example`` below (those are the regression cases of bugs this suite found).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from memspice.accuracy import TOLERANCES, allowed_error, conductance_scale, junctions
from memspice.circuits.cells import DesignWarning
from memspice.circuits.crossbar import Crossbar
from memspice.simulate import SPICE_READ_OPTIONS
from memspice.solver import read_many, solve_dc, structured
from memspice.solver.tiles import Scheduler, read_tiled
from memspice.solver.transfer import ReadStrategy, is_linear, read_blocked, transfer

from .conftest import needs_ngspice, needs_osdi, needs_shared
from .strategies import (
    VERILOG_A_CELLS,
    CrossbarSpec,
    InputSpec,
    budget,
    count,
    crossbars,
    inputs,
    observe,
)

pytestmark = pytest.mark.filterwarnings("ignore::memspice.circuits.cells.DesignWarning")


def _reference(xbar, v):
    """The sparse direct solve and ``G_k`` for the bounds (see memspice.accuracy)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DesignWarning)
        sol = solve_dc(xbar, v, method="direct")
    return sol, conductance_scale(xbar, sol.word_line_voltages, sol.bit_line_voltages)


def assert_agree(path: str, got, ref, v, g_scale, xbar, against: str = "direct", record: str | None = None) -> None:
    """``got`` (p, n) within the bound of ``path`` plus that of the reference path ``against``."""
    got = np.asarray(got)
    assert got.shape == ref.shape, f"{path}: shape {got.shape}, reference {ref.shape}"
    assert np.all(np.isfinite(got)), f"{path}: non-finite outputs {got}"
    tol = TOLERANCES[_tol_key(path)] + TOLERANCES[against]
    bound = allowed_error(tol, ref, v, g_scale, xbar.cell.linear, xbar.bit_voltages, junctions(xbar))
    ratio = np.abs(got - ref) / bound
    observe(record or path, float(np.max(ratio, initial=0.0)))
    if np.max(ratio) > 1:
        k, j = np.unravel_index(np.argmax(ratio), ratio.shape)
        raise AssertionError(
            f"{path} disagrees with {against}: vector {k}, column {j}: {got[k, j]!r} A vs {ref[k, j]!r} A "
            f"(error {abs(got[k, j] - ref[k, j]):.3g} A, {np.max(ratio):.3g} x the documented bound "
            f"{bound[k, j]:.3g} A)"
        )


def _tol_key(path: str) -> str:
    return path.split(":")[0]


def _thin_bit_lines(g_lo: float, g_hi: float) -> CrossbarSpec:
    """2 x 2, 1 mOhm bit-line segments behind 1 Ohm sense links, biased bit lines: where the transfer sweep
    once cancelled digits (long profile, seed 20261206)."""
    return CrossbarSpec(m=2, n=2, cell="1R", pattern="loguniform", g_lo=g_lo, g_hi=g_hi, r_word=0.0, r_bit=0.001,
                        r_source=0.0, r_sense=1.0, bias=0.0, bias_spread=0.125)  # fmt: skip


# ---- the sparse solver's paths ---------------------------------------------------------------------------


@settings(**budget("sparse_paths"))
@given(crossbars(), inputs())
@example(  # issue 20: conductance 1e100 S gave 0 A (structured) or 1e150 A (direct); now refused at the bound
    CrossbarSpec(m=3, n=2, cell="1R", pattern="constant", g_hi=1e-2, r_word=1e-3, r_bit=100.0),
    InputSpec(p=3, kinds=("signed", "tiny", "zero"), amplitude=1.0),
)
@example(  # found by this suite: CG stopped on a residual relative to the driver currents (outputs 3.5e-8 off)
    CrossbarSpec(m=16, n=9, cell="1R", pattern="open", g_lo=0.01, g_hi=0.01, r_word=0.0, r_bit=10.0, r_source=0.0562),
    InputSpec(p=1, kinds=("signed",), amplitude=1.0),
)
@example(  # long profile, seed 20261206: the transfer sweep's Schur complement subtracted numbers of size
    # 1/r_bit (1000 S) to get one of the cells' size (1e-4 S): 3.1e-10 off, 1.07x the bound
    _thin_bit_lines(1e-4, 1e-4),
    InputSpec(p=1, kinds=("signed",), amplitude=1.0),
)
def test_sparse_paths_agree(spec, ispec):
    """structured, cg, read_many (auto, blocked) and the transfer matrix against the direct solve."""
    count("sparse_paths")
    xbar, v = spec.build(), ispec.build(spec.m)
    sol, g = _reference(xbar, v)
    ref = sol.output_currents
    paths = {
        "cg": lambda: solve_dc(xbar, v, method="cg").output_currents,
        "cg:read_many": lambda: read_many(xbar, v, strategy=ReadStrategy.PER_VECTOR, method="cg"),
        "cg:read_blocked": lambda: read_blocked(xbar, v, block=2, method="cg"),
    }
    if structured.applicable(xbar):
        paths["structured"] = lambda: solve_dc(xbar, v, method="structured").output_currents
    if is_linear(xbar):
        paths["transfer"] = lambda: transfer(xbar)(v)
        paths["transfer:read_many"] = lambda: read_many(xbar, v, strategy=ReadStrategy.TRANSFER)
    for path, run in paths.items():
        assert_agree(path, run(), ref, v, g, xbar)
    # the per-cell results are consistent with the outputs: each column's cell currents sum to its output
    np.testing.assert_allclose(
        sol.device_currents.sum(axis=1), ref, rtol=1e-9, atol=1e-18 + 1e-9 * float(np.max(np.abs(ref), initial=0))
    )


@settings(**budget("tiles"))
@given(crossbars(cells=("1R",), max_rows=40, max_cols=40), inputs(), st.tuples(st.integers(1, 40), st.integers(1, 40)))
@example(  # found by this suite: a per-column bit-line bias was passed whole to every tile (ValueError)
    CrossbarSpec(m=4, n=5, cell="1R", r_word=1.0, r_bit=2.0, bias=0.1, bias_spread=0.05),
    InputSpec(p=2, kinds=("signed",)),
    (2, 2),
)
@example(  # long profile, seed 20261206: the same cancellation in each tile's transfer sweep (4.7x the bound)
    _thin_bit_lines(1e-5, 1e-3),
    InputSpec(p=1, kinds=("signed",), amplitude=1.0),
    (2, 1),
)
def test_tiled_reads_are_the_sum_of_independent_tile_reads(spec, ispec, tile):
    """read_tiled (Dask, synchronous) = the sum over tile rows of each tile's own direct solve."""
    count("tiles")
    xbar, v = spec.build(), ispec.build(spec.m)
    kw = dict(r_word=xbar.r_word, r_bit=xbar.r_bit, r_source=xbar.r_source, r_sense=xbar.r_sense)
    got = read_tiled(xbar.conductances, v, tile=tile, scheduler=Scheduler.SYNCHRONOUS, bit_bias=xbar.bit_voltages, **kw)
    bias = xbar.bit_voltages
    ref, bound = np.zeros((v.shape[0], spec.n)), np.zeros((v.shape[0], spec.n))
    for r0 in range(0, spec.m, tile[0]):
        rows = slice(r0, r0 + tile[0])
        for c0 in range(0, spec.n, tile[1]):
            cols = slice(c0, c0 + tile[1])
            part = Crossbar(xbar.conductances[rows, cols], bit_bias=bias[cols], **kw)
            sol, g = _reference(part, v[:, rows])
            ref[:, cols] += sol.output_currents
            tol = TOLERANCES["transfer"] + TOLERANCES["direct"] + TOLERANCES["cg"]  # per-tile read: either path
            bound[:, cols] += allowed_error(tol, sol.output_currents, v[:, rows], g, True, bias[cols])
    observe("tiles", float(np.max(np.abs(got - ref) / bound, initial=0.0)))
    assert np.all(np.abs(got - ref) <= bound), np.max(np.abs(got - ref) / bound)
    if tile[0] >= spec.m and tile[1] >= spec.n:  # one tile: the monolithic read
        whole, g = _reference(xbar, v)
        assert_agree("transfer", got, whole.output_currents, v, g, xbar)


# ---- ngspice ---------------------------------------------------------------------------------------------


def _spice_paths(xbar, v, face="behavioural", mode="batch"):
    from memspice.netlists.multi_vector import read_many_ngspice
    from memspice.simulate import simulate_crossbar

    return {
        f"ngspice:simulate_crossbar {face} {mode}": lambda: (
            simulate_crossbar(xbar, v, backend="ngspice", face=face, mode=mode).output_currents
        ),
        f"ngspice:read_many_ngspice {face} {mode}": lambda: read_many_ngspice(xbar, v, face=face, mode=mode),
    }


def _check_spice(spec, ispec, face="behavioural", mode="batch"):
    xbar, v = spec.build(), ispec.build(spec.m)
    sol, g = _reference(xbar, v)
    for path, run in _spice_paths(xbar, v, face, mode).items():
        assert_agree(path, run(), sol.output_currents, v, g, xbar)


@needs_ngspice
@settings(**budget("ngspice_batch"))
@given(crossbars(max_rows=16, max_cols=16), inputs())
@example(  # issue 20: "compose ... values 0.1 -0.05" was read as one expression (vector 1 got 0.05 V)
    CrossbarSpec(m=2, n=2, cell="1R", pattern="constant", g_hi=1e-4),
    InputSpec(p=3, kinds=("positive", "signed", "constant"), amplitude=0.2, seed=1),
)
@example(  # long profile, seed 20261205: read_many_ngspice ran at ngspice's default tolerances (3.6x the bound)
    CrossbarSpec(m=1, n=1, cell="1S1R", pattern="loguniform", g_lo=1e-7, g_hi=1e-7, r_word=0.0, r_bit=0.0),
    InputSpec(p=1, kinds=("signed",), amplitude=1.0, seed=0),
)
@example(  # long profile, seed 20261208: ngspice's gmin across the 1T1R junctions (-4.9e-13 A for 0 A, 1.25x)
    CrossbarSpec(m=1, n=1, cell="1T1R", pattern="loguniform", g_lo=1e-2, g_hi=1e-2, r_word=0.0, r_bit=0.0, bias=0.5),
    InputSpec(p=2, kinds=("constant",), amplitude=0.5, seed=0),
)
def test_ngspice_agrees_with_the_sparse_solver(spec, ispec):
    """ngspice (batch, behavioural face), one run for all vectors: simulate_crossbar and read_many_ngspice."""
    count("ngspice_batch")
    _check_spice(spec, ispec)


@pytest.mark.slow
@needs_ngspice
@settings(**budget("ngspice_large"))
@given(crossbars(max_rows=64, max_cols=48).filter(lambda s: s.m * s.n > 256), inputs())
def test_ngspice_agrees_on_large_arrays(spec, ispec):
    """As above on arrays up to 64 x 48 (the default backend's whole range; long profile only: ~10 s each)."""
    count("ngspice_large")
    _check_spice(spec, ispec)


@needs_osdi
@needs_shared
@settings(**budget("ngspice_faces"))
@given(crossbars(max_rows=8, max_cols=8), inputs(max_vectors=4), st.sampled_from(["verilog-a", "shared"]))
def test_ngspice_faces_and_modes_agree(spec, ispec, variant):
    """The Verilog-A (OSDI) face and the shared-library mode give the same reads (both documented as ngspice)."""
    count("ngspice_faces")
    if variant == "verilog-a":
        face = "verilog-a" if spec.cell in VERILOG_A_CELLS else "behavioural"
        _check_spice(spec, ispec, face=face)
    else:
        _check_spice(spec, ispec, mode="shared")


@needs_ngspice
@settings(**budget("netlist_round_trip"))
@given(crossbars(max_rows=12, max_cols=12), inputs(max_vectors=4))
@example(  # found by this suite: input and bias written with 10 digits gave -1.5e-15 A for an exact 0 A
    CrossbarSpec(m=1, n=1, cell="1R", pattern="constant", g_hi=0.01, r_word=0.0, r_bit=0.0, bias=0.21804345529984792),
    InputSpec(p=2, kinds=("signed", "constant"), amplitude=0.21804345529984792),
)
def test_netlist_round_trip(tmp_path_factory, spec, ispec):
    """Write the netlists to files, run the files in ngspice, read the column currents back."""
    count("netlist_round_trip")
    from memspice.netlists import crossbar_netlist
    from memspice.netlists.multi_vector import multi_vector_netlist, operating_points
    from memspice.spice import run

    xbar, v = spec.build(), ispec.build(spec.m)
    sol, g = _reference(xbar, v)
    folder = Path(tmp_path_factory.mktemp("netlists"))
    one = folder / "one.cir"
    one.write_text(crossbar_netlist(xbar, v[0], options=SPICE_READ_OPTIONS))
    waves = run(one).waveforms
    got = np.array([[waves[f"i(vsense{j})"][0] for j in range(spec.n)]])
    assert_agree("ngspice:file .op", got, sol.output_currents[:1], v[:1], g[:1], xbar)
    many = folder / "many.cir"
    many.write_text(multi_vector_netlist(xbar, v, options=SPICE_READ_OPTIONS))
    ops = operating_points(run(many), v.shape[0], inputs=v.T)
    got = np.array([[w[f"i(vsense{j})"][0] for j in range(spec.n)] for w in ops])
    assert_agree("ngspice:file multi-vector", got, sol.output_currents, v, g, xbar)
