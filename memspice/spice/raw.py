"""Read ngspice raw files (binary or ASCII, real or complex, every plot) into :class:`Waveforms`.

spicelib's RawRead was the first choice, but its per-trace access is linear
in the number of vectors and allocates on every call: an ``.op`` of a 64x64
1S1R crossbar (12 544 vectors) exhausted 24 GB.  The ngspice binary raw
format is a short text header and one float64 (or complex128) matrix per
plot, so numpy reads it directly.  AC and other complex plots stay complex.

A file shorter than its headers promise (a full disk, a file-size limit)
raises :class:`~memspice.spice.errors.SpiceOutputError`, an ``OSError``.
"""

from __future__ import annotations

import re

import numpy as np

from ..core.waveforms import Waveforms
from .errors import SpiceOutputError

_HEADER_END = re.compile(rb"^(Binary|Values):[ \t]*\r?\n", re.M)


def _decode(b: bytes) -> str:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return b.decode("latin-1")


def _ascii_values(blob: bytes, start: int, n_vars: int, n_pts: int, complex_: bool, path):
    """Parse an ASCII ``Values:`` block; returns (data, end offset)."""
    dtype = np.complex128 if complex_ else np.float64
    data = np.empty((n_pts, n_vars), dtype=dtype)
    pos, lines_needed = start, n_pts * n_vars
    values: list = []
    while len(values) < lines_needed:
        end = blob.find(b"\n", pos)
        if end < 0:
            end = len(blob)
        line = blob[pos:end].decode("latin-1").split()
        if not line and end >= len(blob):
            raise SpiceOutputError(
                f"raw file {path} ends after {len(values) // max(n_vars, 1)} of {n_pts} "
                "points (disk full or the run was stopped?)"
            )
        pos = end + 1
        if not line:
            continue
        token = line[-1]  # "index value" on a point's first line, "value" after
        if complex_:
            re_, _, im = token.partition(",")
            values.append(complex(float(re_), float(im or 0.0)))
        else:
            values.append(float(token))
    data[:] = np.asarray(values, dtype=dtype).reshape(n_pts, n_vars)
    return data, pos


def _parse_plots(blob: bytes, path=""):
    pos = 0
    plots: list = []
    while pos < len(blob) and blob[pos:].strip():
        m = _HEADER_END.search(blob, pos)
        if not m:
            if plots:
                break
            raise SpiceOutputError(f"raw file {path} has no complete plot header (disk full or the run was stopped?)")
        header = _decode(blob[pos : m.start()])
        fields = dict((k.strip(), v.strip()) for k, v in re.findall(r"^([A-Za-z. ]+):[ \t]*(.*)$", header, re.M))
        try:
            n_vars, n_pts = int(fields["No. Variables"]), int(fields["No. Points"])
        except (KeyError, ValueError) as exc:
            raise SpiceOutputError(f"raw file {path}: unreadable header ({exc})") from exc
        complex_ = "complex" in fields.get("Flags", "").lower()
        var_block = re.split(r"^Variables:[ \t]*$", header, maxsplit=1, flags=re.M)[1]
        var_lines = [ln.split() for ln in var_block.strip().splitlines()[:n_vars]]
        names = [v[1] for v in var_lines]
        start = m.end()
        if m.group(1) == b"Binary":
            dtype = np.dtype(np.complex128 if complex_ else np.float64)
            count = n_vars * n_pts
            if start + count * dtype.itemsize > len(blob):
                raise SpiceOutputError(
                    f"raw file {path} is truncated: plot {fields.get('Plotname', '?')!r} needs "
                    f"{count * dtype.itemsize} bytes, {len(blob) - start} are there (disk full or a file-size "
                    "limit?)"
                )
            data = np.frombuffer(blob, dtype=dtype, count=count, offset=start).reshape(n_pts, n_vars).copy()
            pos = start + count * dtype.itemsize
        else:
            data, pos = _ascii_values(blob, start, n_vars, n_pts, complex_, path)
        plots.append((fields.get("Plotname", ""), names, data))
    if not plots:
        raise SpiceOutputError(f"no plot found in raw file {path} (empty file: disk full?)")
    return plots


def _to_waveforms(plot: str, names: list[str], data: np.ndarray) -> Waveforms:
    lowered = [n.lower() for n in names]
    if np.iscomplexobj(data) and not np.any(data.imag):
        if "ac" not in plot.lower() and "frequency" not in lowered[:1]:
            data = data.real
    if "operating point" in plot.lower() or not lowered:
        return Waveforms(np.zeros(1), {n: data[:1, k] for k, n in enumerate(lowered)}, "index", title=plot)
    axis_name = lowered[0]
    sweep = re.match(r"^[vi]\((.*-sweep)\)$", axis_name)
    signals = {n: data[:, k] for k, n in enumerate(lowered) if k > 0}
    return Waveforms(np.real(data[:, 0]).copy(), signals, sweep.group(1) if sweep else axis_name, title=plot)


def read_raw_plots(path) -> list[Waveforms]:
    """Every plot of an ngspice raw file (binary or ASCII), in file order; the first vector is the axis.

    Complex plots (AC, S-parameters, noise) keep complex signals; their axis
    (frequency) is real.  Operating points get an ``index`` axis of length 1.
    """
    with open(path, "rb") as fh:
        blob = fh.read()
    return [_to_waveforms(*p) for p in _parse_plots(blob, path)]


def read_raw(path) -> Waveforms:
    """The last plot of an ngspice raw file (see :func:`read_raw_plots` for all of them)."""
    return read_raw_plots(path)[-1]
