"""Point ngspice's errors at the user's own file and line.

memspice runs a prepared copy of the netlist (``circuit.cir`` in a private folder: control blocks
moved, includes made absolute, options added), so ngspice's messages name that copy and its line
numbers.  :func:`cite_origin` finds the lines an error is about in the user's netlist and the files
it includes, and rewrites the error to cite ``file:line`` there:

* a line ngspice quotes (``unknown subckt: x1 a b nosub``, ``Error on line 1 or its substitute:
  r10 a c foo``) is looked up by its text (case and spacing as ngspice prints it are ignored);
* ``line no. N from file circuit.cir`` is mapped through the prepared copy: line N of the circuit
  part (control blocks removed) is found again in the user's file.
"""

from __future__ import annotations

import re

from .errors import LINE_LIMIT, SpiceError, cut
from .netlist_text import netlist_files, read_netlist, split_control

#: the prepared copy's file name in the run folder (batch mode)
PREPARED_NAME = "circuit.cir"
_LINE_NO = re.compile(r"line no\. (\d+) from file (\S*?" + re.escape(PREPARED_NAME) + r")", re.I)
#: ngspice's messages that quote the offending line after a colon (or on the next line)
_QUOTING = re.compile(
    r"(?:unknown subckt|unknown device type|unknown model type|could not find a valid modelname|"
    r"unknown parameter|there is no model named)[^:\n]*:\s*(?P<line>[^\n]+)",
    re.I,
)
#: messages that name a word (a parameter) but not the line: the first line using it is cited
_WORD = re.compile(r"undefined parameter \[(?P<word>[^\]\s]+)\]", re.I)
_NEXT_LINE = re.compile(r"(?:or its substitute:|from line)\s*\n\s*(?P<line>[^\n]+)", re.I)


#: characters of ngspice's output searched for errors to cite, at its start and at its end (assumed: error
#: messages come with parsing, at the start, or where a run stopped, at the end; the middle of a log of many
#: megabytes is what the netlist printed)
_SCANNED = 1 << 20


def _norm(line: str) -> str:
    return " ".join(line.lower().split())


def _sources(netlist, base_dir=None) -> list[tuple[str, list[str]]]:
    """(name, lines) of the netlist and every file it includes, the netlist first.

    The walk of :func:`~memspice.spice.netlist_text.netlist_files`: each regular file once (a FIFO
    include would block the reader).
    """
    src = read_netlist(netlist, base_dir)
    name = str(src.path) if src.path else "netlist"
    return [(where, body.splitlines()) for where, body, _, _ in netlist_files(src.text, src.base_dir, name)]


def _find(sources, text: str) -> str | None:
    """``file:line: original text`` of the first line in ``sources`` that reads ``text``."""
    want = _norm(text)
    if not want:
        return None
    for name, lines in sources:
        for k, line in enumerate(lines):
            if _norm(line) == want and (k > 0 or name != sources[0][0]):  # line 1 of the netlist is its title
                return f"{name}:{k + 1}: {line.strip()}"
    return None


def _find_word(sources, word: str) -> str | None:
    """``file:line: text`` of the first non-comment line in ``sources`` that uses ``word``."""
    pattern = re.compile(rf"(?<![\w.]){re.escape(word)}(?![\w.])", re.I)
    for name, lines in sources:
        for k, line in enumerate(lines):
            if (k > 0 or name != sources[0][0]) and not line.lstrip().startswith("*") and pattern.search(line):
                return f"{name}:{k + 1}: {line.strip()}"
    return None


def citations(log: str, netlist, base_dir=None) -> list[str]:
    """``file:line: text`` of each line of the user's netlist (or its includes) an ngspice error is about."""
    try:
        sources = _sources(netlist, base_dir)
    except (OSError, ValueError, TypeError, SpiceError):
        return []
    if len(log) > 2 * _SCANNED:  # ngspice names parse errors first and run-time errors last
        log = log[:_SCANNED] + "\n" + log[-_SCANNED:]
    found: list[str] = []
    for m in list(_QUOTING.finditer(log)) + list(_NEXT_LINE.finditer(log)):
        cite = _find(sources, m.group("line"))
        if cite and cite not in found:
            found.append(cite)
    for m in _WORD.finditer(log):
        cite = _find_word(sources, m.group("word"))
        if cite and cite not in found:
            found.append(cite)
    if not found:
        circuit = split_control("\n".join(sources[0][1]))[0].splitlines()
        for m in _LINE_NO.finditer(log):
            k = int(m.group(1)) - 1
            if 0 < k < len(circuit):
                cite = _find(sources[:1], circuit[k])
                if cite and cite not in found:
                    found.append(cite)
    return found


def cite_origin(exc: Exception, netlist, base_dir=None) -> Exception:
    """``exc`` (a :class:`~memspice.spice.errors.SpiceError`) with the user's ``file:line`` cited.

    The message gains one ``at file:line: text`` line per line found (see the module docstring),
    and the prepared copy's name ``circuit.cir`` in ngspice's output is replaced by a note that it
    is memspice's copy.  Returned unchanged when nothing is found.
    """
    log = getattr(exc, "log", "") or ""
    where = citations(log, netlist, base_dir)
    if not where or not exc.args:
        return exc
    first, sep, rest = str(exc.args[0]).partition("\n")
    rest = _LINE_NO.sub(lambda m: f"line no. {m.group(1)} of memspice's prepared copy", rest)
    where = [cut(w, LINE_LIMIT) for w in where]  # a cited line can be megabytes long
    exc.args = (first + "".join(f"\n  at {w}" for w in where) + sep + rest, *exc.args[1:])
    return exc


__all__ = ["cite_origin", "citations", "PREPARED_NAME"]
