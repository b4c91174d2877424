"""Read ngspice raw files (binary, real or complex) into :class:`Waveforms`.

spicelib's RawRead was the first choice, but its per-trace access is linear
in the number of vectors and allocates on every call: an ``.op`` of a 64x64
1S1R crossbar (12 544 vectors) exhausted 24 GB.  The ngspice binary raw
format is a short text header and one float64 (or complex128) matrix, so
numpy reads it directly.  Only the last plot in the file is returned.
"""
from __future__ import annotations

import re

import numpy as np

from ..analysis.waveforms import Waveforms


def _parse_plots(blob: bytes):
    pos, plots = 0, []
    while pos < len(blob):
        end = blob.find(b"Binary:\n", pos)
        ascii_end = blob.find(b"Values:\n", pos)
        if end < 0 and ascii_end < 0:
            break
        binary = end >= 0 and (ascii_end < 0 or end < ascii_end)
        stop = end if binary else ascii_end
        header = blob[pos:stop].decode("latin-1")
        fields = dict(re.findall(r"^([A-Za-z. ]+):\s*(.*)$", header, flags=re.M))
        n_vars, n_pts = int(fields["No. Variables"]), int(fields["No. Points"])
        complex_ = "complex" in fields.get("Flags", "")
        var_block = re.split(r"^Variables:\s*$", header, maxsplit=1, flags=re.M)[1]
        names = [ln.split()[1] for ln in var_block.strip().splitlines()[:n_vars]]
        start = stop + len(b"Binary:\n" if binary else b"Values:\n")
        if not binary:
            raise ValueError("ASCII raw files are not supported; ngspice writes binary by default")
        dtype = np.complex128 if complex_ else np.float64
        count = n_vars * n_pts
        data = np.frombuffer(blob, dtype=dtype, count=count, offset=start).reshape(n_pts, n_vars)
        plots.append((fields.get("Plotname", "").strip(), names, data))
        pos = start + count * np.dtype(dtype).itemsize
    if not plots:
        raise ValueError("no plot found in raw file")
    return plots


def read_raw(path) -> Waveforms:
    """Load the last plot of an ngspice binary raw file; the first vector is the axis."""
    with open(path, "rb") as fh:
        blob = fh.read()
    plot, names, data = _parse_plots(blob)[-1]
    data = np.real(data)
    lowered = [n.lower() for n in names]
    if "operating point" in plot.lower():
        return Waveforms(np.zeros(1), {n: data[:1, k] for k, n in enumerate(lowered)}, "index", title=plot)
    axis_name = lowered[0]
    sweep = re.match(r"^[vi]\((.*-sweep)\)$", axis_name)
    signals = {n: data[:, k] for k, n in enumerate(lowered) if k > 0}
    return Waveforms(data[:, 0].copy(), signals, sweep.group(1) if sweep else axis_name, title=plot)
