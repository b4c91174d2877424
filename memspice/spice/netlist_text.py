"""Prepare a netlist for a run: read it, resolve its includes, add options and a results collector.

memspice runs ngspice in a private folder (one per run), so that concurrent
runs never share files and nothing is written next to the user's netlist.
To keep the netlist's meaning, relative ``.include`` / ``.lib`` paths are
rewritten to absolute paths against the netlist's own folder (as plain
``ngspice -b circuit.cir`` resolves them); files included from there resolve
their own relative includes against their own folder, which ngspice does.

The netlist's ``.control`` blocks run unchanged; memspice appends a
collector after them that writes every plot (``op1``, ``tran1``, ``ac1`` ...)
to one binary raw file, so results never depend on the block's own ``write``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import SpiceNetlistError

ANALYSIS = re.compile(r"^\s*\.(op|dc|tran|ac|noise|tf|sens|pz|disto|sp|pss)\b", re.I | re.M)
#: control-language commands that run an analysis (ngspice manual, chapter "Commands")
ANALYSIS_COMMANDS = {"run", "op", "dc", "tran", "ac", "noise", "tf", "sens", "pz", "disto", "sp", "pss", "resume"}
_CONTROL = re.compile(r"^[ \t]*\.control[ \t]*\r?$(.*?)^[ \t]*\.endc\b[^\n]*$\n?", re.I | re.M | re.S)
_HAS_CONTROL = re.compile(r"\.control", re.I)
_INC_LINE = re.compile(r"^[ \t]*\.(?:include|incl|inc|lib)\b[^\n]*", re.I | re.M)
_INCLUDE = re.compile(
    r"^(?P<lead>[ \t]*\.(?:include|incl|inc)[ \t]+)(?P<path>\"[^\"]*\"|'[^']*'|\S+)(?P<rest>.*)$", re.I
)
_LIB = re.compile(r"^(?P<lead>[ \t]*\.lib[ \t]+)(?P<path>\"[^\"]*\"|'[^']*'|\S+)(?P<rest>[ \t]+\S+.*)$", re.I)
#: results file the collector writes inside the run's private folder
RESULTS_FILE = "memspice-results.raw"
#: marker the collector echoes before writing each plot, so plots keep their ngspice names
PLOT_MARKER = "memspice-plot:"
#: markers echoed around the netlist's own control block, so what it prints (``print``, ``echo``) is found
#: in ngspice's output (:attr:`memspice.spice.SimulationResult.printed`)
USER_BEGIN, USER_END = "memspice-user-output-begin", "memspice-user-output-end"


@dataclass(frozen=True)
class NetlistSource:
    """A netlist's text and where it came from.

    ``base_dir`` is the folder relative includes resolve against: the file's
    folder for a netlist file, the current working directory for text.
    ``encoding`` is how the file was decoded (UTF-8, else Latin-1 as ngspice
    reads bytes); the prepared netlist is written back in the same encoding.
    """

    text: str
    base_dir: Path
    path: Path | None = None
    encoding: str = "utf-8"


def read_netlist(netlist, base_dir=None) -> NetlistSource:
    """Accept netlist text or a path (``str`` without a newline, or ``os.PathLike``) to a netlist file.

    Parameters
    ----------
    netlist : str or os.PathLike
        Netlist text (several lines), or the path of a netlist file.
    base_dir : str or os.PathLike, optional
        Folder that relative ``.include`` / ``.lib`` paths resolve against.
        Default: the file's folder, or the current working directory for text.
    """
    if isinstance(netlist, os.PathLike) or (
        isinstance(netlist, str) and "\n" not in netlist.strip() and netlist.strip()
    ):
        path = Path(netlist).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"netlist file not found: {path} (pass netlist text with newlines, or a path)")
        raw = path.read_bytes()
        try:
            text, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = raw.decode("latin-1"), "latin-1"
        return NetlistSource(text, Path(base_dir or path.resolve().parent).resolve(), path.resolve(), encoding)
    if not isinstance(netlist, str):
        raise TypeError(f"netlist must be text or a path, got {type(netlist).__name__}")
    return NetlistSource(netlist, Path(base_dir or os.getcwd()).resolve())


def directives(text: str) -> str:
    """The title line and every dot line (``.include``, ``.op``, ``.control`` ...) of ``text``.

    Scanning these instead of the whole text keeps preparation fast for
    generated netlists of many megabytes (Python's multi-line regular
    expressions try every position).
    """
    if len(text) < 100_000:
        return text
    lines = text.splitlines()
    return "\n".join(lines[:1] + [ln for ln in lines[1:] if ln.lstrip()[:1] == "."])


def split_control(netlist: str) -> tuple[str, str]:
    """Split off every ``.control`` ... ``.endc`` block; returns (circuit, control bodies joined in order)."""
    if not _HAS_CONTROL.search(directives(netlist)):  # fast path for large generated netlists
        return netlist, ""
    bodies = [m.group(1).strip("\r\n") for m in _CONTROL.finditer(netlist)]
    return _CONTROL.sub("", netlist), "\n".join(b for b in bodies if b.strip())


def control_commands(control: str) -> list[tuple[str, str]]:
    """(command word, whole command) of every command in a control body; ``;`` separates commands."""
    out = []
    for line in control.splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] == "*":
            continue
        for cmd in stripped.split(";"):
            cmd = cmd.strip()
            if cmd:
                out.append((cmd.split()[0].strip("\"'").lower(), cmd))
    return out


def runs_analysis(control: str) -> bool:
    """Whether a control body runs an analysis itself (``run``, ``op``, ``tran`` ...)."""
    return any(word.removeprefix("pre_") in ANALYSIS_COMMANDS for word, _ in control_commands(control))


def _unquote(path: str) -> str:
    return path[1:-1] if len(path) >= 2 and path[0] == path[-1] and path[0] in "\"'" else path


def _absolute(path: str, base_dir: Path) -> str:
    p = _unquote(path)
    if not p or os.path.isabs(p) or p.startswith("~"):
        return path
    full = str((base_dir / p).resolve())
    return f'"{full}"' if any(c.isspace() for c in full) else full


def _include_lines(text: str, title: bool):
    """(match of the whole line, match of its path) for every ``.include`` / ``.lib FILE SECTION`` line."""
    for line in _INC_LINE.finditer(text):
        if title and line.start() == 0:  # line 0 of a netlist is its title
            continue
        m = _INCLUDE.match(line.group(0)) or _LIB.match(line.group(0))
        if m:
            yield line, m


def resolve_includes(text: str, base_dir) -> str:
    """Rewrite relative ``.include`` / ``.inc`` / ``.lib FILE SECTION`` paths as absolute paths under ``base_dir``."""
    base_dir = Path(base_dir)
    if not _INC_LINE.search(directives(text)):
        return text
    out, pos = [], 0
    for line, m in _include_lines(text, title=True):
        out += [text[pos : line.start()], m.group("lead") + _absolute(m.group("path"), base_dir) + m.group("rest")]
        pos = line.end()
    out.append(text[pos:])
    return "".join(out)


def included_files(text: str, base_dir, title: bool = True) -> list[Path]:
    """Files a netlist includes (``.include``, ``.lib FILE SECTION``), resolved as ngspice does.

    ``title``: the first line is a title (a netlist), not one of an included file.
    """
    base_dir = Path(base_dir)
    found = []
    for _, m in _include_lines(directives(text), title):
        p = Path(_unquote(m.group("path"))).expanduser()
        found.append(p if p.is_absolute() else (base_dir / p).resolve())
    return found


def _included_analysis(text: str, base_dir: Path, depth: int = 0, title: bool = True) -> bool:
    """Whether a file the netlist includes (recursively) holds an analysis line."""
    if depth > 20:
        return False
    for inc in included_files(text, base_dir, title=title):
        try:
            sub = inc.read_bytes().decode("latin-1")
        except OSError:
            continue
        if ANALYSIS.search(split_control(sub)[0]) or _included_analysis(sub, inc.parent, depth + 1, False):
            return True
    return False


def solver_option(klu: bool | None, text: str, default_klu: bool) -> str | None:
    """The ``.options`` line choosing the linear solver, or None to leave the netlist's choice.

    ``klu=True`` adds ``.options klu``; ``klu=False`` adds ``.options sparse``
    (the last option wins in ngspice, so this overrides a ``.options klu`` in
    the netlist); ``None`` adds KLU when this ngspice has it and the netlist
    names no solver.
    """
    if klu is True:
        return ".options klu"
    if klu is False:
        return ".options sparse"
    names_solver = re.search(r"^\s*\.options?\b.*\b(klu|sparse)\b", directives(text), re.I | re.M)
    return ".options klu" if default_klu and not names_solver else None


def collector(results_file: str = RESULTS_FILE) -> list[str]:
    """Control commands that write every plot, in creation order, to ``results_file`` (binary raw)."""
    return [
        "set filetype=binary",
        "set appendwrite",
        "foreach memspice_pl $plots",
        f"echo {PLOT_MARKER} $memspice_pl",
        "setplot $memspice_pl",
        f"write {results_file}",
        "end",
    ]


def _strip_quit(control: str) -> str:
    lines = control.splitlines()
    while lines and (not lines[-1].strip() or lines[-1].strip().lower().split()[0] in ("quit", "exit")):
        lines.pop()
    return "\n".join(lines)


def prepare_netlist(
    netlist: str,
    osdi=(),
    klu: bool | None = False,
    raw_path: str | None = RESULTS_FILE,
    base_dir=None,
    default_klu: bool = False,
) -> str:
    """Return runnable text: title line kept, includes absolute, solver option, and one control block.

    Parameters
    ----------
    netlist : str
        Netlist text (title line first, as in any SPICE deck).
    osdi : sequence of path
        Compiled Verilog-A libraries loaded with ``pre_osdi`` before the circuit is parsed.
    klu : bool or None
        Linear solver, see :func:`solver_option`.
    raw_path : str or None
        Results file for the collector (relative to the run's folder); None: no
        collector and no trailing ``quit`` (shared mode reads plots from memory).
    base_dir : path, optional
        Folder relative includes resolve against (default: current directory).
    default_klu : bool
        Whether this ngspice has KLU (used when ``klu`` is None).

    The netlist's own control blocks run first; then, if they ran no analysis,
    ``run`` executes the netlist's analysis lines (what ``ngspice -b`` does
    after a control block); then the collector; then ``quit`` (so batch
    ngspice does not run every analysis a second time).
    """
    if not netlist.strip():
        raise ValueError("empty netlist")
    circuit, user_control = split_control(netlist)
    has_lines = bool(ANALYSIS.search(directives(circuit))) or _included_analysis(circuit, Path(base_dir or os.getcwd()))
    if not runs_analysis(user_control) and not has_lines:
        where = " or analysis command in its .control block" if user_control.strip() else ""
        raise SpiceNetlistError(f"netlist has no analysis line (.op, .dc, .tran, .ac, ...){where}: nothing to simulate")
    circuit = resolve_includes(circuit, base_dir or os.getcwd())
    lines = circuit.rstrip().splitlines()
    while lines and lines[-1].strip().lower() == ".end":
        lines.pop()
    option = solver_option(klu, circuit, default_klu)
    if option:
        lines.append(option)
    control = [".control"]
    control += [f"pre_osdi {_quote(p)}" for p in osdi]
    body = _strip_quit(user_control)
    if body.strip():
        control += [f"echo {USER_BEGIN}", body, f"echo {USER_END}"]
    if not runs_analysis(user_control):
        control.append("run")
    if raw_path:
        control += collector(raw_path)
        control.append("quit")
    control.append(".endc")
    return "\n".join(lines + control + [".end"]) + "\n"


def printed_output(log: str) -> str:
    """What the netlist's own control block printed (``print``, ``echo``, ``meas`` ...), from ngspice's output.

    The text between :data:`USER_BEGIN` and :data:`USER_END`, without ngspice's informational lines
    (analysis banners, solver notes; :func:`memspice.spice.log.is_informational`).
    """
    from .log import is_informational

    lines, inside = [], False
    for line in log.splitlines():
        marker = line.strip()
        if marker == USER_BEGIN:
            inside = True
        elif marker == USER_END:
            inside = False
        elif inside and (line.strip() and not is_informational(line)) and not marker.startswith(PLOT_MARKER):
            lines.append(line.rstrip())
    return "\n".join(lines)


def _quote(path) -> str:
    p = str(path)
    return f'"{p}"' if any(c.isspace() for c in p) else p
