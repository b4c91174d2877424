"""What several subcommands share: option types, option groups, and how results are written and shown.

Library logic does not live here: a subcommand turns options into a call of the library and prints
or saves the result.  Option names are one vocabulary across subcommands (``--r-word``/``--r-bit``
wire resistance, ``--v-read`` the largest random read input, ``--dac-full-scale``/``--adc-full-scale``
the converters' ranges, ``--variation`` the log-normal sigma, ``--timeout`` seconds per ngspice run);
the option groups below are how that stays so.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import sys
from pathlib import Path

from ..core.files import write_atomic


# --- option types (argparse ``type=``; argparse names the option in the error) ----------------------------
def number(kind, low=None, high=None, low_open=False, allow_inf=False):
    """``type=``: a number of ``kind`` within bounds; the error names the bound broken."""

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'an integer' if kind is int else 'a number'}, got {text!r}"
            ) from None
        if kind is float and (math.isnan(value) or (math.isinf(value) and not allow_inf)):
            raise argparse.ArgumentTypeError(
                f"must be a {'number' if allow_inf else 'finite number'} (not NaN), got {text!r}"
            )
        if low is not None and (value <= low if low_open else value < low):
            raise argparse.ArgumentTypeError(f"must be {'>' if low_open else '>='} {low}, got {text!r}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be <= {high}, got {text!r}")
        return value

    parse.__name__ = kind.__name__
    return parse


COUNT = number(int, 1)  # rows, columns, sizes
INDEX = number(int, 0)  # seeds, row/column/vector indices (from 0)
FINITE = number(float)  # voltages, currents
NONNEG = number(float, 0.0)  # resistances (0 = ideal wire)
POSITIVE = number(float, 0.0, low_open=True)  # conductances, times, gains
FRACTION = number(float, 0.0, 1.0)  # stuck-at fractions
BITS = number(int, 1, 24)  # converter resolutions
BITS_OR_NONE = number(int, 0, 24)  # sweeps: 0 = no converter
TIMEOUT = number(float, 0.0, low_open=True, allow_inf=True)

CELL_NAMES = ("1R", "1S1R", "1T1R", "tiox", "memristor")


def CELL(text):  # noqa: N802 - an argparse type, named like the others
    """``type=``: a cell kind, case-insensitive (``1s1r``, ``TiOx``)."""
    for name in CELL_NAMES:
        if text.strip().lower() == name.lower():
            return name
    raise argparse.ArgumentTypeError(f"expected one of {', '.join(CELL_NAMES)} (any case), got {text!r}")


# --- shared texts ----------------------------------------------------------------------------------------
ORIENTATION = (
    "Files: --weights/--conductances rows = word lines (inputs), columns = outputs; --inputs rows = "
    "input vectors, columns = word lines (V); output CSV rows = input vectors (numbered from 0), columns = "
    "outputs. CSV (comma/semicolon/tab/space, optional header row) or .npy/.npz."
)
WEIGHT_MAPPING = (
    "Weights >= 0: G = g_min + w/max(w) (g_max - g_min). Any weight < 0: G+/G- column pairs "
    "[w0+, w0-, ...], G+ = g_min + s max(w,0), G- = g_min + s max(-w,0), s = (g_max - g_min)/max|w| "
    "S per unit weight; outputs are I+ - I- = s W^T v. tiox/memristor cells: states x = w/max|w|. "
    "g_min/g_max default 6.1 µS / 202.1 µS (Shi et al. 2025 1T1R pulsed range)."
)
TABLES = "Table columns carry their unit as a suffix (i0_A, v_out0_V, r_word_ohm), the convention of every table."


# --- option groups ---------------------------------------------------------------------------------------
def add_array_options(parser, defaults: bool = True) -> None:
    """The physical options of an array (:class:`memspice.circuits.array_options.ArrayOptions`), one each."""
    from ..circuits.array_options import ArrayOptions

    d = ArrayOptions()
    show = (lambda value, unit="": f" (default {value:g}{unit})") if defaults else (lambda value, unit="": "")
    g = parser.add_argument_group("array")
    g.add_argument("--cell", type=CELL, help="cell kind, any case: " + ", ".join(CELL_NAMES) + " (default 1R)")
    g.add_argument("--r-word", type=NONNEG, help="word-line resistance per segment, Ohm" + show(d.r_word))
    g.add_argument("--r-bit", type=NONNEG, help="bit-line resistance per segment, Ohm" + show(d.r_bit))
    g.add_argument("--r-source", type=NONNEG, help="driver (DAC) output resistance, Ohm" + show(d.r_source))
    g.add_argument("--r-sense", type=NONNEG, help="sense resistance before each TIA, Ohm" + show(d.r_sense))
    g.add_argument("--g-min", type=POSITIVE, help="lowest cell conductance, S" + show(d.g_min))
    g.add_argument("--g-max", type=POSITIVE, help="highest cell conductance, S" + show(d.g_max))
    g.add_argument("--variation", type=NONNEG, help="log-normal device-to-device sigma (e.g. 0.1; default 0)")
    g.add_argument("--stuck-off", type=FRACTION, help="fraction of cells stuck at g_min (default 0)")
    g.add_argument("--stuck-on", type=FRACTION, help="fraction of cells stuck at g_max (default 0)")
    g.add_argument("--seed", type=INDEX, help="seed of random weights, inputs, variation and faults (default 0)")


def array_options(args):
    """:class:`~memspice.circuits.array_options.ArrayOptions` from the options of :func:`add_array_options`."""
    from ..circuits.array_options import ArrayOptions

    return ArrayOptions().replace(**{k: getattr(args, k, None) for k in ArrayOptions.names()})


def add_own_data(parser, required: bool = False):
    """``--weights FILE`` / ``--conductances FILE`` (one of them) and ``--inputs FILE``."""
    g = parser.add_argument_group("your own data", ORIENTATION + " " + WEIGHT_MAPPING)
    own = g.add_mutually_exclusive_group(required=required)
    own.add_argument("--weights", metavar="FILE", help="weight matrix (word lines x outputs); signs decide G+/G- pairs")
    own.add_argument("--conductances", metavar="FILE", help="conductance matrix in S (word lines x columns), as is")
    g.add_argument("--inputs", metavar="FILE", required=required, help="input vectors, V (vectors x word lines)")
    return g


def crossbar_from_files(args, options=None):
    """(Crossbar, WeightMapping or None) from ``--weights``/``--conductances`` and the array options."""
    from ..circuits.datafiles import load_matrix

    options = options or array_options(args)
    kind = "conductances" if getattr(args, "conductances", None) else "weights"
    path = getattr(args, kind)
    values = load_matrix(path, f"--{kind}")
    check_memory(f"--{kind} {values.shape[0]}x{values.shape[1]}", values.size)
    return options.crossbar(values, kind, what=f"--{kind} {path}")


def add_ngspice_options(parser) -> None:
    """``--mode`` and ``--timeout`` of a command that runs ngspice (one default: memspice.spice.DEFAULT_TIMEOUT)."""
    from ..spice.job import DEFAULT_TIMEOUT

    parser.add_argument(
        "--mode",
        choices=["batch", "shared"],
        default="batch",
        help="how ngspice runs: batch (default; a child 'ngspice -b' process in a private folder, safest) or "
        "shared (libngspice in a worker process; no raw file)",
    )
    parser.add_argument(
        "--timeout",
        type=TIMEOUT,
        default=DEFAULT_TIMEOUT,
        help=f"seconds before an ngspice run is stopped (default {DEFAULT_TIMEOUT:g}, as in Python; inf: no limit)",
    )


def add_figure(parser, what: str) -> None:
    parser.add_argument("--figure", metavar="FILE", help=f"{what} to a .png/.pdf/.svg/.jpg file")


def add_threads(parser) -> None:
    """``--threads N`` on a command that runs the sparse solver (:func:`memspice.solver.set_threads`)."""
    parser.add_argument(
        "--threads",
        type=COUNT,
        metavar="N",
        help="threads for the sparse solver's compiled kernels (default: all cores numba may use, or "
        "$MEMSPICE_THREADS); also passed to worker processes",
    )


def apply_threads(count) -> None:
    """Set the solver's thread count from ``--threads`` (and for worker processes through the environment)."""
    if count is None:
        return
    from ..solver import set_threads
    from ..solver.threads import ENV

    try:
        set_threads(count)
    except ValueError as exc:
        raise ValueError(f"--threads {count}: {exc}") from None
    os.environ[ENV] = str(count)


