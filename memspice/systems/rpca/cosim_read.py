"""The RPCA forward read through real op-amp TIAs, by co-simulation.

:meth:`TiOxArray.forward <memspice.systems.rpca.array.TiOxArray.forward>` (the projection read of the RPCA
controller: a frame column as bit-serial DAC planes on the word lines, TIA k reading column k, ADC,
shift-and-add, digital reference) models the TIA by its DC transfer (finite gain, input resistance, clip).
:func:`forward_read` runs the same read as a circuit: the 32 x 32 TiOx array (its states, wire resistance)
marked for memspice, one op-amp TIA per column in ngspice (:class:`memspice.circuits.periphery.OpAmpTIA`:
the single-pole macromodel with the array's gain, bandwidth, feedback and swing), the DAC planes as PWL
sources, one read slot per (column, plane); each TIA output is sampled at the end of its slot (settled) and
goes through the same ADC, shift-and-add and reference as the fast path.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from ...circuits.periphery import OpAmpTIA, adc_quantize
from ...core.units import spice_number
from ...models import TiOx
from .array import IDEAL_DAC_PLANES, TiOxArray

EDGE = 10e-9  # s, DAC edges (assumed)
#: time per (column, plane) read, s.  Measured with the default TIA (OpAmpTIA r_f 40 kOhm, gain 1e3, 10 MHz
#: GBW) on a 32 x 32 tile: the first read after the inputs switch from 0 is 2.6e-3 short of its DC value
#: after 0.5 us, 2.4e-4 after 2 us (the macromodel settles more slowly than its small-signal time constant)
SLOT = 2e-6
#: ngspice tolerances of the read (assumed: tight enough that the sampled outputs carry no solver error
#: above 1e-5 of the TIA swing)
OPTIONS = ".options reltol=1e-6 vntol=1e-9 abstol=1e-14"


def _planes(array: TiOxArray, y_tile):
    bits = array.nonideal.dac_bits if array.nonideal.dac_bits is not None else IDEAL_DAC_PLANES
    top = 2**bits - 1
    codes = np.round(np.clip(y_tile, 0, 1) * top).astype(np.int64)  # (m, n)
    planes = (codes[..., None] >> np.arange(bits - 1, -1, -1)) & 1  # (m, n, B): MSB first
    return codes, planes, bits, top


def write_netlist(array: TiOxArray, y, folder, tile: int = 0, slot: float = SLOT, columns=None) -> tuple[Path, list]:
    """Netlist (and ``states.npy``) of the forward read of ``columns`` (default all) of one tile.

    Returns the netlist's path and the read schedule: (column k, plane b, sample time s) per slot.
    """
    if array.device.params != TiOx().params:
        raise ValueError("forward_read marks the array as cell=tiox: it needs the default TiOx device")
    _, m, n = array.shape
    y = np.asarray(y, float)
    if y.shape != array.shape:
        raise ValueError(f"y must have shape {array.shape}, got {y.shape}")
    tia = array.nonideal.tia or OpAmpTIA(r_f=40e3, v_sat=1.5)
    cols = list(range(n)) if columns is None else [int(k) for k in columns]
    _, planes, bits, _ = _planes(array, y[tile])
    v_read = array.config.v_read
    schedule, levels = [], np.zeros((m, len(cols) * bits))
    for s, (k, b) in enumerate((k, b) for k in cols for b in range(bits)):
        levels[:, s] = planes[:, k, b] * v_read
        schedule.append((k, b, (s + 1) * slot))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "states.npy", np.clip(array.state[tile], 0.0, 1.0))
    lines = [f"* RPCA forward read: {m} x {n} TiOx tile through op-amp TIAs ({len(schedule)} read slots)"]
    lines.append(tia.library().rstrip())
    lines.append("* bit-serial DAC planes on the word lines")
    for i in range(m):
        pts = [(0.0, 0.0)]
        for s in range(levels.shape[1]):
            prev = levels[i, s - 1] if s else 0.0
            if levels[i, s] != prev:
                pts += ([(s * slot, prev)] if s else []) + [(s * slot + EDGE, levels[i, s])]
        pts.append((levels.shape[1] * slot, levels[i, -1]))
        lines.append(f"Vw{i} in{i} 0 PWL(" + " ".join(f"{spice_number(t)} {spice_number(v)}" for t, v in pts) + ")")
    lines.append("* one op-amp TIA per column")
    lines += [tia.column(j, f"s{j}", 0.0).rstrip() for j in range(n)]
    ports = [f"in{i}" for i in range(m)] + [f"s{j}" for j in range(n)]
    lines.append("Xtile " + " ".join(ports[:16]))
    lines += ["+ " + " ".join(ports[q : q + 16]) for q in range(16, len(ports), 16)]
    r = spice_number(array.nonideal.r_wire)
    lines.append(f"+ memspice_crossbar weights=states.npy cell=tiox r_word={r} r_bit={r}")
    t_stop = len(schedule) * slot
    lines += [OPTIONS, f".tran {spice_number(slot / 50)} {spice_number(t_stop)} 0 {spice_number(slot / 20)}", ".end"]
    path = folder / "forward_read.cir"
    path.write_text("\n".join(lines) + "\n")
    return path, schedule


def forward_read(array: TiOxArray, y, tile: int = 0, slot: float = SLOT, columns=None, timeout: float = 3600.0) -> dict:
    """Projection read of one tile through op-amp TIAs (co-simulated) beside :meth:`TiOxArray.forward`.

    ``y``: (tiles, m, n) inputs in [0, 1], as for ``forward``; ``slot``: time per (column, plane) read (s,
    default :data:`SLOT`); ``columns``: the
    columns to read (default all).  The array's read noise must be off (``read_noise=0``): the circuit has
    none, and the comparison would measure the noise.

    Returns a dict: ``circuit`` and ``fast`` (the projections P[k] of the read columns), ``outputs`` (the
    sampled TIA voltages, (columns, planes), V), ``columns`` and ``statistics`` (the co-simulation's counters).
    """
    from ...cosim import cosimulate

    ni = array.nonideal
    if ni.read_noise != 0:
        raise ValueError("forward_read compares with the fast path: set NonIdealities(read_noise=0)")
    y = np.asarray(y, float)
    tia = ni.tia or OpAmpTIA(r_f=40e3, v_sat=1.5)
    cols = list(range(array.shape[2])) if columns is None else [int(k) for k in columns]
    with tempfile.TemporaryDirectory(prefix="memspice-rpca-cosim-") as tmp:
        path, schedule = write_netlist(array, y, tmp, tile, slot, cols)
        res = cosimulate(path, timeout=timeout, progress=False)
    w = res.waveforms
    codes, _, bits, top = _planes(array, y[tile])
    outputs = np.zeros((len(cols), bits))
    for k, b, t in schedule:
        outputs[cols.index(k), b] = float(np.interp(t, w.time, w[f"v(out{k})"]))
    v = outputs
    if ni.adc_bits is not None:
        v = -adc_quantize(-v, ni.adc_bits, tia.v_sat, signed=False)[1]
    currents = -v / tia.r_f  # the controller converts with the nominal feedback resistance
    weights = 2.0 ** np.arange(bits - 1, -1, -1) / top
    meas = currents @ weights
    y_q = codes.sum(axis=0)[cols] / top
    circuit = (meas - array.i_off * y_q) / (array.i_on - array.i_off)
    fast = array.forward(y)[tile][cols]
    return {"circuit": circuit, "fast": fast, "outputs": outputs, "columns": cols, "statistics": res.statistics}
