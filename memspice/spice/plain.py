"""Is a netlist a plain circuit description?  An allow-list, for runs the kernel sandbox cannot cover.

memspice runs every untrusted netlist inside a kernel sandbox
(:mod:`memspice.spice.sandbox`).  Two kinds of run cannot have one: an
in-process run (``mode="shared", isolate=False``: confining the caller's
own Python process would be irreversible) and any run on a kernel without
Landlock.  Those accept only netlists that :func:`plain_problem` finds
harmless: element lines, comments, the dot cards that describe, analyse,
measure and print a circuit, ``.options`` memspice knows, includes of
regular files that are plain themselves, and ``.control`` blocks made only
of commands that simulate, compute and print (what memspice's own
multi-vector netlists use), with no variables, redirections, escapes or
backquotes.  Everything else is refused by default: unlike a deny-list,
a route nobody thought of is not let through.
"""

from __future__ import annotations

import re
from pathlib import Path

from .netlist_text import ambiguous_character, netlist_files

#: dot cards that describe, analyse, measure or print a circuit (ngspice manual, chapters 2, 11 and 15)
PLAIN_DOT_CARDS = frozenset(
    """
    .model .subckt .ends .param .func .csparam .global .ic .nodeset .temp .title .end
    .include .inc .incl .lib .endl .if .elseif .else .endif
    .op .dc .ac .tran .tf .noise .sens .pz .disto .sp .pss
    .meas .measure .save .probe .print .plot .four .width
    .options .option .opt
    """.split()
)
#: ``.options`` names: ngspice's simulator options (CKTsetOpt) and harmless front-end switches;
#: front-end variables that name files or programs (measoutfile, rawfile, unixcom ...) are not here
PLAIN_OPTIONS = frozenset(
    """
    abstol reltol vntol chgtol trtol gmin gminsteps srcsteps itl1 itl2 itl3 itl4 itl5 itl6 method maxord
    temp tnom pivrel pivtol klu sparse klu_memgrow_factor bypass cshunt rshunt gshunt xmu defad defas defl defm
    defw badmos3 keepopinfo noopac noopalter noopiter maxopalter maxevtiter minbreak newtrunc nodedamping oldlimit
    ramptime gminfactor convabsstep convstep autopartial copynodesets epsmin lteabstol ltereltol ltetrtol
    trytocompact interp savecurrents noacct acct norefvalue nopage nomod noinit list node opts seed
    warn maxwarns post ingold numdgt cptime
    """.split()
)
#: control commands that simulate, change parameters, compute or print (never a file or a program)
PLAIN_COMMANDS = frozenset(
    """
    op run tran dc ac noise tf sens pz disto sp pss resume reset
    alter altermod alterparam let unlet compose print echo meas measure fourier linearize
    if else end while repeat dowhile break continue setplot destroy display show showmod
    listing status version rusage save
    """.split()
)
#: commands that write a file named by their first argument: plain when it is a bare name in the run's folder
PLAIN_WRITERS = frozenset({"write", "wrdata", "wrs2p"})
#: variables ``set`` may change in a plain control block (output formats only)
PLAIN_VARIABLES = frozenset(
    "filetype appendwrite wr_vecnames wr_singlescale numdgt width height nobreak nomoremode noaskquit".split()
)
#: a file name with no folder, no ``..``, nothing ngspice expands: it can only land in the run's own folder
#: (fresh, private, and ngspice cannot make links there)
_BARE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")
#: commands whose arguments may hold comparisons (``<``, ``>``): conditions and expressions, never redirected
_COMPARES = frozenset({"if", "while", "dowhile", "let"})
#: characters that ngspice's command parser expands or acts on
_ACTIVE = {
    "`": "backquotes (they run a shell command)",
    "$": "a variable (its value could be any text)",
    "\\": "a backslash escape",
    "!": "a history substitution",
    "|": "a pipe",
}


def plain_problem(text: str, base_dir, origin: str = "netlist", writes: bool = False) -> str | None:
    """What makes ``text`` (or a file it includes) more than a plain circuit description, or None.

    Parameters
    ----------
    text : str
        Netlist text (first line is the title).
    base_dir : path
        Folder relative includes resolve against.
    origin : str
        Name used in the answer.
    writes : bool
        Whether commands may write files with bare names (``write out.raw``,
        ``echo x > note.txt``): True where ngspice works in a fresh private run
        folder (an unconfined batch run or worker), False in-process (the
        caller's own working folder).

    Returns
    -------
    str or None
        ``"<file> line N: '<line>' <why>"`` for the first thing outside the
        allow-list, or None when the netlist is plain.
    """
    for name, body, _, is_netlist in netlist_files(text, Path(base_dir), origin):
        odd = ambiguous_character(body)
        if odd:
            return f"{name} {odd}: ngspice and memspice read lines holding it differently"
        problem = _file_problem(body, is_netlist, writes)
        if problem:
            return f"{name} {problem}"
    return None


