"""Read ngspice raw files (binary or ASCII) into :class:`Waveforms` via spicelib."""
from __future__ import annotations

import re

import numpy as np
from spicelib import RawRead

from ..analysis.waveforms import Waveforms


def read_raw(path) -> Waveforms:
    """Load the (last) plot of an ngspice raw file; the first vector is the axis."""
    raw = RawRead(str(path), verbose=False, dialect="ngspice")
    names = raw.get_trace_names()
    if not names:
        raise ValueError(f"raw file {path} holds no vectors")
    plot = str(raw.raw_params.get("Plotname", ""))
    data = {n: np.real(np.asarray(raw.get_trace(n).get_wave())) for n in names}
    axis_name = names[0]
    sweep = re.match(r"^[vi]\((.*-sweep)\)$", axis_name.lower())
    if "operating point" in plot.lower():
        # no axis: one point; keep every vector as a signal
        return Waveforms(np.zeros(1), {n: np.atleast_1d(v)[:1] for n, v in data.items()}, "index", title=plot)
    axis = data.pop(axis_name)
    return Waveforms(axis, data, sweep.group(1) if sweep else axis_name.lower(), title=plot)
