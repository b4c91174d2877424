"""All input vectors of a multi-vector crossbar read in ONE ngspice run.

The crossbar netlist of :func:`~memspice.netlists.crossbar_netlist` (word-line
drivers ``Vin<i>``, 0 V sense sources ``Vsense<j>``) gets a ``.control`` block
that holds every input vector as an ngspice vector (``compose``) and loops
over them: ``alter`` sets each word-line source's DC value, ``op`` solves the
operating point, one plot per input vector (``op1``, ``op2``, ...).  A
``.save`` line keeps only the column currents ``i(vsense<j>)``, so the raw
file holds p x n numbers, not every node of every run.

Compared with one ngspice process per input vector this parses the netlist and
builds the matrix once; KLU re-factorises per vector (values change, pattern
does not).  Word lines whose input is the same in every vector are written as
plain DC sources and never altered.

Numbers in the control language.  ``compose NAME values ...`` parses its
arguments as *expressions*: ``values 0.1 -0.05`` is the one value 0.05
(0.1 minus 0.05), not two.  Every value is therefore written as a
parenthesised, exactly round-tripping literal, ``(0.1) (-0.05)``
(:func:`control_number`), which ngspice cannot join with its neighbour
whatever its sign, magnitude or format.  The run checks itself as well:
the control block refuses a composed vector whose length differs from the
number of input vectors, and every operating point's word-line driver
voltages ``v(in<i>)`` are read back and compared with the inputs sent
(:func:`operating_points`), so a value ngspice read differently is an error,
never a silently wrong current.

``alter``/``op`` in a ``.control`` loop is the ngspice manual's documented way
to rerun an analysis with changed source values (ngspice manual, chapter
"Interactive Interpreter", commands ``alter``, ``compose``, ``while``); a
``.dc`` sweep cannot sweep m sources along independent tables.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..core.faces import Face
from ..spice.job import DEFAULT_TIMEOUT
from .crossbar import crossbar_netlist
from .dialects import Dialect

__all__ = ["multi_vector_netlist", "read_many_ngspice", "VALUES_PER_LINE"]

#: numbers per ``compose`` command; long vectors are built in pieces joined with ``let``.  Assumed limit,
#: chosen well below line lengths that ngspice 46 was seen to read (10 000 values on one line work)
VALUES_PER_LINE = 2000
_PREFIX = "mv"


#: largest |difference| between a word-line voltage ngspice applied and the one sent, relative to the
#: largest input of the run; the values travel as exact decimal literals and come back as binary doubles,
#: so anything above rounding is a misread (assumed: 1e-12 leaves room for the raw file's arithmetic)
APPLIED_RTOL = 1e-12


def control_number(value: float) -> str:
    """``value`` as a token of ngspice's control language that no neighbour can change: ``(-0.05)``.

    ``repr`` gives the shortest decimal that reads back as the same double (17 significant digits at
    most), so nothing is rounded; the parentheses make it one operand, so a minus sign is never read as
    a subtraction from the previous value.
    """
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"cannot write {v!r} into an ngspice control block (finite numbers only)")
    return f"({v!r})"


def _values(chunk: np.ndarray) -> str:
    return " ".join(control_number(v) for v in chunk)


def _compose(name: str, values: np.ndarray) -> list[str]:
    """Control lines that build ngspice vector ``name`` from ``values`` (a long one in pieces)."""
    chunks = [values[k : k + VALUES_PER_LINE] for k in range(0, values.size, VALUES_PER_LINE)]
    if len(chunks) == 1:
        return [f"compose {name} values " + _values(chunks[0])]
    lines, parts = [], []
    for c, chunk in enumerate(chunks):
        part = f"{name}_{c}"
        lines.append(f"compose {part} values " + _values(chunk))
        parts.append(part)
    # ngspice has no vector concatenation operator; copy the pieces element by element into a full vector
    lines.append(f"let {name} = vector({values.size})")
    offset = 0
    for part, chunk in zip(parts, chunks):
        if chunk.size == 1:  # a one-value compose makes a scalar, which ngspice refuses to index
            lines.append(f"let {name}[{offset}] = {control_number(chunk[0])}")
            offset += 1
            continue
        lines += [
            f"let {_PREFIX}_c = 0",
            f"while {_PREFIX}_c < {chunk.size}",
            f"let {name}[{_PREFIX}_c + {offset}] = {part}[{_PREFIX}_c]",
            f"let {_PREFIX}_c = {_PREFIX}_c + 1",
            "end",
        ]
        offset += chunk.size
    return lines


def multi_vector_netlist(xbar, voltages, title: str | None = None, save_all: bool = False, **netlist_kw) -> str:
    """Netlist text that reads ``xbar`` for every input vector (row) of ``voltages`` in one ngspice run.

    Parameters
    ----------
    xbar : Crossbar
        Any cell kind; states are frozen (a DC read).
    voltages : array (m,) or (p, m)
        Word-line input voltages, V, one row per input vector (vectors first).
    title : str, optional
        First line of the netlist.
    save_all : bool
        Keep every node voltage and branch current (and whatever ``options`` saves) in each plot; by
        default only the column currents are saved, which keeps the raw file small.
    **netlist_kw
        Passed to :func:`~memspice.netlists.crossbar_netlist` (``face``, ``max_devices``, ``options``);
        ``sense``, ``analysis`` and ``transient`` are fixed here (0 V sense sources, ``op`` per vector).
        ``dialect`` may only be ngspice: the loop over vectors is ngspice's control language.

    Returns
    -------
    str
        Netlist whose plots ``op1`` .. ``op<p>`` hold ``i(vsense<j>)`` (A) for input vector 1 .. p.
    """
    for key in ("sense", "analysis", "transient", "save"):
        if key in netlist_kw:
            raise ValueError(f"{key} is fixed by multi_vector_netlist (0 V sense sources, one op per vector)")
    dialect = Dialect.parse(netlist_kw.pop("dialect", Dialect.NGSPICE))
    if dialect is not Dialect.NGSPICE:
        raise ValueError(
            f"dialect={dialect.value!r}: the multi-vector netlist loops over vectors in an ngspice .control "
            "block, which other simulators do not read; write one netlist per vector (crossbar_netlist)"
        )
    v = xbar.check_inputs(voltages)
    m, p = v.shape
    n = xbar.n
    note = f"* {p} operating points, one per input vector (control block below)"
    text = crossbar_netlist(
        xbar,
        v[:, 0],
        analysis=note,
        title=title or f"memspice crossbar {m}x{n}, {p} input vectors in one run",
        **netlist_kw,
    )
    text = re.sub(r"^\.end\s*\Z", "", text.rstrip() + "\n", flags=re.M | re.I)
    varying = [i for i in range(m) if np.any(v[i] != v[i, 0])]
    # the applied driver voltages are saved too: operating_points compares them with the inputs sent
    saves = [] if save_all else [".save " + " ".join([f"i(vsense{j})" for j in range(n)] + applied_probes(v))]
    lines = [text.rstrip("\n"), *saves, ".control", f"let {_PREFIX}_p = {p}"]
    for i in varying:
        name = f"{_PREFIX}_in{i}"
        lines += _compose(name, v[i])
        # a vector of another length is a misread: say so and make no operating point at all
        lines += [
            f"if length({name}) <> {p}",
            f"echo error: {name} holds a wrong number of values",
            f"let {_PREFIX}_p = 0",
            "end",
        ]
    lines += [f"let {_PREFIX}_k = 0", f"while {_PREFIX}_k < {_PREFIX}_p"]
    lines += [f"alter vin{i} dc = {_PREFIX}_in{i}[{_PREFIX}_k]" for i in varying]
    lines += ["op", f"let {_PREFIX}_k = {_PREFIX}_k + 1", "end", ".endc", ".end", ""]
    return "\n".join(lines)


def applied_probes(v: np.ndarray) -> list[str]:
    """``v(in<i>)`` of every word line whose input varies across the vectors of ``v`` (m, p)."""
    return [f"v(in{i})" for i in range(v.shape[0]) if np.any(v[i] != v[i, 0])]


def _plot_index(name: str) -> int:
    digits = re.findall(r"\d+", name)
    return int(digits[-1]) if digits else 0


def _column(wave, j: int) -> float:
    for key in (f"i(vsense{j})", f"vsense{j}#branch"):
        if key in wave.names:
            return float(np.real(np.asarray(wave[key]).ravel()[0]))
    raise KeyError(f"column current of vsense{j} missing from plot {wave.title!r}")


#: tolerances of memspice's ngspice reads (tight enough for the bounds of :mod:`memspice.accuracy`; at
#: ngspice's defaults, reltol 1e-3 and vntol 1e-6, a 1S1R cell's inner node stops ~1e-7 off)
READ_OPTIONS = ".options reltol=1e-9 abstol=1e-18 vntol=1e-12"


def read_many_ngspice(
    xbar, voltages, timeout: float = DEFAULT_TIMEOUT, mode: str = "batch", **netlist_kw
) -> np.ndarray:
    """Column output currents (p, n), A, of ``xbar`` for input ``voltages`` (p, m), V, from one ngspice run.

    Parameters
    ----------
    timeout : float
        Seconds for the whole run (all vectors), see :func:`memspice.spice.run`.
    mode : {"batch", "shared"}
        ngspice driver (:func:`memspice.spice.run`).
    **netlist_kw
        Passed to :func:`multi_vector_netlist`; with ``face=Face.VERILOG_A`` the cell's compiled libraries are
        loaded.  ``options`` defaults to :data:`READ_OPTIONS`.

    Raises
    ------
    memspice.spice.SpiceError
        From the run, or when it returned fewer operating points than input vectors.
    """
    from ..spice import SpiceError, run
    from .crossbar import osdi_libraries

    v = xbar.check_inputs(voltages)  # (m, p) columns
    netlist_kw.setdefault("options", READ_OPTIONS)
    text = multi_vector_netlist(xbar, v.T, **netlist_kw)
    osdi: Sequence[str | Path] = ()
    if Face.parse(netlist_kw.get("face", Face.BEHAVIOURAL)) is Face.VERILOG_A:
        osdi = osdi_libraries(xbar)
    ops = operating_points(run(text, mode=mode, timeout=timeout, osdi=osdi), v.shape[1], inputs=v)
    out = np.array([[_column(w, j) for j in range(xbar.n)] for w in ops])
    if not np.all(np.isfinite(out)):
        raise SpiceError(f"ngspice returned non-finite column currents ({np.count_nonzero(~np.isfinite(out))})", "")
    return out


def operating_points(result, p: int, inputs: np.ndarray | None = None) -> list:
    """The ``p`` operating-point plots (Waveforms) of a multi-vector run's ``result``, in input order.

    ``inputs`` (m, p), V: the word-line voltages sent; each plot's ``v(in<i>)`` (saved for every varying
    word line by :func:`multi_vector_netlist`) must equal them to :data:`APPLIED_RTOL` of the largest
    input.

    Raises :class:`memspice.spice.SpiceError` when the control block failed, made another number of
    operating points, or applied other voltages than those sent.
    """
    from ..spice import SpiceError

    bad = [ln for ln in result.log.splitlines() if ln.lower().startswith("error") and f"{_PREFIX}_" in ln]
    if bad:
        raise SpiceError(f"ngspice could not run the multi-vector control block: {bad[0]}", result.log)
    ops = [
        w
        for name, w in sorted(result.plots.items(), key=lambda kv: _plot_index(kv[0]))
        if re.fullmatch(r"op\d+", name.lower()) or "operating point" in w.title.lower()
    ]
    if len(ops) != p:
        raise SpiceError(f"ngspice made {len(ops)} operating points for {p} input vectors", result.log)
    if inputs is not None:
        _check_applied(ops, np.asarray(inputs, float), result.log)
    return ops


def _check_applied(ops: list, v: np.ndarray, log: str) -> None:
    """Raise SpiceError unless every plot's varying driver voltages equal the inputs ``v`` (m, p) sent."""
    from ..spice import SpiceError

    scale = float(np.max(np.abs(v))) if v.size else 0.0
    for name in applied_probes(v):
        i = int(name[4:-1])
        got = []
        for w in ops:
            if name not in w.names:
                raise SpiceError(f"{name} missing from plot {w.title!r}: cannot check the applied inputs", log)
            got.append(float(np.real(np.asarray(w[name]).ravel()[0])))
        bad = np.flatnonzero(np.abs(np.array(got) - v[i]) > APPLIED_RTOL * scale)
        if bad.size:
            k = int(bad[0])
            raise SpiceError(
                f"ngspice applied {got[k]!r} V to word line {i} for input vector {k}, "
                f"not the {float(v[i, k])!r} V sent ({bad.size} of {v.shape[1]} vectors differ): "
                "the control block was misread",
                log,
            )
