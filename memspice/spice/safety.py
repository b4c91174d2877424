"""What memspice does with a netlist it does not trust: explain the known escapes, then let the kernel enforce.

A netlist from someone else is data, but ngspice's control language can run
programs and write files anywhere, in more ways than any list names.  Two
layers:

1. :func:`check_netlist`, a deny-list of the known routes (``shell``,
   backquotes, ``set unixcom``, escaped or variable-built command names,
   ``*#`` lines, redirections, ``write``/``run``/``snsave`` to paths outside
   the run's folder, libraries the caller did not name ...).  It is the
   first line: it refuses early and says exactly what it refused and why.
   It is not what keeps you safe.
2. The kernel sandbox (:mod:`memspice.spice.sandbox`): ngspice runs where it
   cannot execute any program and can write only inside its private run
   folder, whatever route the netlist takes.  :func:`run_policy` decides
   per run: sandboxed; or, where no sandbox is possible (in-process runs,
   kernels without Landlock), only for netlists that are plain circuit
   descriptions (:mod:`memspice.spice.plain`); or refused with the reason.

``allow_shell=True`` (``memspice run --allow-shell``) trusts the netlist:
no deny-list, no sandbox.  The threat model is in ``docs/security.md``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..core.osdi import is_memspice_compiled
from .errors import UnsafeNetlistError
from .netlist_text import ambiguous_character, control_commands, netlist_files, split_control

#: commands that run another program, load code or change where files go (ngspice manual, "Commands")
RUNS_PROGRAMS = {
    "shell": "runs a shell command",
    "aspice": "starts another ngspice process",
    "rspice": "runs ngspice on a remote host through rsh",
    "bug": "sends mail through a system command",
    "edit": "starts an editor",
    "gnuplot": "runs the gnuplot program",
    "pyplot": "runs the python program",
    "xgraph": "runs the xgraph program",
    "hardcopy": "runs a print command",
    "source": "runs the control commands of another file",
    "cd": "changes the folder ngspice writes into",
    "alias": "renames commands (which could hide one of the others)",
    "rehash": "looks up programs to run as commands (unixcom)",
}
LOADS_LIBRARY = {
    "osdi": "loads a compiled Verilog-A shared library",
    "codemodel": "loads an XSPICE code-model shared library",
}
#: commands whose first argument is a file they write
WRITES_FILE = {"write", "wrdata", "wrs2p", "mdump", "mrdump", "wrnodev", "snsave", "run", "sndprint", "wric"}
#: variables that make ngspice run programs or write files elsewhere
_DANGEROUS_VARIABLES = re.compile(r"\b(rawfile|sourcepath|unixcom|measoutfile|shell|editor|hcopy\w*)\b", re.I)
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


def _check_command(word: str, cmd: str, where: str, base_dir: Path, allowed: set[Path]) -> None:
    if "`" in cmd:
        raise UnsafeNetlistError(f"{where}: '{cmd}': backquotes run a shell command; {_opt_in()}")
    name = word.removeprefix("pre_")
    if "$" in name or "{" in name:
        raise UnsafeNetlistError(
            f"{where}: '{cmd}': a command name built from a variable could be any command; {_opt_in()}"
        )
    if "\\" in name:
        raise UnsafeNetlistError(f"{where}: '{cmd}': an escaped command name could be any command; {_opt_in()}")
    if name in RUNS_PROGRAMS:
        raise UnsafeNetlistError(f"{where}: '{cmd}' {RUNS_PROGRAMS[name]}; {_opt_in()}")
    if "/" in name:
        raise UnsafeNetlistError(f"{where}: '{cmd}': a file name as a command runs that file's commands; {_opt_in()}")
    args = cmd.split()[1:]
    if name in LOADS_LIBRARY:
        if args and all(_library_allowed(a, base_dir, allowed) for a in args):
            return
        raise UnsafeNetlistError(
            f"{where}: '{cmd}' {LOADS_LIBRARY[name]} that you did not name; pass the library yourself "
            f"(osdi=[path] in Python, memspice run --osdi FILE) to allow it, or {_opt_in()}"
        )
    if name in WRITES_FILE and args and not _safe_output(args[0]):
        raise UnsafeNetlistError(f"{where}: '{cmd}' writes outside memspice's run folder; {_opt_in()}")
    if name in ("set", "option", "options") and _DANGEROUS_VARIABLES.search(cmd):
        raise UnsafeNetlistError(
            f"{where}: '{cmd}' sets a variable that makes ngspice run programs or write files elsewhere; {_opt_in()}"
        )
    if name in ("set", "foreach") and re.search(r"[;<>|`]", cmd.split(None, 2)[-1]):
        raise UnsafeNetlistError(
            f"{where}: '{cmd}': a value holding ';', '<', '>' or '|' builds commands or redirections at run time; "
            f"{_opt_in()}"
        )
    if name not in _EXPRESSIONS:
        for target in re.findall(r">>?\s*(\S+)", cmd):
            if not _safe_output(target):
                raise UnsafeNetlistError(
                    f"{where}: '{cmd}' redirects output outside memspice's run folder; {_opt_in()}"
                )


def _check_control(body: str, where: str, base_dir: Path, allowed: set[Path]) -> None:
    for word, cmd in control_commands(body):
        _check_command(word, cmd, where, base_dir, allowed)


def _check_circuit(body: str, where: str, is_netlist: bool) -> None:
    """Dot cards and comment lines that act outside ``.control`` blocks."""
    for k, line in enumerate(body.splitlines(), start=1):
        if is_netlist and k == 1:
            continue
        low = line.strip().lower()
        if low.startswith("*#"):
            raise UnsafeNetlistError(
                f"{where} line {k}: '{line.strip()}': a '*#' line runs a control command; {_opt_in()}"
            )
        if low.startswith((".libsave", ".sndprint")):
            raise UnsafeNetlistError(f"{where} line {k}: '{line.strip()}' writes a file; {_opt_in()}")
        if low.startswith(".opt") and _DANGEROUS_VARIABLES.search(low):
            raise UnsafeNetlistError(
                f"{where} line {k}: '{line.strip()}' sets a variable that makes ngspice run programs or write files "
                f"elsewhere; {_opt_in()}"
            )


def check_netlist(text: str, base_dir, allowed_libraries=(), origin: str = "netlist") -> None:
    """Raise :class:`UnsafeNetlistError` if ``text`` or a file it includes uses a known escape.

    The first line of defence, which explains what it refused; the kernel
    sandbox enforces (module docstring).

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
    for where, body, folder, is_netlist in netlist_files(text, Path(base_dir), origin):
        odd = ambiguous_character(body)
        if odd:
            raise UnsafeNetlistError(
                f"{where} {odd}: ngspice and memspice's checks read lines holding it differently (ngspice ends "
                f"lines only at line feeds and knows only ASCII white space), so it could hide commands; remove it, "
                f"or {_opt_in()}"
            )
        first = body.lstrip().split("\n", 1)[0].strip().lower() if is_netlist else ""
        if first.startswith("*ng_script"):  # the whole file is control language
            _check_control(body.split("\n", 1)[1] if "\n" in body else "", where, folder, allowed)
            continue
        circuit, control = split_control(body, title=is_netlist)
        _check_circuit(circuit, where, is_netlist)
        _check_control(control, where, folder, allowed)


