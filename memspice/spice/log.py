"""Classify ngspice's messages: informational chatter vs real errors.

Newer ngspice prints informational lines on stderr ("Using SPARSE 1.3 as
Direct Linear Solver", "Using KLU ...", "Note: ..."); PySpice 1.5 treats any
stderr line as an error.  memspice decides with the patterns below instead.
"""

from __future__ import annotations

import re

from .errors import SpiceConvergenceError, SpiceNetlistError

INFO_PATTERNS = [
    r"^using (sparse|klu)",
    r"^note:",
    r"^warning:",
    r"^\s*$",
    r"^circuit:",
    r"^doing analysis",
    r"^reference value",
    r"^no\. of data rows",
    r"^total",
    r"^dram",
    r"^maximum ngspice",
    r"^current ngspice",
    r"^shared ngspice",
    r"^text \(code\)",
    r"^stack",
    r"^library pages",
    r"^operating point simulation skipped",
    r"^\s*now using transient initial conditions",
    r"^\*+$",
    r"^\*\* ngspice",
    r"^binary raw file",
    r"^ascii raw file",
    r"^osdi",
    r"^finished",
    r"compatibility mode",
]

CONVERGENCE_PATTERNS = [
    r"timestep too small",
    r"time step too small",
    r"singular matrix",
    r"gmin stepping failed",
    r"source stepping failed",
    r"iteration limit reached",
    r"transient op failed",
    r"dc solution failed",
    r"no convergence",
    r"op simulation failed",
    r"run simulation\(s\) aborted",
    r"tran simulation\(s\) aborted",
]
# "gmin stepping failed" and "source stepping failed" alone are recoverable (ngspice falls back);
# they count only together with a final failure line.
_FINAL_CONVERGENCE = [p for p in CONVERGENCE_PATTERNS if "stepping" not in p and "singular" not in p]

NETLIST_PATTERNS = [
    r"error on line",
    r"unknown subckt",
    r"could not find a valid modelname",
    r"unable to find definition of model",
    r"unknown parameter",
    r"undefined function",
    r"unknown device type",
    r"no such vector",
    r"syntax error",
    r"cannot open",
    r"can't find model",
    r"unknown model type",
    r"there is no model named",
    r"circuit not parsed",
    r"no circuit loaded",
    r"error: .*model",
    r"fatal error",
    r"error: ",
    r"undefined parameter",
    r"expression err",
    r"could not load",
]


#: most of ngspice's output memspice keeps in memory, characters: the first and the last half of it
#: (assumed: 16 Mi holds the output of any run that prints what it computes, a long ``print`` of a transient
#: included; a netlist printing without end, 20+ MB/s, would otherwise fill the machine's memory before its
#: timeout)
OUTPUT_LIMIT = 16 << 20


