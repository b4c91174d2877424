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
from ..circuits.periphery import IdealTIA, OpAmpTIA
from ..circuits.weights import G_MAX, G_MIN
from ..circuits.write_schemes import write_crossbar
from .crossbar import crossbar_netlist, osdi_libraries
from .dialects import Dialect, Save, to_dialect
from .headers import OSDI_HELP, OSDI_TAG, osdi_tags, with_osdi, with_outputs  # noqa: F401 (re-exported)

TIAS: dict[str, type[IdealTIA] | type[OpAmpTIA] | None] = {"none": None, "ideal": IdealTIA, "opamp": OpAmpTIA}


def build_crossbar(
    rows=8,
    cols=8,
    cell="1R",
    r_word=1.0,
    r_bit=1.0,
    r_source=0.0,
    r_sense=0.0,
    v_read=0.2,
    g_min=G_MIN,
    g_max=G_MAX,
    seed=0,
    variation=0.0,
    stuck_off=0.0,
    stuck_on=0.0,
    signed=False,
    tia="none",
    r_f=10e3,
    analysis=".op",
    face=Face.BEHAVIOURAL,
    save=Save.AUTO,
    dialect=Dialect.NGSPICE,
) -> str:
    """Crossbar read: random weights (seeded) mapped to conductances, random inputs up to ``v_read`` (V).

    ``save``: ``Save.AUTO`` (default) keeps only the outputs (``.save``) on arrays larger than
    :data:`~memspice.netlists.dialects.SAVE_OUTPUTS_ABOVE` cells; ``dialect``: the simulator.
    """
    rng = np.random.default_rng(seed)
    options = ArrayOptions(cell, g_min, g_max, r_word, r_bit, r_source, r_sense, variation, stuck_off, stuck_on, seed)
    weights = rng.uniform(-1, 1, (rows, cols)) if signed else rng.uniform(0, 1, (rows, cols))
    xbar, _ = options.crossbar(weights)
    cell = xbar.cell.name
    if tia not in TIAS:
        raise ValueError(f"tia must be one of {sorted(TIAS)}, got {tia!r}")
    tia_cls = TIAS[tia]
    sense = tia_cls(r_f=r_f) if tia_cls is not None else None
    v = rng.uniform(0, v_read, rows)
    title = f"memspice crossbar {rows}x{xbar.n} {cell}{' signed (G+ - G- column pairs)' if signed else ''}, seed {seed}"
    face = Face.parse(face)
    text = crossbar_netlist(xbar, v, analysis=analysis, title=title, sense=sense, face=face, save=save, dialect=dialect)
    return with_osdi(text, osdi_libraries(xbar, sense=sense) if face is Face.VERILOG_A else [])


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