def script_problem(text: str, name: str) -> str | None:
    """What makes a control script (``.spiceinit``: one command a line) more than plain commands, or None.

    The rules of a ``.control`` block of a plain netlist in a run without a
    private folder (no writes); ``name`` is used in the answer.
    """
    odd = ambiguous_character(text)
    if odd:
        return f"{name} {odd}: ngspice and memspice read lines holding it differently"
    for k, line in _logical_lines(text, False):
        word = line.split()[0].lower() if line.split() else ""
        if not word or word.startswith("*"):
            continue
        problem = _command_problem(line, writes=False)
        if problem:
            return f"{name} line {k}: '{_short(line)}' {problem}"
    return None


def _logical_lines(body: str, is_netlist: bool):
    """(line number, text) of every card, ``+`` continuations joined; the title line skipped."""
    card: tuple[int, str] | None = None
    for k, raw in enumerate(body.splitlines(), start=1):
        if is_netlist and k == 1:
            continue
        line = raw.strip()
        if line.startswith("+") and card is not None:
            card = (card[0], card[1] + " " + line[1:])
            continue
        if card is not None:
            yield card
        card = (k, line)
    if card is not None:
        yield card


def _file_problem(body: str, is_netlist: bool, writes: bool) -> str | None:
    lines = body.splitlines()
    if is_netlist and lines and lines[0].strip().lower().startswith("*ng_script"):
        return "line 1: '*ng_script' makes the whole file control commands"
    in_control = False
    for k, line in _logical_lines(body, is_netlist):
        low = line.lower()
        word = low.split()[0] if low else ""
        if in_control:
            if word.startswith(".endc"):
                in_control = False
            elif word and not word.startswith("*"):
                problem = _command_problem(line, writes)
                if problem:
                    return f"line {k}: '{_short(line)}' {problem}"
            continue
        if not word:
            continue
        if word.startswith("*#"):
            return f"line {k}: '{_short(line)}': a '*#' line is a control command"
        if word.startswith("*"):
            continue
        if word.startswith(".control"):
            in_control = True
            continue
        if word.startswith("."):
            problem = _dot_problem(word, low)
            if problem:
                return f"line {k}: '{_short(line)}' {problem}"
    return None


def _dot_problem(word: str, low: str) -> str | None:
    if word not in PLAIN_DOT_CARDS:
        return f"is a dot command ({word}) outside the plain circuit cards memspice knows to be harmless"
    if "`" in low:
        return "holds backquotes"
    if word in (".options", ".option", ".opt"):
        words = low.replace("=", " = ").split()[1:]
        names = [w for k, w in enumerate(words) if w != "=" and (k == 0 or words[k - 1] != "=")]
        unknown = [n for n in names if n not in PLAIN_OPTIONS]
        if unknown:
            return f"sets option {unknown[0]!r}, which is not a simulator option memspice knows to be harmless"
    return None


def _command_problem(command: str, writes: bool = True) -> str | None:
    for part in command.split(";"):
        words = part.split()
        if not words:
            continue
        name = words[0].lower()
        for char, why in _ACTIVE.items():
            if char in part:
                return f"holds {why}"
        if name == "set":
            variable = part.split(None, 1)[1].split("=", 1)[0].strip().lower() if len(words) > 1 else ""
            if variable not in PLAIN_VARIABLES:
                return f"sets variable {variable!r}, not one of the output formats a plain netlist may change"
            continue
        if name in PLAIN_WRITERS:
            if not writes:
                return "writes a file, and this run has no private folder of its own"
            if len(words) < 2 or not _BARE_NAME.match(words[1]):
                return "writes a file that is not a bare name in the run's own folder"
        elif name not in PLAIN_COMMANDS:
            return f"is a control command ({words[0]}) outside the ones that only simulate, compute and print"
        if name not in _COMPARES:
            problem = _redirection_problem(part, writes)
            if problem:
                return problem
    return None


def _redirection_problem(part: str, writes: bool) -> str | None:
    """Redirections of a command: output to a bare name in the run's folder only, no input."""
    if "<" in part:
        return "redirects its input"
    if ">" in part and not writes:
        return "redirects output to a file, and this run has no private folder of its own"
    for target in re.findall(r">>?\s*(\S*)", part):
        if not _BARE_NAME.match(target):
            return "redirects output to something that is not a bare name in the run's own folder"
    return None


def _short(line: str, limit: int = 120) -> str:
    return line if len(line) <= limit else line[:limit] + " ..."