# --- memory ----------------------------------------------------------------------------------------------
#: assumed peak memory per crossbar cell while a netlist is built and written, bytes: measured 430-490 B
#: (tracemalloc, 200x200, every cell kind, Python 3.11), rounded up for the interpreter's own overhead
BYTES_PER_CELL = 600


def check_memory(what: str, cells: int, vectors: int = 1, bytes_per_cell: int = BYTES_PER_CELL) -> None:
    """Refuse (ValueError naming ``what``) work whose estimate ``cells*vectors*bytes_per_cell`` exceeds half
    the available memory, before anything is allocated."""
    from ..solver.dc import available_memory

    need, avail = cells * vectors * bytes_per_cell, available_memory()
    if avail is not None and need > avail // 2:
        raise ValueError(
            f"{what}: {cells:,} cells x {vectors} vector(s) need about {need / 1e9:.3g} GB "
            f"({bytes_per_cell} B per cell), more than half of the {avail / 1e9:.3g} GB available; "
            "use a smaller array (the sparse solver handles large arrays without a netlist)"
        )


# --- output ----------------------------------------------------------------------------------------------
def write_text(output, text: str) -> None:
    """``text`` to the file ``output`` (atomically), or to the terminal for None or ``-``."""
    if output in (None, "-"):
        sys.stdout.write(text)
    else:
        write_atomic(output, text)
        print(f"wrote {output} ({len(text.splitlines())} lines)")


FIGURE_FORMATS = ("png", "pdf", "svg", "jpg", "jpeg")


def check_figure_path(path, option: str = "--figure") -> None:
    """Refuse a figure file whose suffix matplotlib would not write, before any work is done."""
    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"{option} {path}: use a .png, .pdf, .svg or .jpg file")


def save_figure(draw, path) -> None:
    """The Figure ``draw()`` returns, saved atomically to ``path`` (format from the suffix), then closed.

    A command line has no window to show figures in: matplotlib's non-interactive backend is used
    unless pyplot is already loaded (a notebook calling ``main``).
    """
    check_figure_path(path)
    if "matplotlib.pyplot" not in sys.modules:
        import matplotlib

        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    fig = draw()
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format=fmt, dpi=150)
    finally:
        plt.close(fig)
    write_atomic(path, buf.getvalue())


def progress_wanted() -> bool:
    from ..core.progress import enabled

    return enabled(None)
