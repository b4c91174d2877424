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
_HAS_CONTROL = re.compile(r"\.control", re.I)
# ngspice compares dot commands by prefix (ciprefix) and skips the rest of the word: '.incfoo x', '.inc-x x',
# '.include* x' all include x; '.library x s', '.lib-x x s' are '.lib'.  The word ends at ASCII white space
# (C isspace: space, tab, CR, VT, FF); characters Python would also take for space or line ends are refused
# before any check (:func:`ambiguous_character`)
_WS = "[ \t\r\v\f]"
_INC_LINE = re.compile(r"^[ \t]*\.(?:inc|lib)[^\n]*", re.I | re.M)
_INCLUDE = re.compile(
    rf"^(?P<lead>[ \t]*\.inc[^ \t\r\v\f\n]*{_WS}+)(?P<path>\"[^\"]*\"|'[^']*'|[^ \t\r\v\f\n]+)(?P<rest>.*)$", re.I
)
_LIB = re.compile(
    rf"^(?P<lead>[ \t]*\.lib[^ \t\r\v\f\n]*{_WS}+)(?P<path>\"[^\"]*\"|'[^']*'|[^ \t\r\v\f\n]+)"
    rf"(?P<rest>{_WS}+(?P<section>[^ \t\r\v\f\n]+).*)?$",
    re.I,
)
#: characters ngspice and Python's text handling read differently: Python ends lines at VT, FF, lone CR, the
#: separators 0x1C-0x1E, NEL, U+2028/9 and takes them (and 0x1F, NBSP and the Unicode spaces) for white space;
#: ngspice ends lines only at LF, its white space is ASCII, and a NUL ends its line.  A netlist holding one
#: could hide a control block (``echo x<VT>.endc``) or an include from memspice's checks
_AMBIGUOUS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0130\u212a]|\r(?!\n)"
)
#: largest netlist or include file memspice reads, bytes (assumed: the largest foundry model libraries are
#: tens of MB and memspice's own generated netlists well under this; a larger file, or a sparse one that
#: claims terabytes, would exhaust memory before any check)
MAX_FILE_BYTES = 1 << 29
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


def ambiguous_character(text: str) -> str | None:
    """``line N: U+XXXX (name)`` for the first character ngspice and memspice's checks would read differently.

    Such characters (vertical tab, form feed, a carriage return not before a
    line feed, other control characters, NUL, Unicode line separators and
    spaces) never belong in a netlist; an untrusted netlist holding one is
    refused (:func:`memspice.spice.safety.check_netlist`), since memspice's
    line-by-line checks could not see what ngspice sees.
    """
    m = _AMBIGUOUS.search(text)
    if m is None:
        return None
    import unicodedata

    ch = m.group(0)[0]
    line = text.count("\n", 0, m.start()) + 1
    names = {"\r": "carriage return not before a line feed", "\x00": "NUL", "\x0b": "vertical tab", "\x0c": "form feed"}
    name = names.get(ch) or unicodedata.name(ch, "") or "control character"
    return f"line {line}: character U+{ord(ch):04X} ({name.lower()})"


def read_bytes(path, what: str = "include file") -> bytes:
    """The bytes of a netlist or include file, at most :data:`MAX_FILE_BYTES`; a SpiceNetlistError naming it else."""
    real = os.path.realpath(path)
    if real.startswith(("/proc/", "/sys/")):
        raise SpiceNetlistError(f"{what} {str(path)!r} is a kernel file ({real}), not a netlist or model file")
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            data = fh.read(MAX_FILE_BYTES + 1) if size <= MAX_FILE_BYTES else b""
    except (OSError, ValueError) as exc:
        raise SpiceNetlistError(f"cannot read {what} {str(path)!r}: {exc}") from None
    if size > MAX_FILE_BYTES or len(data) > MAX_FILE_BYTES:
        raise SpiceNetlistError(
            f"{what} {str(path)!r} is larger than {MAX_FILE_BYTES >> 20} MiB: memspice does not read it "
            "(a netlist or model file that large is not one; a sparse file or a /proc file can claim any size)"
        )
    return data


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
        raw = read_bytes(path, "netlist file")
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


