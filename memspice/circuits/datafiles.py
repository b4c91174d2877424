"""A designer's own data: weight matrices and input vectors from CSV / NPY files, mapped onto a crossbar.

One orientation everywhere on the command line and in these files:

* **weights**: rows = word lines (inputs), columns = outputs, shape (m, k) -- the layout of
  ``Crossbar.conductances``;
* **inputs**: rows = input vectors, columns = word lines, shape (p, m) in V (a single row or a
  1-D file is one vector);
* **outputs**: rows = input vectors, columns = output columns, shape (p, k) -- the layout of
  ``CrossbarSolution.output_currents``.

The Python API uses the same orientation: ``solve_dc``, ``simulate_crossbar`` and the many-vector
reads take inputs (p, m) and return outputs (p, n).

Weight mapping (:func:`map_weights`), with :data:`~memspice.circuits.weights.G_MIN` /
:data:`~memspice.circuits.weights.G_MAX` = 6.1 uS / 202.1 uS (TaOx/HfOx 1T1R pulsed range, Shi et
al. 2025) unless given:

* all weights >= 0: one cell per weight, ``G = g_min + (w / max w) (g_max - g_min)``
  (:func:`~memspice.circuits.weights.conductance_map`);
* any weight < 0: two columns per weight, ``G+ = g_min + s max(w, 0)``, ``G- = g_min + s max(-w, 0)``
  with ``s = (g_max - g_min) / max|w|`` S per unit weight, columns ordered ``[w0+, w0-, w1+, ...]``
  (:func:`~memspice.circuits.weights.differential_pair`); the output of weight column ``j`` is
  ``I+ - I- = s (W^T v)_j`` for an ideal array;
* stateful cells (``tiox``, ``memristor``) take states in [0, 1] instead of conductances:
  ``x = w / max w`` (signed: ``x+ = max(w, 0) / max|w|``, ``x- = max(-w, 0) / max|w|``); the cell's
  own current law then makes outputs nonlinear in the weights.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .weights import G_MAX, G_MIN, conductance_map, differential_outputs, differential_pair

#: file suffixes read as text tables (comma, semicolon, tab or space separated)
TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".dat")


def load_matrix(path, what: str = "file") -> np.ndarray:
    """A 2-D float array from ``.npy``, ``.npz`` (one array) or a text table (CSV, TSV, spaces).

    Header rule (text tables): the first row is a header when **none** of its fields is a number and it has
    as many fields as the data rows; it is then skipped.  A row that mixes numbers and text (``O.1,0.2``: a
    typo, not a header) is an error naming the file, line and field, as is any text after the first row;
    numbers are decimals with an optional exponent (``-1.5e-3``).  A 1-D array becomes one row.
    Raises ``ValueError`` naming ``what`` (e.g. ``"--weights"``) and the file for anything else:
    a missing file, an unknown suffix, ragged rows, text cells, NaN or inf.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what}: no such file {str(path)!r}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            arr = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                if len(z.files) != 1:
                    raise ValueError(
                        f"{what}: {path} holds {len(z.files)} arrays ({', '.join(z.files)}); save exactly one"
                    )
                arr = z[z.files[0]]
        elif suffix in TEXT_SUFFIXES or suffix == "":
            arr = _read_table(path, what)
        else:
            raise ValueError(f"{what}: {path} has suffix {suffix!r}; use .csv, .txt, .tsv, .npy or .npz")
    except (OSError, EOFError) as exc:  # unreadable or a truncated .npy
        raise ValueError(f"{what}: cannot read {path}: {exc}") from None
    except ValueError as exc:  # numpy's own words for a cut-short .npy/.npz ("cannot reshape array of size ...")
        if str(exc).startswith(f"{what}: "):
            raise
        raise ValueError(f"{what}: {path} is not a complete NumPy file (cut short or damaged?): {exc}") from None
    if np.iscomplexobj(arr) or arr.dtype.kind not in "biuf":
        raise ValueError(f"{what}: {path} must hold real numbers, got dtype {arr.dtype}")
    arr = np.asarray(arr, float)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{what}: {path} must hold a non-empty 1-D or 2-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        i, j = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{what}: {path} has a non-finite value at row {i}, column {j}: {arr[i, j]!r}")
    return arr


