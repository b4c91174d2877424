"""ngspice netlist of a :class:`~memspice.circuits.crossbar.Crossbar` read.

Readable and hierarchical: one ``.subckt`` per cell kind, one ``X`` line per
cell, wire segments as ``R`` lines named by line and position, drivers
``Vin<i>`` on the word lines and 0 V sense sources ``Vsense<j>`` (ideal TIAs,
virtual ground) at the foot of every bit line: ``i(vsense<j>)`` is column
j's output current (A).  Zero line resistance merges the nodes instead of
writing 0 Ohm resistors.

``save=Save.OUTPUTS`` adds ``.save`` lines for the vectors users read (word-line
drivers, bit-line feet, column currents, TIA outputs) so the raw file of a
large array does not hold every internal node; ``dialect=`` writes the netlist
for LTspice or Xyce (:mod:`memspice.netlists.dialects`).
"""

from __future__ import annotations

import io
import re

from ..circuits.cells import Face
from ..circuits.crossbar import MAX_SPICE_DEVICES, Crossbar
from ..core.units import SIGNIFICANT_DIGITS, parse_spice_number, spice_number
from .dialects import Dialect, Save, add_saves, to_dialect
from .headers import with_outputs

_num = spice_number  # element values: engineering notation, memspice.core.units.SIGNIFICANT_DIGITS digits


def source_level(value: float) -> str:
    """A source level (input or bias voltage, V) in engineering notation that reads back as the same double.

    Element values keep :data:`~memspice.core.units.SIGNIFICANT_DIGITS` digits (their rounding is relative to
    the current they carry), but a read's current is a difference of voltages (input minus bias), which
    rounding does not respect: a 0.218 V input against a 0.218 V bias, each rounded to 10 digits, gave
    -1.5e-15 A instead of 0 (issue 20 property suite).  So levels get the fewest digits (10 to 17) that
    round-trip.
    """
    v = float(value)
    for digits in range(SIGNIFICANT_DIGITS, 18):
        text = spice_number(v, digits)
        if parse_spice_number(text) == v:
            return text
    return spice_number(v, 17)


#: the netlist faces (their names are accepted too, see :meth:`memspice.core.faces.Face.parse`)
FACES = tuple(Face)


def crossbar_outputs(m: int, n: int, sense=None) -> list[str]:
    """ngspice names of the vectors users read from an m x n crossbar netlist.

    ``v(in<i>)`` word-line drivers, ``v(s<j>)`` bit-line feet, and per column what the read-out
    writes: ``i(vsense<j>)`` (0 V sense source or ideal TIA), ``v(out<j>)`` (TIA output),
    ``v(spk<j>)`` (LIF neuron).
    """
    column = "Vsense0 s0 0 DC 0" if sense is None else sense.column(0, "s0", 0.0)
    tokens = {t.lower() for t in column.split()}
    names = [f"v(in{i})" for i in range(m)] + [f"v(s{j})" for j in range(n)]
    for token, name in (("vsense0", "i(vsense{})"), ("out0", "v(out{})"), ("spk0", "v(spk{})")):
        if token in tokens:
            names += [name.format(j) for j in range(n)]
    return names


def column_outputs(m: int, n: int, sense=None) -> list[str]:
    """The circuit's outputs among :func:`crossbar_outputs`: per column what the read-out writes
    (``i(vsense<j>)``, ``v(out<j>)``, ``v(spk<j>)``), not the word-line drivers and bit-line feet."""
    return [name for name in crossbar_outputs(m, n, sense) if not re.match(r"v\((in|s)\d+\)$", name)]