def run_policy(
    text: str, base_dir, allow_shell: bool, where: str, origin: str = "netlist", obstacle: str | None = None
) -> bool:
    """Whether a run must be confined by the kernel sandbox; raises when it must not run at all.

    Parameters
    ----------
    text, base_dir, origin
        The netlist (after :func:`check_netlist`), see there.
    allow_shell : bool
        The caller trusts the netlist: no sandbox (returns False).
    where : {"batch", "worker", "in-process"}
        How ngspice will run: a batch child, a shared-mode worker process, or
        in the caller's own process.
    obstacle : str, optional
        Why this run cannot be confined although the kernel could (e.g. the
        ngspice found is a shell script).

    Returns
    -------
    bool
        True: run it confined.  False: run it unconfined (trusted, or a plain
        circuit description where no sandbox is possible).

    Raises
    ------
    UnsafeNetlistError
        The netlist is more than a plain circuit and cannot be confined here;
        the message says why and how to proceed.
    """
    from .plain import plain_problem
    from .sandbox import support

    if allow_shell:
        return False
    if where == "in-process":
        problem = plain_problem(text, base_dir, origin)
        if problem:
            raise UnsafeNetlistError(
                f"{problem}. An in-process run (isolate=False) cannot be sandboxed, so it accepts only plain circuit "
                "descriptions: run it in memspice's sandboxed worker with isolate=True (the default), or " + _opt_in()
            )
        return False
    s = support()
    if (s.batch if where == "batch" else s.worker) and not obstacle:
        return True
    problem = plain_problem(text, base_dir, origin, writes=True)
    if problem:
        raise UnsafeNetlistError(
            f"{problem}. memspice runs such netlists only inside its kernel sandbox, which this system cannot "
            f"provide ({obstacle or s.why_not(where == 'batch')}); {_opt_in()}"
        )
    return False
