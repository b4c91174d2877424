"""Reference designs for co-simulation: V/2 writes through drivers, reads through op-amp TIAs into neurons.

:func:`write_design` writes an ngspice netlist (and its weights file) of the kind the co-simulation is
checked and benchmarked on, in a designer's style: ``.param`` values, op-amp macromodels, DAC sources and
a marked crossbar.  The circuit, for an ``m x n`` array:

* **word lines**: a DAC (PWL source) drives a unity-gain op-amp buffer, which drives the word-line port
  through an output resistance ``rdrv``;
* **bit lines** (``switched=False``, default): an inverting op-amp TIA per column (feedback ``rf``) whose
  non-inverting input is a second DAC: it holds the bit line at the write levels (V/2 scheme) and at 0 V
  for the read, and turns the column current into ``v(out<j>)``; ``rf`` is sized so that the largest
  write current of a column stays inside the op-amp's swing.  ``switched=True``: a write driver (DAC and
  buffer) and the TIA each behind a smooth switch (``gsw`` when on), the driver holding the line during
  writes, the TIA (reference 0 V, ``rf`` sized for the read) during the read;
* **neurons**: during the read (``v(rd)`` = 1) a transconductor feeds ``gm (v(ref<j>) - v(out<j>))`` into a
  threshold-switch LIF neuron (:class:`memspice.circuits.lif.LIFNeuron`) per column; spikes are
  ``v(spk<j>)``.  ``gm`` puts a column with the mean read current at ``drive`` times the neuron's threshold
  current; the read currents are those of ideal wires (``sizing="ideal"``, the default the published
  measurements use) or memspice's DC solution of the array with its line and driver resistances
  (``sizing="wires"``: with 10 Ohm segments the ideal-wire sizing leaves most neurons of a 64 x 64 1S1R or
  a 256 x 256 TiOx array below threshold for the whole read, IR drop taking 30-60 % of the current);
* **sequence**: ``writes`` V/2 programming pulses (selected row at ``vw``, selected column at 0, every
  other line at ``vw/2``), one cell each, then a read of every row at ``vr`` for ``t_read``.

Every value here is an assumption of a plausible design (none comes from a paper): 100 Ohm drivers, op-amps
of 1e5 gain and 10 MHz GBW, a 2 V write (above the TiOx cell's 1.6 V set threshold, its half below it),
1 V reads (the TiOx model's read voltage), 50 ns DAC edges.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..circuits.cells import DesignWarning, make_cell
from ..circuits.crossbar import Crossbar
from ..circuits.lif import LIFNeuron
from ..core.choices import Choice
from ..core.units import spice_number

_n = spice_number
EDGE = 50e-9  # s, DAC edges (assumed)
#: the TIA output (V) the largest write current of a column may reach (``switched=False``) or the mean read
#: current (``switched=True``); assumed: inside the 1.5 V swing of the TIA op-amp with margin
V_OUT = 1.0
#: the word-line drivers' output resistance (Ohm): ``rdrv`` in the netlist (assumed)
R_DRIVER = 100.0


class NeuronSizing(Choice):
    """Which column read currents :func:`write_design` sizes the neurons' transconductance ``gm`` on.

    ``IDEAL``: every cell at the read voltage (ideal wires); ``WIRES``: memspice's DC solution of the array
    with its line resistances and the drivers' ``rdrv`` (what the neurons actually receive, IR drop included).
    """

    IDEAL = "ideal"
    WIRES = "wires"


def _opamp(name: str, v_sat: float) -> str:
    """Single-pole op-amp ``name inp inn out``: a 1 mS input stage into an RC (DC gain a0, GBW gbw) and a
    smooth output limit +-v_sat.  A transconductance stage instead of a gain-1e5 E source keeps the matrix
    well scaled (KLU gave up on the E-source form, "timestep too small", where Sparse 1.3 ran it)."""
    return (
        f".subckt {name} inp inn out params: a0=1e5 vsat={_n(v_sat)} gbw=10meg\n"
        "Gin 0 n1 inp inn 1m\n"
        "R1 n1 0 {a0/1m}\n"
        "C1 n1 0 {1m/(6.283185307*gbw)}\n"
        "Bout out 0 V=vsat*tanh(V(n1)/vsat)\n"
        f".ends {name}"
    )


def _pwl(points) -> str:
    return "PWL(" + " ".join(f"{_n(t)} {_n(v)}" for t, v in points) + ")"


def _levels(times, values) -> list[tuple[float, float]]:
    """A stepped waveform: ``values[k]`` from ``times[k]`` on, with EDGE-long ramps between levels."""
    pts = [(0.0, values[0])]
    for t, prev, v in zip(times[1:], values[:-1], values[1:]):
        if v != prev:
            pts += [(t, prev), (t + EDGE, v)]
    return pts


def _cell_current(cell, weights, v) -> np.ndarray:
    """Current (A) of every cell at voltage ``v`` (V), ideal wires."""
    xbar = Crossbar.of(cell, weights)
    return np.asarray(xbar.cell.current(np.full(weights.size, float(v)), xbar.cell_arrays())[0]).reshape(weights.shape)


def _read_currents(cell, weights, v, r_line: float, sizing: NeuronSizing) -> np.ndarray:
    """Column read currents (A) with every row at ``v`` (V) and the bit lines at 0 V (see NeuronSizing)."""
    if sizing is NeuronSizing.IDEAL:
        return _cell_current(cell, weights, v).sum(axis=0)
    from ..simulate import simulate_crossbar

    xbar = Crossbar.of(cell, weights, r_word=r_line, r_bit=r_line, r_source=R_DRIVER)
    with warnings.catch_warnings():  # a 1S1R read below its selector's turn-on is this design's own choice
        warnings.simplefilter("ignore", DesignWarning)
        solution = simulate_crossbar(xbar, np.full(weights.shape[0], float(v)))
    return np.abs(np.asarray(solution.output_currents)).ravel()


def write_design(
    folder,
    m: int,
    n: int | None = None,
    cell: str = "tiox",
    *,
    writes: int = 3,
    t_write: float = 1e-6,
    t_read: float = 6e-6,
    vw: float = 2.0,
    vr: float = 1.0,
    r_line: float = 10.0,
    c_line: float = 1e-15,
    neurons: bool = True,
    drive: float = 3.0,
    sizing: NeuronSizing | str = NeuronSizing.IDEAL,
    switched: bool = False,
    seed: int = 0,
    options: str = ".options reltol=1e-5 vntol=1e-8 abstol=1e-13 trtol=1",
    name: str = "design.cir",
) -> Path:
    """Write ``name`` and ``weights.npy`` into ``folder``; returns the netlist's path (see module docstring).

    ``options``: the ``.options`` line; the default (``reltol`` 1e-5, ``trtol`` 1, assumed) resolves the
    periphery's edges well enough that co-simulation and ngspice alone agree to 1e-3 of full scale.
    """
    n = m if n is None else n
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    kind = cell.lower()
    stateful = make_cell(cell).data == "state"
    weights = rng.uniform(0.2, 0.8, (m, n)) if stateful else rng.uniform(10e-6, 100e-6, (m, n))
    np.save(folder / "weights.npy", weights)
    i_read = _read_currents(cell, weights, vr, r_line, NeuronSizing.parse(sizing))  # column read currents (A)
    if switched:
        rf = V_OUT / float(np.mean(i_read))
    else:  # the largest write current of a column: one cell at vw, the others at vw / 2
        top = np.max(_cell_current(cell, np.full((1, 1), float(weights.max())), vw))
        rf = V_OUT / float(top + (m - 1) * np.max(_cell_current(cell, weights, vw / 2)))
    neuron = LIFNeuron()
    gm = drive * neuron.threshold_current / (rf * float(np.mean(i_read)))
    cells = rng.choice(m * n, size=min(writes, m * n), replace=False)
    starts = [EDGE + k * (t_write + 2 * EDGE) for k in range(len(cells))]
    t_end_write = EDGE + len(cells) * (t_write + 2 * EDGE)
    t_stop = t_end_write + t_read
    times = [0.0] + starts + [t_end_write]
    lines = [
        f"* {m}x{n} {kind} crossbar: V/2 writes through drivers, reads through op-amp TIAs"
        + (" into LIF neurons" if neurons else ""),
        f".param vw={_n(vw)} vr={_n(vr)} rdrv={_n(R_DRIVER)} gsw=10m rf={_n(rf)} gm={_n(gm)}",
        f".param rline={_n(r_line)} cline={_n(c_line)}",
        _opamp("tia_opamp", 1.5),
        _opamp("drv_opamp", 3.0),
    ]
    if neurons:
        lines.append(neuron.library().rstrip())
    t_read0 = t_end_write + EDGE
    lines.append("* phases: wr = 1 while writing, rd = 1 while reading")
    lines.append(f"Vwr wr 0 {_pwl([(0.0, 1.0), (t_end_write, 1.0), (t_read0, 0.0)])}")
    lines.append(f"Vrd rd 0 {_pwl([(0.0, 0.0), (t_end_write, 0.0), (t_read0, 1.0)])}")
    lines.append("* word-line drivers: DAC -> unity-gain buffer -> rdrv")
    idle = vw / 2
    for i in range(m):
        levels = [0.0] + [vw if cells[k] // n == i else idle for k in range(len(cells))] + [vr]
        lines += [
            f"Vdac{i} dac{i} 0 {_pwl(_levels(times, levels))}",
            f"Xbuf{i} dac{i} drv{i} drv{i} drv_opamp",
            f"Rdrv{i} drv{i} wl{i} {{rdrv}}",
        ]
    if switched:
        lines.append("* bit lines: write drivers (V/2 scheme) and op-amp TIAs, each behind a switch (gsw when on)")
    else:
        lines.append("* bit lines: op-amp TIAs whose reference (a DAC) holds the line: V/2 writes, 0 V reads")
    for j in range(n):
        levels = [0.0] + [0.0 if cells[k] % n == j else idle for k in range(len(cells))] + [0.0]
        lines.append(f"Vbdac{j} bdac{j} 0 {_pwl(_levels(times, levels))}")
        if switched:
            lines += [
                f"Xbbuf{j} bdac{j} bdrv{j} bdrv{j} drv_opamp",
                f"Bsww{j} bdrv{j} bl{j} I=V(bdrv{j},bl{j})*(gsw*V(wr)+1n)",
                f"Bswr{j} bl{j} tin{j} I=V(bl{j},tin{j})*(gsw*V(rd)+1n)",
                f"Xtia{j} 0 tin{j} out{j} tia_opamp",
                f"Rf{j} tin{j} out{j} {{rf}}",
            ]
            ref = "0"
        else:
            lines += [f"Xtia{j} bdac{j} bl{j} out{j} tia_opamp", f"Rf{j} bl{j} out{j} {{rf}}"]
            ref = f"bdac{j}"
        if neurons:
            lines += [
                f"Bin{j} 0 mem{j} I=gm*V(rd)*(V({ref})-V(out{j}))",
                f"Xn{j} mem{j} spk{j} ms_lif",
            ]
    ports = [f"wl{i}" for i in range(m)] + [f"bl{j}" for j in range(n)]
    body = [" ".join(ports[q : q + 16]) for q in range(0, len(ports), 16)]
    lines.append("* the array, marked for memspice")
    lines.append(f"Xarr {body[0]}")
    lines += [f"+ {chunk}" for chunk in body[1:]]
    lines.append(f"+ memspice_crossbar weights=weights.npy cell={cell} r_word={{rline}} r_bit={{rline}}")
    lines.append("+ c_word={cline} c_bit={cline}")
    lines += [options, f".tran {_n(t_stop / 2000)} {_n(t_stop)} uic", ".end"]
    path = folder / name
    path.write_text("\n".join(lines) + "\n")
    return path