class OutputCapture:
    """ngspice's output as it comes (byte chunks or text lines), keeping at most :data:`OUTPUT_LIMIT` of it.

    The first half is kept whole, then the most recent half; what was cut in
    between is replaced by one warning line saying how much
    (:func:`warning_lines` reports it).
    """

    def __init__(self, limit: int | None = None):
        from collections import deque

        self.half = max((OUTPUT_LIMIT if limit is None else limit) // 2, 1)
        self.head: list = []
        self.head_size = 0
        self.tail: deque = deque()
        self.tail_size = 0
        self.cut = 0

    def add(self, item) -> None:
        """Keep ``item`` (a ``bytes`` chunk or a ``str`` line)."""
        if self.head_size < self.half and not self.tail:
            self.head.append(item)
            self.head_size += len(item)
            return
        self.tail.append(item)
        self.tail_size += len(item)
        while len(self.tail) > 1 and self.tail_size - len(self.tail[0]) >= self.half:
            dropped = self.tail.popleft()
            self.tail_size -= len(dropped)
            self.cut += len(dropped)

    @property
    def full(self) -> bool:
        """Whether output is being cut (the first half is complete)."""
        return self.head_size >= self.half

    def note(self) -> str:
        return (
            f"Warning: memspice cut {self.cut} characters of ngspice's output here (it keeps the first and the last "
            f"{self.half} characters: a netlist that prints without end?)"
        )

    def text(self, joiner: str = "") -> str:
        """Everything kept, decoded; ``joiner`` goes between items (``"\n"`` for lines)."""

        def join(items) -> str:
            if items and isinstance(items[0], bytes):
                return b"".join(items).decode("utf-8", errors="replace")
            return joiner.join(items)

        head, tail = join(self.head), join(list(self.tail))
        if not self.cut:
            return head + (joiner if head and tail and joiner else "") + tail
        return f"{head}\n{self.note()}\n{tail}"


def is_informational(line: str) -> bool:
    low = line.strip().lower()
    return any(re.search(p, low) for p in INFO_PATTERNS)


def find(patterns, text: str) -> str | None:
    """The first line of ``text`` (lower case, stripped) that matches any of ``patterns``, or None.

    One pass over the text with the patterns joined (a log can hold a netlist line of many megabytes).
    """
    low = text.lower()
    match = re.compile("|".join(f"(?:{p})" for p in patterns)).search(low)
    if match is None:
        return None
    start = low.rfind("\n", 0, match.start()) + 1
    end = low.find("\n", match.end())
    return low[start : len(low) if end < 0 else end].strip()


def raise_for_log(log: str, produced_data: bool) -> None:
    """Raise the matching SpiceError for a failed run's ``log``.

    Convergence failures win over netlist errors because ngspice reports an
    aborted analysis with generic "Error" lines too.  When the run produced
    results, error lines (a failed ``.meas``, a ``print`` of a missing vector)
    are not fatal: :func:`warning_lines` reports them.
    """
    hit = find(_FINAL_CONVERGENCE, log)
    if hit:
        raise SpiceConvergenceError(f"ngspice did not converge: {hit}", log)
    hit = find(NETLIST_PATTERNS, log)
    if hit and not produced_data:
        raise SpiceNetlistError(f"ngspice rejected the netlist: {hit}", log)


_WARNING = re.compile(r"^\s*(warning|error)\b.*|.*\bfailed!\s*$", re.I)
_NOT_A_PROBLEM = re.compile(r"no compatibility mode selected|^\s*warning: --|^\s*error: --", re.I)


def warning_lines(log: str) -> list[str]:
    """ngspice's warnings and non-fatal errors in ``log``, one line each, in order, without repeats."""
    out: list[str] = []
    seen: set[str] = set()
    for line in log.splitlines():
        line = line.strip()
        if _WARNING.match(line) and not _NOT_A_PROBLEM.search(line) and line not in seen:
            seen.add(line)
            out.append(line)
    return out


_MEAS_DEF = re.compile(r"^\s*\.?meas(?:ure)?\s+\w+\s+([A-Za-z_][\w.]*)", re.I | re.M)
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def measurement_names(netlist: str) -> list[str]:
    """Result names of every ``.meas`` line and control-block ``meas`` command, lower case, in order."""
    names: list[str] = []
    for name in _MEAS_DEF.findall(netlist):
        if name.lower() not in names:
            names.append(name.lower())
    return names


def measurements(log: str, names) -> dict[str, float]:
    """Values of the measurements ``names`` that ngspice printed (``name = value``); the last print wins.

    A measurement that failed (its trigger never happened) is absent; its
    "failed!" line is in :func:`warning_lines`.
    """
    wanted = {n.lower() for n in names}
    out: dict[str, float] = {}
    for m in re.finditer(rf"^\s*([A-Za-z_][\w.]*)\s*=\s*({_NUMBER})(?=\s|$)", log, re.M):
        if m.group(1).lower() in wanted:
            out[m.group(1).lower()] = float(m.group(2))
    return out