def node_names(xbar: Crossbar) -> tuple[list[list[str]], list[list[str]]]:
    """Word-line and bit-line node name of every cell, as written in the netlist."""
    m, n = xbar.shape

    def wl(i, j):
        if xbar.r_word > 0:
            return f"w{i}_{j}"
        return f"w{i}" if xbar.r_source > 0 else f"in{i}"

    def bl(i, j):
        if xbar.r_bit > 0:
            return f"b{i}_{j}"
        return f"b{j}" if xbar.r_sense > 0 else f"s{j}"

    return [[wl(i, j) for j in range(n)] for i in range(m)], [[bl(i, j) for j in range(n)] for i in range(m)]


def crossbar_netlist(
    xbar: Crossbar,
    voltages,
    analysis: str = ".op",
    transient: bool = False,
    title: str | None = None,
    max_devices: int = MAX_SPICE_DEVICES,
    options: str = "",
    sense=None,
    face: Face | str = Face.BEHAVIOURAL,
    save: Save | str = Save.ALL,
    dialect: Dialect | str = Dialect.NGSPICE,
) -> str:
    """Netlist text for ``xbar`` driven by word-line sources.

    ``voltages``: (m,) DC levels in V, or a list of m SPICE source
    specifications (e.g. ``PWL(...)``) for transients.  ``transient=True``
    uses the stateful device face (states start at ``xbar.state`` under
    ``uic``); otherwise states are frozen (read).  ``sense``: a TIA from
    :mod:`memspice.circuits.periphery` on every column (output ``v(out<j>)``);
    default: 0 V sources, column current ``i(vsense<j>)``.  ``face=Face.VERILOG_A``
    uses the Verilog-A modules through ``N`` instances; load the
    libraries from :func:`osdi_libraries` (e.g. ``run(text, osdi=osdi_libraries(...))``).
    Every kind-specific line comes from the crossbar's cell object
    (:mod:`memspice.circuits.cells`).

    ``save``: ``Save.ALL`` (default: every vector, as library code reading internal nodes
    needs), ``Save.OUTPUTS`` (``.save`` lines for :func:`crossbar_outputs` only) or
    ``Save.AUTO`` (outputs only above :data:`~memspice.netlists.dialects.SAVE_OUTPUTS_ABOVE`
    cells).  ``dialect``: ``Dialect.NGSPICE`` (default), ``Dialect.LTSPICE`` or
    ``Dialect.XYCE`` (:func:`~memspice.netlists.dialects.to_dialect`; the Verilog-A face is
    ngspice-only and raises ``ValueError`` there).
    """
    face = Face.parse(face)
    dialect = Dialect.parse(dialect)
    if face is Face.VERILOG_A and dialect is not Dialect.NGSPICE:
        raise ValueError(
            f"face={face.value!r} with dialect={dialect.value!r}: the Verilog-A face loads OSDI libraries, "
            "which only ngspice reads (LTspice has no Verilog-A; Xyce needs its own ADMS-compiled plugin); "
            "use face='behavioural'"
        )
    cell = xbar.cell
    m, n = xbar.shape
    if m * n > max_devices:
        raise ValueError(
            f"{m}x{n} crossbar has {m * n} cells, above max_devices={max_devices}; "
            f"use the sparse solver (backend='sparse') for arrays this large"
        )
    if isinstance(voltages[0], str):
        drive = list(voltages)
        if len(drive) != m:
            raise ValueError(f"need {m} word-line sources, got {len(drive)}")
    else:
        drive = [f"DC {source_level(v)}" for v in xbar.check_inputs(voltages)[:, 0]]

    wl_names, bl_names = node_names(xbar)
    wl = lambda i, j: wl_names[i][j]  # noqa: E731
    bl = lambda i, j: bl_names[i][j]  # noqa: E731
    out = io.StringIO()
    w = out.write
    w(f"* {title or f'memspice crossbar {m}x{n}, {cell.name} cells'}\n")
    w(
        f"* r_word={_num(xbar.r_word)} r_bit={_num(xbar.r_bit)} r_source={_num(xbar.r_source)} "
        f"r_sense={_num(xbar.r_sense)} Ohm\n"
    )
    w(cell.library(face, transient))
    if sense is not None:
        w(sense.library(face=face))
    # resistances as text once: these loops write O(m n) lines
    r_first, r_word = xbar.r_first, _num(xbar.r_word)
    r_last, r_bit = xbar.r_last, _num(xbar.r_bit)
    w("* word-line drivers and wires\n")
    for i in range(m):
        w(f"Vin{i} in{i} 0 {drive[i]}\n")
        if r_first > 0:
            w(f"Rwd{i} in{i} {wl(i, 0)} {_num(r_first)}\n")
        if xbar.r_word > 0:
            for j in range(n - 1):
                w(f"Rw{i}_{j} {wl(i, j)} {wl(i, j + 1)} {r_word}\n")
    w("* bit-line wires and sense (ideal TIA: 0 V source; a bias in write schemes)\n")
    bias = xbar.bit_voltages
    for j in range(n):
        w(
            f"Vsense{j} s{j} 0 DC {source_level(bias[j])}\n"
            if sense is None
            else sense.column(j, f"s{j}", float(bias[j]))
        )
        if r_last > 0:
            w(f"Rbs{j} {bl(m - 1, j)} s{j} {_num(r_last)}\n")
        if xbar.r_bit > 0:
            for i in range(m - 1):
                w(f"Rb{i}_{j} {bl(i, j)} {bl(i + 1, j)} {r_bit}\n")
    w(cell.supplies(xbar))
    if xbar.c_word > 0 or xbar.c_bit > 0:
        w("* line capacitance to ground (one per cell position; merged nodes get them in parallel)\n")
        fixed = {f"in{i}" for i in range(m)} | {f"s{j}" for j in range(n)}
        for i in range(m):
            for j in range(n):
                if xbar.c_word > 0 and wl(i, j) not in fixed:
                    w(f"Cw{i}_{j} {wl(i, j)} 0 {_num(xbar.c_word)}\n")
                if xbar.c_bit > 0 and bl(i, j) not in fixed:
                    w(f"Cb{i}_{j} {bl(i, j)} 0 {_num(xbar.c_bit)}\n")
    w("* cells\n")
    for i in range(m):
        for j in range(n):
            w(cell.instance(f"c{i}_{j}", wl(i, j), bl(i, j), i, j, xbar, face, transient))
    if options:
        w(options.rstrip() + "\n")
    w(f"{analysis}\n.end\n")
    text = out.getvalue()
    if Save.parse(save).resolve(m * n) is Save.OUTPUTS:
        text = add_saves(text, crossbar_outputs(m, n, sense))
    text = with_outputs(text, column_outputs(m, n, sense))  # what 'memspice run' shows by default
    return to_dialect(text, dialect)


def osdi_libraries(xbar: Crossbar, transient: bool = False, sense=None) -> list:
    """Compiled Verilog-A libraries a ``face=Face.VERILOG_A`` netlist of ``xbar`` needs."""
    libs = list(xbar.cell.osdi_libraries(Face.VERILOG_A, transient))
    if sense is not None and hasattr(sense, "osdi_libraries"):
        libs += sense.osdi_libraries()
    return libs


def device_probes(xbar: Crossbar, face: Face | str = Face.BEHAVIOURAL) -> list[tuple[str, float] | None] | None:
    """(ngspice vector, sign) of every cell's own device current in a ``.op`` read, row-major.

    None when the cell kind has no such vector in this face (then read currents from node voltages).
    Cells left out of the netlist (zero conductance) get ``None`` entries.
    """
    face = Face.parse(face)
    probes: list[tuple[str, float] | None] = []
    for i in range(xbar.m):
        for j in range(xbar.n):
            ref = f"c{i}_{j}"
            if not xbar.cell.instance(ref, "a", "b", i, j, xbar, face, False):
                probes.append(None)
                continue
            probe = xbar.cell.probe(ref, face)
            if probe is None:
                return None
            probes.append(probe)
    return probes
