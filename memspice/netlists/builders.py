"""Named circuit builders shared by the CLI and the example netlists.

Each builder takes plain keyword options (numbers and strings, as a command
line gives them) and returns netlist text runnable as-is in ngspice, or, with
``dialect=Dialect.LTSPICE`` / ``Dialect.XYCE``, written for that simulator
(:mod:`memspice.netlists.dialects`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..circuits.cells import Face, make_cell
from ..circuits.crossbar import Crossbar
from ..circuits.lif import LIFNeuron
from ..circuits.linear_solver import solver_netlist
from ..circuits.periphery import IdealTIA, OpAmpTIA
from ..circuits.weights import G_MAX, G_MIN, apply_stuck_faults, apply_variation, conductance_map, differential_pair
from ..circuits.write_schemes import write_crossbar
from ..core.osdi import header_name
from .crossbar import crossbar_netlist, osdi_libraries
from .dialects import Dialect, Save, to_dialect

TIAS: dict[str, type[IdealTIA] | type[OpAmpTIA] | None] = {"none": None, "ideal": IdealTIA, "opamp": OpAmpTIA}
#: header tag naming a compiled Verilog-A library; ``memspice run`` loads every one it finds
OSDI_TAG = "* memspice-osdi: "
#: comment written under the header lines: how to load the libraries without ``memspice run``
OSDI_HELP = (
    "* The Verilog-A models above are compiled OSDI files named by file name only. 'memspice run' finds them\n"
    "* in memspice's OSDI cache (python -c 'import memspice.core.osdi as o; print(o.cache_dir())': on Linux\n"
    "* $MEMSPICE_CACHE/osdi, else $XDG_CACHE_HOME/memspice/osdi, default ~/.cache/memspice/osdi) and compiles\n"
    "* them again if missing. Plain ngspice:\n"
    "* put 'pre_osdi <cache folder>/<file>' for each file in a .spiceinit next to this netlist, or\n"
    "* 'osdi <cache folder>/<file>' in a .control block before the analysis.\n"
)


def with_osdi(text: str, libraries) -> str:
    """Name the Verilog-A libraries a netlist needs in ``* memspice-osdi:`` header lines (after the title).

    memspice's own compiled models are named by bare file name (``<module>-<sha16>.osdi``, see
    :func:`memspice.core.osdi.header_name`), so a netlist carries no home-directory path; a comment
    says how to load them by hand.  Other libraries keep the path given.
    """
    if not libraries:
        return text
    title, _, rest = text.partition("\n")
    names = [header_name(p) for p in libraries]
    return "\n".join([title] + [f"{OSDI_TAG}{p}" for p in names]) + "\n" + OSDI_HELP + rest


def osdi_tags(text: str) -> list[str]:
    """The libraries named by :data:`OSDI_TAG` lines of a netlist."""
    return [ln[len(OSDI_TAG) :].strip() for ln in text.splitlines() if ln.startswith(OSDI_TAG)]


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
    cell = make_cell(cell)
    if cell.data == "state":
        xbar = Crossbar(
            state=rng.uniform(0, 1, (rows, cols)),
            cell=cell,
            r_word=r_word,
            r_bit=r_bit,
            r_source=r_source,
            r_sense=r_sense,
        )
    else:
        if signed:
            g, _ = differential_pair(rng.uniform(-1, 1, (rows, cols)), g_min, g_max)
        else:
            g = conductance_map(rng.uniform(0, 1, (rows, cols)), g_min, g_max)
        if variation:
            g = apply_variation(g, variation, seed=seed + 1)
        if stuck_off or stuck_on:
            g = apply_stuck_faults(g, stuck_off, stuck_on, g_min, g_max, seed=seed + 2)
        xbar = Crossbar(g, cell=cell, r_word=r_word, r_bit=r_bit, r_source=r_source, r_sense=r_sense)
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
    text = neuron.netlist(current, t_stop, step, face=face)
    if face is Face.VERILOG_A:
        return with_osdi(text, neuron.osdi_libraries())
    return to_dialect(text, dialect)


def build_solver(size=3, seed=0, gain=1e6, dialect=Dialect.NGSPICE) -> str:
    """Closed-loop solver for a random, diagonally dominant (well-conditioned) positive A."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.1, 1.0, (size, size))
    a += np.diag(a.sum(axis=1))
    b = rng.uniform(-1, 1, size)
    return to_dialect(solver_netlist(a, b, gain=gain), dialect)


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