#: what a table field must look like to be a number: a decimal with optional exponent, or nan / inf (refused
#: later as non-finite, with their place); stricter than ``float()``, which also reads "1_000" and
#: non-ASCII digits
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|inf|infinity)", re.IGNORECASE)


def _is_number(text: str) -> bool:
    return _NUMBER.fullmatch(text) is not None


def _read_table(path: Path, what: str) -> np.ndarray:
    """Numbers of a text table; the header rule is :func:`load_matrix`'s."""
    text = path.read_text(encoding="utf-8-sig")
    lines = [(k + 1, ln) for k, ln in enumerate(text.splitlines()) if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise ValueError(f"{what}: {path} is empty")
    try:
        dialect = csv.Sniffer().sniff(lines[0][1], delimiters=",;\t ")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    table = []
    for (line, _), row in zip(lines, csv.reader([ln for _, ln in lines], delimiter=delimiter, skipinitialspace=True)):
        cells = [c.strip() for c in row if c.strip() != ""] if delimiter == " " else [c.strip() for c in row]
        table.append((line, cells))
    header = None
    if table and not any(_is_number(c) for c in table[0][1]):
        header = table.pop(0)
    rows = []
    for line, cells in table:
        bad = [k for k, c in enumerate(cells) if not _is_number(c)]
        if bad:
            k = bad[0]
            kind = "text" if len(bad) == len(cells) else f"a mix of numbers and text ({len(bad)} of {len(cells)})"
            where = "" if header is not None or line != table[0][0] else "; a header row has no numbers at all"
            raise ValueError(
                f"{what}: {path} line {line}, field {k + 1}: {cells[k]!r} is not a number (the row holds {kind}{where})"
            )
        rows.append([float(c) for c in cells])
    if not rows:
        raise ValueError(f"{what}: {path} has a header but no numbers")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise ValueError(f"{what}: {path} has rows of different lengths {sorted(widths)}")
    if header is not None and len(header[1]) != len(rows[0]):
        raise ValueError(
            f"{what}: {path} line {header[0]} has no numbers, so it would be a header, but it has "
            f"{len(header[1])} fields and the data rows {len(rows[0])}; fix the header or the first row"
        )
    return np.array(rows, float)


def load_inputs(path, rows: int, what: str = "--inputs") -> np.ndarray:
    """Input vectors (p, m) in V from a file whose rows are vectors and columns word lines.

    ``rows`` is the crossbar's word-line count m; a file with m rows but not m columns is
    refused with a hint that it looks transposed.
    """
    v = load_matrix(path, what)
    if v.shape[1] != rows:
        hint = " (it looks transposed: rows must be vectors, columns word lines)" if v.shape[0] == rows else ""
        raise ValueError(
            f"{what}: {path} has {v.shape[1]} columns, the crossbar has {rows} word lines; one "
            f"column per word line, one row per input vector{hint}"
        )
    return v


@dataclass(frozen=True)
class WeightMapping:
    """How a weight matrix became cell values; see the module docstring for the formulas.

    Attributes
    ----------
    signed : bool
        Differential G+/G- column pairs (any weight < 0).
    g_min, g_max : float
        Conductance range, S (conductance cells).
    scale : float
        S per unit weight (``(g_max - g_min) / max|w|``); for stateful cells, state per unit weight.
    weight_columns : int
        k, the weight matrix's columns (array columns: k, or 2k when signed).
    data : str
        ``"conductances"`` or ``"state"``: what the cell values are.
    """

    signed: bool
    g_min: float
    g_max: float
    scale: float
    weight_columns: int
    data: str = "conductances"

    def outputs(self, column_currents) -> np.ndarray:
        """Array column currents (..., columns) -> one output per weight column (..., k), A."""
        c = np.asarray(column_currents)
        return differential_outputs(c) if self.signed else c

    def describe(self) -> str:
        """One line stating the mapping (for logs and the command line)."""
        if self.data == "state":
            kind = (
                "x+ = max(w,0)/max|w|, x- = max(-w,0)/max|w| in column pairs [w0+, w0-, ...]"
                if self.signed
                else "x = w/max(w)"
            )
            return f"weights -> cell states: {kind}"
        if self.signed:
            return (
                f"signed weights -> G+/G- column pairs [w0+, w0-, ...]: G+ = {self.g_min:.4g} S + s max(w,0), "
                f"G- = {self.g_min:.4g} S + s max(-w,0), s = {self.scale:.4g} S per unit weight; "
                f"output I+ - I- = s W^T v"
            )
        return (
            f"weights -> conductances: G = {self.g_min:.4g} S + w/max(w) x {self.g_max - self.g_min:.4g} S "
            f"({self.scale:.4g} S per unit weight)"
        )


def map_weights(
    weights, data: str = "conductances", g_min: float = G_MIN, g_max: float = G_MAX
) -> tuple[np.ndarray, WeightMapping]:
    """Weights (m, k) -> cell values (m, k) or (m, 2k) and the :class:`WeightMapping` used.

    ``data`` is the cell kind's ``Cell.data``: ``"conductances"`` (S, within [g_min, g_max]) or
    ``"state"`` ([0, 1]).
    """
    w = np.asarray(weights, float)
    if w.ndim != 2 or w.size == 0 or not np.all(np.isfinite(w)):
        raise ValueError(f"weights must be a finite, non-empty 2-D matrix, got shape {w.shape}")
    if data not in ("conductances", "state"):
        raise ValueError(f"data must be 'conductances' or 'state', got {data!r}")
    signed = bool(np.any(w < 0))
    peak = float(np.max(np.abs(w)))
    k = w.shape[1]
    if data == "state":
        scale = 1.0 / peak if peak > 0 else 0.0
        if signed:
            x = np.empty((w.shape[0], 2 * k))
            x[:, 0::2], x[:, 1::2] = scale * np.maximum(w, 0), scale * np.maximum(-w, 0)
        else:
            x = w * scale
        return x, WeightMapping(signed, g_min, g_max, scale, k, "state")
    if signed:
        g, scale = differential_pair(w, g_min, g_max)
    else:
        g = conductance_map(w, g_min, g_max)
        scale = (g_max - g_min) / peak if peak > 0 else 0.0
    return g, WeightMapping(signed, g_min, g_max, scale, k)


def outputs_csv(blocks) -> str:
    """CSV text: a ``vector`` column, then each block's columns side by side.

    ``blocks``: sequence of ``(values (p, k), names (k), unit)``; headers read ``name [unit]`` (just
    ``name`` for an empty unit).  Integer arrays (ADC codes) are written as integers, floats with
    full precision.
    """
    blocks = [(np.asarray(values), list(names), unit) for values, names, unit in blocks]
    if not blocks:
        raise ValueError("outputs_csv needs at least one block")
    p = blocks[0][0].shape[0]
    header = ["vector"]
    for values, names, unit in blocks:
        if values.ndim != 2 or values.shape != (p, len(names)):
            raise ValueError(f"block {names[:2]}... has shape {values.shape}, expected ({p}, {len(names)})")
        header += [f"{n} [{unit}]" if unit else n for n in names]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    cols = [v.tolist() if v.dtype.kind in "iu" else [[repr(float(x)) for x in row] for row in v] for v, _, _ in blocks]
    for k in range(p):
        w.writerow([k] + [x for c in cols for x in c[k]])
    return buf.getvalue()