def split_control(netlist: str, title: bool = True) -> tuple[str, str]:
    """Split off every ``.control`` ... ``.endc`` block; returns (circuit, control bodies joined in order).

    As ngspice reads them: a line starting ``.control`` (``.control * note``,
    ``.controls`` too) opens a block, one starting ``.endc`` closes it, and a
    block left open runs to the end of the netlist (a last ``.end`` stays a
    circuit line).  ``title``: the first line is a title (a netlist, not an
    included file).
    """
    if not _HAS_CONTROL.search(directives(netlist)):  # fast path for large generated netlists
        return netlist, ""
    circuit: list[str] = []
    bodies: list[str] = []
    body: list[str] | None = None
    lines = netlist.splitlines(keepends=True)
    last = max((k for k, ln in enumerate(lines) if ln.strip()), default=-1)
    for k, line in enumerate(lines):
        word = line.strip().lower()
        if body is None:
            if (k > 0 or not title) and word.startswith(".control"):
                body = []
            else:
                circuit.append(line)
        elif word.startswith(".endc"):
            bodies.append("".join(body).strip("\r\n"))
            body = None
        elif word.startswith(".control"):
            continue  # ngspice: "redundant .control card"
        elif k == last and word == ".end":
            circuit.append(line)
        else:
            body.append(line)
    if body is not None:
        bodies.append("".join(body).strip("\r\n"))
    return "".join(circuit), "\n".join(b for b in bodies if b.strip())


_COMMAND_SEPARATOR = re.compile(r"""("[^"]*"|'[^']*'|[^;"']+)|;""")


def _split_commands(line: str) -> list[str]:
    """``line`` split at the ``;`` that separate commands (not those inside quotes)."""
    parts, current = [], ""
    for m in _COMMAND_SEPARATOR.finditer(line):
        if m.group(1) is None:
            parts.append(current)
            current = ""
        else:
            current += m.group(1)
    return parts + [current]


def control_commands(control: str) -> list[tuple[str, str]]:
    """(command word, whole command) of every command in a control body; ``;`` outside quotes separates commands."""
    out = []
    for line in control.splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] == "*":
            continue
        for cmd in _split_commands(stripped):
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
    """(match of the whole line, match of its path) for every ``.include`` / ``.lib FILE [SECTION]`` line."""
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
        if m.re is _LIB and not m.group("section"):
            continue  # '.lib NAME': a section header (or, in ngspice's compatibility modes, an include)
        rest = m.group("rest") or ""
        out += [text[pos : line.start()], m.group("lead") + _absolute(m.group("path"), base_dir) + rest]
        pos = line.end()
    out.append(text[pos:])
    return "".join(out)


def included_files(text: str, base_dir, title: bool = True) -> list[Path]:
    """Files a netlist includes (``.include``, ``.lib FILE SECTION``), resolved as ngspice does.

    ``title``: the first line is a title (a netlist), not one of an included file.
    """
    return [t.path for t in _targets(text, Path(base_dir), title)]


