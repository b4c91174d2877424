"""Refuse netlists that would make ngspice run programs, load libraries or write outside the run's folder.

A netlist from someone else is data, but ngspice's control language can run
shell commands (``shell``, backquotes), start other programs (``gnuplot``,
``hardcopy``, ``edit``, ``aspice``, ``rspice``), load shared libraries
(``osdi``, ``pre_osdi``, ``codemodel``) and write files anywhere (``write``,
``wrdata``, ``>`` redirection).  :func:`check_netlist` looks at every command
of every ``.control`` block, in the netlist and in every file it includes,
and raises :class:`~memspice.spice.errors.UnsafeNetlistError` naming the line
and the way to opt in.  The check is a deny-list of the control language's
known escapes, not a sandbox: run netlists you do not trust as a user who
cannot do harm.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..core.osdi import is_memspice_compiled
from .errors import UnsafeNetlistError
from .netlist_text import control_commands, included_files, split_control

#: commands that run another program, load code or change where files go (ngspice manual, "Commands")
RUNS_PROGRAMS = {
    "shell": "runs a shell command",
    "aspice": "starts another ngspice process",
    "rspice": "runs ngspice on a remote host through rsh",
    "bug": "sends mail through a system command",
    "edit": "starts an editor",
    "gnuplot": "runs the gnuplot program",
    "xgraph": "runs the xgraph program",
    "hardcopy": "runs a print command",
    "source": "runs the control commands of another file",
    "cd": "changes the folder ngspice writes into",
    "alias": "renames commands (which could hide one of the others)",
}
LOADS_LIBRARY = {
    "osdi": "loads a compiled Verilog-A shared library",
    "codemodel": "loads an XSPICE code-model shared library",
}
#: commands whose first argument is a file they write
WRITES_FILE = {"write", "wrdata", "wrs2p", "mdump", "mrdump", "wrnodev"}
#: commands whose ``>`` is a comparison, not an output redirection
_EXPRESSIONS = {
    "let",
    "if",
    "while",
    "dowhile",
    "repeat",
    "meas",
    "measure",
    "compose",
    "set",
    "else",
    "foreach",
    "echo_expr",
    "alterparam",
    "alter",
    "altermod",
    "define",
}
_MAX_DEPTH = 20


def _opt_in() -> str:
    return "pass allow_shell=True (memspice run --allow-shell) only if you trust this netlist"


def _safe_output(path: str) -> bool:
    """A bare relative path inside the run's private folder."""
    p = path.strip("\"'")
    return bool(p) and not (os.path.isabs(p) or p.startswith("~") or "$" in p or "`" in p or ".." in Path(p).parts)


def _library_allowed(arg: str, base_dir: Path, allowed: set[Path]) -> bool:
    p = Path(arg.strip("\"'")).expanduser()
    p = (p if p.is_absolute() else base_dir / p).resolve()
    return p in allowed or is_memspice_compiled(p)


def _check_control(body: str, where: str, base_dir: Path, allowed: set[Path]) -> None:
    for word, cmd in control_commands(body):
        if "`" in cmd:
            raise UnsafeNetlistError(f"{where}: '{cmd}': backquotes run a shell command; {_opt_in()}")
        name = word.removeprefix("pre_")
        if "$" in name or "{" in name:
            raise UnsafeNetlistError(
                f"{where}: '{cmd}': a command name built from a variable could be any command; {_opt_in()}"
            )
        if name in RUNS_PROGRAMS:
            raise UnsafeNetlistError(f"{where}: '{cmd}' {RUNS_PROGRAMS[name]}; {_opt_in()}")
        args = cmd.split()[1:]
        if name in LOADS_LIBRARY:
            if args and all(_library_allowed(a, base_dir, allowed) for a in args):
                continue
            raise UnsafeNetlistError(
                f"{where}: '{cmd}' {LOADS_LIBRARY[name]} that you did not name; pass the library yourself "
                f"(osdi=[path] in Python, memspice run --osdi FILE) to allow it, or {_opt_in()}"
            )
        if name in WRITES_FILE and args and not _safe_output(args[0]):
            raise UnsafeNetlistError(f"{where}: '{cmd}' writes outside memspice's run folder; {_opt_in()}")
        if name == "set" and re.search(r"\b(rawfile|sourcepath)\b", cmd, re.I):
            raise UnsafeNetlistError(f"{where}: '{cmd}' changes where ngspice reads or writes files; {_opt_in()}")
        if name not in _EXPRESSIONS:
            for target in re.findall(r">>?\s*(\S+)", cmd):
                if not _safe_output(target):
                    raise UnsafeNetlistError(
                        f"{where}: '{cmd}' redirects output outside memspice's run folder; {_opt_in()}"
                    )


def check_netlist(text: str, base_dir, allowed_libraries=(), origin: str = "netlist") -> None:
    """Raise :class:`UnsafeNetlistError` if ``text`` or a file it includes could escape the simulation.

    Parameters
    ----------
    text : str
        Netlist text (first line is the title).
    base_dir : path
        Folder relative includes and library paths resolve against.
    allowed_libraries : iterable of path
        Shared libraries the caller named; ``osdi`` / ``pre_osdi`` / ``codemodel``
        commands that load exactly these are accepted.
    origin : str
        Name used in messages.
    """
    allowed = {Path(p).expanduser().resolve() for p in allowed_libraries}
    seen: set[Path] = set()

    def visit(body: str, where: str, folder: Path, is_netlist: bool, depth: int) -> None:
        first = body.lstrip().split("\n", 1)[0].strip().lower() if is_netlist else ""
        if first.startswith("*ng_script"):  # the whole file is control language
            _check_control(body.split("\n", 1)[1] if "\n" in body else "", where, folder, allowed)
            return
        _, control = split_control(body)
        _check_control(control, where, folder, allowed)
        if depth >= _MAX_DEPTH:
            return
        for inc in included_files(body, folder, title=is_netlist):
            if inc in seen or not inc.is_file():
                continue  # a missing include is ngspice's error to report
            seen.add(inc)
            raw = inc.read_bytes()
            try:
                sub = raw.decode("utf-8")
            except UnicodeDecodeError:
                sub = raw.decode("latin-1")
            visit(sub, str(inc), inc.parent, False, depth + 1)

    visit(text, origin, Path(base_dir), True, 0)
