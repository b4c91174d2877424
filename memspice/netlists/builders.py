"""Named circuit builders shared by the CLI and the example netlists.

Each builder takes plain keyword options (numbers and strings, as a command
line gives them) and returns netlist text runnable as-is in ngspice, or, with
``dialect=Dialect.LTSPICE`` / ``Dialect.XYCE``, written for that simulator
(:mod:`memspice.netlists.dialects`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..circuits.array_options import ArrayOptions
from ..circuits.cells import Face
from ..circuits.crossbar import Crossbar
from ..circuits.lif import LIFNeuron
from ..circuits.linear_solver import solver_netlist
from ..circuits.periphery import R_F, make_tia
from ..circuits.weights import G_MAX, G_MIN
from ..circuits.write_schemes import write_crossbar
from .crossbar import crossbar_netlist, osdi_libraries
from .dialects import Dialect, Save, to_dialect
from .headers import OSDI_HELP, OSDI_TAG, osdi_tags, with_osdi, with_outputs  # noqa: F401 (re-exported)


def build_crossbar(
    rows=8,
    cols=8,
    cell="1R",
    r_word=1.0,
    r_bit=1.0,
    r_source=0.0,
    r_sense=0.0,
    v_read=None,
    g_min=G_MIN,
    g_max=G_MAX,
    seed=0,
    variation=0.0,
    stuck_off=0.0,
    stuck_on=0.0,
    signed=False,
    tia="none",
    r_f=R_F,
    analysis=".op",
    face=Face.BEHAVIOURAL,
    save=Save.AUTO,
    dialect=Dialect.NGSPICE,
) -> str:
    """Crossbar read: random weights (seeded) mapped to conductances, random inputs up to ``v_read`` (V).

    ``v_read`` defaults to the cell kind's read voltage (:attr:`~memspice.circuits.cells.Cell.read_voltage`:
    0.2 V for 1R and 1T1R, above the selector's turn-on for 1S1R, the model's own for TiOx).

    ``save``: ``Save.AUTO`` (default) keeps only the outputs (``.save``) on arrays larger than
    :data:`~memspice.netlists.dialects.SAVE_OUTPUTS_ABOVE` cells; ``dialect``: the simulator.
    """
    rng = np.random.default_rng(seed)
    options = ArrayOptions(cell, g_min, g_max, r_word, r_bit, r_source, r_sense, variation, stuck_off, stuck_on, seed)
    weights = rng.uniform(-1, 1, (rows, cols)) if signed else rng.uniform(0, 1, (rows, cols))
    xbar, _ = options.crossbar(weights)
    cell = xbar.cell.name
    sense = make_tia(tia, r_f)
    v = rng.uniform(0, xbar.cell.read_voltage if v_read is None else v_read, rows)
    title = f"memspice crossbar {rows}x{xbar.n} {cell}{' signed (G+ - G- column pairs)' if signed else ''}, seed {seed}"
    face = Face.parse(face)
    text = crossbar_netlist(xbar, v, analysis=analysis, title=title, sense=sense, face=face, save=save, dialect=dialect)
    return with_osdi(text, osdi_libraries(xbar, sense=sense) if face is Face.VERILOG_A else [])


#: header line of a netlist with one operating point per input vector: how vectors map to ngspice's plots
VECTORS_TAG = "* memspice-vectors: "


def vector_plot(k: int) -> str:
    """ngspice's name of the plot of input vector ``k``: vectors are numbered from 0 (rows of the inputs
    file, the ``vector`` column of ``memspice read``), ngspice numbers plots from 1, so vector k is ``op{k+1}``."""
    return f"op{int(k) + 1}"


def vector_sweep_control(vectors, analysis: str = ".op") -> str:
    """A .control block running one operating point per input vector (vector k -> plot :func:`vector_plot`)."""
    from ..core.units import spice_number

    if analysis.strip().lower() != ".op":
        raise ValueError(
            f"{len(vectors)} input vectors write one .op per vector; the analysis {analysis!r} needs a single "
            "vector (pick one with --vector K)"
        )
    lines = [".control", "op"]
    previous = vectors[0]
    for v in vectors[1:]:
        lines += [f"alter vin{i} dc = {spice_number(x)}" for i, x in enumerate(v) if x != previous[i]]
        lines.append("op")
        previous = v
    return "\n".join(lines + [".endc"])


def build_crossbar_from(
    xbar: Crossbar,
    vectors,
    mapping=None,
    sense=None,
    face=Face.BEHAVIOURAL,
    analysis: str = ".op",
    save=Save.AUTO,
    dialect=Dialect.NGSPICE,
    source: str = "",
) -> str:
    """Netlist of your own array ``xbar`` read with input ``vectors`` (p, m) V: one ``.op`` per vector.

    Several vectors run in one ngspice ``.control`` loop (``alter`` the word-line sources, then ``op``):
    vector k is plot ``op{k+1}`` (:func:`vector_plot`; a ``* memspice-vectors:`` header line says so,
    and ``memspice run --vector k`` picks it).  Header lines state the weight ``mapping`` and, for
    signed weights, how column pairs combine.  ``source``: the file the array came from (for the title).
    """
    from .dialects import add_saves, output_vectors

    vectors = np.atleast_2d(np.asarray(vectors, float))
    face, dialect = Face.parse(face), Dialect.parse(dialect)
    _check_face(face, dialect)
    p = len(vectors)
    if p > 1:
        analysis = vector_sweep_control(vectors, analysis)
    title = f"memspice crossbar {xbar.m}x{xbar.n} {xbar.cell.name}" + (f" from {source}" if source else "")
    if p > 1:
        title += f", {p} input vectors 0..{p - 1} (plots {vector_plot(0)}..{vector_plot(p - 1)})"
    text = crossbar_netlist(xbar, vectors[0], analysis=analysis, title=title, sense=sense, face=face)
    header = [f"* {mapping.describe()}"] if mapping else ["* conductances as given (S)"]
    if mapping and mapping.signed:
        header.append("* output of weight column j: i(vsense<2j>) - i(vsense<2j+1>)")
    if p > 1:
        header.append(f"{VECTORS_TAG}{p} (vector k is plot op<k+1>; 'memspice run --vector k')")
    if face is Face.VERILOG_A:
        # bare cache names, no home-directory path: 'memspice run' finds (or compiles) them by name
        text = with_osdi(text, osdi_libraries(xbar, sense=sense))
    first, _, rest = text.partition("\n")
    text = "\n".join([first, *header]) + "\n" + rest
    outputs = output_vectors(text)
    if Save.parse(save).resolve(xbar.m * xbar.n) is Save.OUTPUTS:
        text = add_saves(text, outputs)
    try:
        return to_dialect(text, dialect)
    except ValueError as exc:
        raise ValueError(f"--dialect {dialect.value}: {exc}") from None


def vector_count(text: str) -> int | None:
    """The number of input vectors a :func:`build_crossbar_from` netlist reads (None: not such a netlist)."""
    for line in text.split("\n", 400)[:400]:
        if line.startswith(VECTORS_TAG):
            word = line[len(VECTORS_TAG) :].split()[:1]
            return int(word[0]) if word and word[0].isdigit() else None
    return None


def _check_face(face: Face, dialect: Dialect) -> None:
    if face is Face.VERILOG_A and dialect is not Dialect.NGSPICE:
        raise ValueError(
            f"face={face.value!r} with dialect={dialect.value!r}: the Verilog-A face loads OSDI libraries, which "
            "only ngspice reads (LTspice has no Verilog-A; Xyce needs its own ADMS-compiled plugin); use "
            f"face={Face.BEHAVIOURAL.value!r}"
        )


def build_lif(current=20e-6, t_stop=20e-6, step=5e-9, face=Face.BEHAVIOURAL, dialect=Dialect.NGSPICE) -> str:
    """Threshold-switch LIF neuron driven by a constant current (A)."""
    face, dialect = Face.parse(face), Dialect.parse(dialect)
    _check_face(face, dialect)
    neuron = LIFNeuron()
    text = with_outputs(neuron.netlist(current, t_stop, step, face=face), ["v(mem0)", "v(spk0)"])
    if face is Face.VERILOG_A:
        return with_osdi(text, neuron.osdi_libraries())
    return to_dialect(text, dialect)


def build_solver(size=3, seed=0, gain=1e6, dialect=Dialect.NGSPICE) -> str:
    """Closed-loop solver for a random, diagonally dominant (well-conditioned) positive A."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.1, 1.0, (size, size))
    a += np.diag(a.sum(axis=1))
    b = rng.uniform(-1, 1, size)
    outputs = [f"v(c{k})" for k in range(size)]  # the op-amp outputs hold the solution x
    return to_dialect(with_outputs(solver_netlist(a, b, gain=gain), outputs), dialect)


def build_write(
    rows=8,
    cols=8,
    cell="1S1R",
    row=0,
    col=0,
    v_write=1.6,
    scheme="V/2",
    r_word=1.0,
    r_bit=1.0,
    g=1e-4,
    dialect=Dialect.NGSPICE,
) -> str:
    """Program cell (row, col) with V/2 or V/3 half-select biasing (.op of the bias state)."""
    xbar, v = write_crossbar(
        Crossbar(np.full((rows, cols), g), cell=cell, r_word=r_word, r_bit=r_bit), (row, col), v_write, scheme
    )
    return crossbar_netlist(
        xbar, v, title=f"memspice {scheme} write of cell ({row}, {col}), {rows}x{cols} {cell}", dialect=dialect
    )


BUILDERS: dict[str, Callable[..., str]] = {
    "crossbar": build_crossbar,
    "lif": build_lif,
    "solver": build_solver,
    "write": build_write,
}