def read_text(path) -> str:
    """A netlist or include file as text: UTF-8, else Latin-1 (ngspice reads bytes); see :func:`read_bytes`."""
    raw = read_bytes(path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


@dataclass(frozen=True)
class _Target:
    """A file an include line may make ngspice read."""

    path: Path  # as ngspice opens it (not resolved: a folder of symbolic links stays one)
    section: str | None  # ``.lib FILE SECTION``: the section; None for ``.include`` and ``.lib FILE``
    folder: Path  # what the file's own relative includes resolve against

    @property
    def key(self) -> tuple[str, str | None]:
        try:
            real = os.path.realpath(self.path)
        except (OSError, ValueError):
            real = str(self.path)
        return real, self.section


def _targets(text: str, base_dir: Path, title: bool) -> list[_Target]:
    """Every file an include line of ``text`` may make ngspice read, as ngspice finds it (a superset).

    ngspice opens a relative path against the including file's folder as it
    was named (``a/link.inc``'s own includes resolve in ``a``, even if
    ``link.inc`` is a link elsewhere), and, if no file is there, against its
    working folder; a ``.lib FILE SECTION`` file's includes resolve in the
    folder of its real path.  A ``.lib FILE`` without a section is a section
    header, or an include in ngspice's compatibility modes: followed too.
    """
    out = []
    for _, m in _include_lines(directives(text), title):
        raw = _unquote(m.group("path")).split("\x00", 1)[0]  # ngspice's C strings end at a NUL
        if not raw:
            continue
        section = m.groupdict().get("section")
        is_lib = m.re is _LIB and bool(section)
        p = Path(raw).expanduser()
        if p.is_absolute():
            candidates = [p]
        elif title:  # the netlist itself: memspice rewrites its relative paths to absolute ones (resolve_includes)
            candidates = [(base_dir / p).resolve()]
        else:
            candidates = [base_dir / p, Path.cwd() / p]
        for c in candidates:
            folder = Path(os.path.realpath(c)).parent if is_lib else c.parent
            out.append(_Target(c, section.lower() if is_lib and section else None, folder))
    return out


def _lib_section(text: str, section: str) -> str:
    """The lines of ``.lib SECTION`` ... ``.endl`` in a library file (empty if absent)."""
    out: list[str] = []
    inside = False
    for line in text.splitlines():
        words = line.strip().lower().split()
        if not inside and len(words) == 2 and words[0] == ".lib" and words[1] == section:
            inside = True
        elif inside and words and words[0] == ".endl":
            break
        elif inside:
            out.append(line)
    return "\n".join(out)


_MAX_INCLUDE_DEPTH = 50


def check_includes(text: str, base_dir, origin: str = "netlist") -> None:
    """Refuse includes ngspice cannot survive, before it runs.

    Raises :class:`SpiceNetlistError` for a recursive include (ngspice
    recurses until it crashes), naming the chain, and for an include of
    something that is not a regular file (a FIFO or ``/dev/stdin`` would wait
    forever).  ``.lib FILE SECTION`` follows only that section, as ngspice does.
    """

    def visit(body: str, folder: Path, chain: list[tuple[str, str | None]], title: bool) -> None:
        if len(chain) > _MAX_INCLUDE_DEPTH:
            raise SpiceNetlistError(f"includes nested more than {_MAX_INCLUDE_DEPTH} deep: {_chain(chain)}")
        for target in _targets(body, folder, title):
            path, section = target.path, target.section
            key = target.key
            if key in chain:
                raise SpiceNetlistError(f"recursive include: {_chain([*chain, key])}")
            if not path.exists():
                continue  # ngspice reports a missing file itself
            if not path.is_file():
                raise SpiceNetlistError(
                    f"{_chain([*chain, key])}: {path} is not a regular file (a folder, FIFO or device); "
                    "ngspice would wait on it or fail"
                )
            sub = read_text(path)
            visit(_lib_section(sub, section) if section else sub, target.folder, [*chain, key], False)

    visit(text, Path(base_dir), [(origin, None)], True)


def _chain(chain) -> str:
    return " -> ".join(f"{p} (section {s})" if s else p for p, s in chain)


def netlist_files(text: str, base_dir, origin: str = "netlist"):
    """Yield ``(name, text, folder, is_netlist)`` for the netlist and every file it reaches through includes.

    Whole files, each once, following every include line in them (also those
    outside the ``.lib`` section ngspice would use): the conservative view a
    safety check needs.  Missing and non-regular files are skipped
    (:func:`check_includes` reports the latter).
    """
    seen: set[tuple[str, Path]] = set()
    todo: list[tuple[str, str, Path, bool]] = [(origin, text, Path(base_dir), True)]
    while todo:
        name, body, folder, is_netlist = todo.pop(0)
        yield name, body, folder, is_netlist
        for target in _targets(body, folder, is_netlist):
            key = (target.key[0], target.folder)  # the same file reached from another folder resolves differently
            if key in seen or not target.path.is_file():
                continue
            seen.add(key)
            todo.append((str(target.path), read_text(target.path), target.folder, False))


def _included_analysis(text: str, base_dir: Path, depth: int = 0, title: bool = True) -> bool:
    """Whether a file the netlist includes (recursively) holds an analysis line."""
    if depth > 20:
        return False
    for target in _targets(text, base_dir, title):
        if not target.path.is_file():  # missing (ngspice says so) or not a regular file (check_includes says so)
            continue
        try:
            sub = read_bytes(target.path).decode("latin-1")
        except SpiceNetlistError:
            continue
        if ANALYSIS.search(split_control(sub)[0]) or _included_analysis(sub, target.folder, depth + 1, False):
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


def run_token() -> str:
    """A fresh random word for one run's results file and plot markers (:func:`results_name`)."""
    import secrets

    return secrets.token_hex(8)


def results_name(token: str = "") -> str:
    """The results file a run's collector writes: with ``token``, a name the netlist cannot know in advance.

    A netlist's own control block could otherwise write ``memspice-results.raw``
    itself (and ``quit`` before the collector), and memspice would report its
    forged numbers as ngspice's.
    """
    return f"memspice-results-{token}.raw" if token else RESULTS_FILE


def plot_marker(token: str = "") -> str:
    """The line the collector echoes before each plot it writes (a netlist cannot echo one with ``token``)."""
    return f"{PLOT_MARKER}{token}"


def collector(results_file: str = RESULTS_FILE, marker: str = PLOT_MARKER) -> list[str]:
    """Control commands that write every plot, in creation order, to ``results_file`` (binary raw)."""
    return [
        "set filetype=binary",
        "set appendwrite",
        "foreach memspice_pl $plots",
        f"echo {marker} $memspice_pl",
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
    marker: str = PLOT_MARKER,
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
    marker : str
        What the collector echoes before each plot (:func:`plot_marker`).

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
        control += collector(raw_path, marker)
        control.append("quit")
    control.append(".endc")
    return "\n".join(lines + control + [".end"]) + "\n"


def without_pre_osdi(text: str) -> str:
    """``text`` without its ``pre_osdi`` lines (those :func:`runnable` writes).

    libngspice in shared mode (the shared-mode driver, the co-simulation worker) loads the libraries with the
    ``osdi`` command before the circuit instead.
    """
    return "\n".join(ln for ln in text.splitlines() if not ln.startswith("pre_osdi ")) + "\n"


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
