r"""Netlists for other simulators: ngspice (memspice's own), LTspice and Xyce.

memspice writes ngspice netlists.  :func:`to_dialect` rewrites one for LTspice
or Xyce, line by line, where the three simulators differ in what memspice
emits:

| construct             | ngspice              | LTspice                | Xyce                         |
|-----------------------|----------------------|------------------------|------------------------------|
| conditional           | `c ? a : b`          | `if(c, a, b)`          | `IF(c, a, b)`                |
| boolean and / or      | `&&` / `\|\|`        | `&` / `\|`             | `&` / `\|`                   |
| unary not             | `!`                  | `!`                    | `~`                          |
| power operator        | `^` or `**`          | `**` (`^` is XOR)      | `**` (`^` is XOR)            |
| natural log           | `ln` / `log`         | `ln` / `log`           | `ln` (`log` is base 10)      |
| B-source expression   | `I = expr`           | `I = expr`             | `I={expr}` (braces needed)   |
| subcircuit parameters | `X ... sub g=1`      | same                   | `X ... sub PARAMS: g=1`      |
| `.control` blocks     | yes                  | no (refused)           | no (refused)                 |
| `.options klu`        | yes                  | dropped                | `.options` commented out     |
| output selection      | `.save`              | `.save`                | `.PRINT DC\|TRAN\|AC ...`    |
| Verilog-A (OSDI)      | `N` instances        | refused                | refused                      |

Sources: ngspice manual (ngspice 46), chapter "Parametric netlists", table of
expression operators; LTspice help, "B. Arbitrary Behavioral Voltage or
Current Sources" (function ``if(x,y,z)``, operators ``&``, ``|``, ``^`` =
XOR, ``**`` = power); Xyce Reference Guide (Sandia), B device (``I={...}``,
braces required), expression operators (``**`` power, ``^`` XOR, ``~`` not,
``? :`` and ``IF()``), arithmetic functions (``LOG`` is base 10), X device
(``PARAMS:``), ``.PRINT`` and ``.OP`` (nodal voltages and ``I(<source>)`` of an operating point
are printed with a ``.PRINT DC`` line; the reference guide's ``.OP`` section says so for voltages and
lead currents, not in these exact words).
Numbers keep memspice's engineering suffixes (``f p n u m k Meg G T``), which
all three read the same way (``m`` is milli everywhere; memspice never writes
``M`` alone or ``µ``).

Xyce reads ``? :`` too, but memspice writes ``IF()`` for it as well: one form
for both other simulators, and the one both manuals document first.

``.include`` / ``.lib`` lines, sources (``DC``, ``PWL(...)``, ``SIN(...)``, ``PULSE(...)``),
``.model`` cards and analysis lines are kept as written: the three read them alike.  The functions
memspice's models use (``ln exp sqrt abs pow tanh sinh cosh``) exist under these names in all three;
a test keeps the models to that set.

What is not rewritten (and refused with a ``ValueError`` naming the line):
``.control`` blocks (several input vectors; write one vector per netlist),
Verilog-A ``N`` instances (LTspice has no Verilog-A; Xyce compiles Verilog-A
into its own plugins with ADMS/``buildxyceplugin``, which memspice does not
drive: use the behavioural face) and any ``?`` left outside comments.
"""

from __future__ import annotations

import re

from ..core.choices import Choice
from ..core.faces import Face

__all__ = [
    "Dialect",
    "Save",
    "SAVE_OUTPUTS_ABOVE",
    "rewrite_ternaries",
    "convert_expression",
    "to_dialect",
    "output_vectors",
    "add_saves",
]


class Dialect(Choice):
    """The simulator a netlist is written for (``str`` enum: ``Dialect.LTSPICE == "ltspice"``)."""

    NGSPICE = "ngspice"
    LTSPICE = "ltspice"
    XYCE = "xyce"


class Save(Choice):
    """Which vectors a netlist asks the simulator to keep.

    ``ALL``: every node voltage and source current (the simulator's default);
    ``OUTPUTS``: only the vectors users read (:func:`output_vectors`);
    ``AUTO``: ``OUTPUTS`` for arrays of more than :data:`SAVE_OUTPUTS_ABOVE` cells, else ``ALL``.
    """

    ALL = "all"
    OUTPUTS = "outputs"
    AUTO = "auto"

    def resolve(self, cells: int) -> Save:
        """``ALL`` or ``OUTPUTS`` for an array of ``cells`` cells."""
        if self is Save.AUTO:
            return Save.OUTPUTS if cells > SAVE_OUTPUTS_ABOVE else Save.ALL
        return self


#: cells above which ``Save.AUTO`` keeps only the output vectors.  Assumed: a 64x64 read keeps
#: about 2 m n = 8192 node voltages (tens of kB per operating point, MBs for a transient of a
#: thousand points); above that the raw file and the time to read it grow with m n while the
#: outputs a user reads grow with m + n.  64x64 is also where ``memspice read --backend auto``
#: stops choosing ngspice.
SAVE_OUTPUTS_ABOVE = 64 * 64


# --- expressions ---------------------------------------------------------------------------------------
def _split_top(expr: str, sep: str) -> list[str]:
    """``expr`` split at ``sep`` characters outside parentheses and braces."""
    parts, depth, start = [], 0, 0
    for k, ch in enumerate(expr):
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(expr[start:k])
            start = k + 1
    parts.append(expr[start:])
    return parts


def _check_balanced(expr: str) -> None:
    depth = 0
    for ch in expr:
        depth += ch in "({["
        depth -= ch in ")}]"
        if depth < 0:
            break
    if depth != 0:
        raise ValueError(f"unbalanced parentheses in expression {expr!r}")


def _ternary_split(expr: str):
    """(condition, then, else) of the outermost ``c ? a : b`` at depth 0 of ``expr``, or None.

    The ternary binds loosest and groups to the right (C rules, which ngspice follows):
    ``a ? b : c ? d : e`` is ``a ? b : (c ? d : e)`` and ``a ? b ? c : d : e`` is
    ``a ? (b ? c : d) : e``.
    """
    depth, q = 0, None
    for k, ch in enumerate(expr):
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif ch == "?" and depth == 0:
            q = k
            break
    if q is None:
        return None
    depth, pending = 0, 0
    for k in range(q + 1, len(expr)):
        ch = expr[k]
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif depth == 0 and ch == "?":
            pending += 1
        elif depth == 0 and ch == ":":
            if pending == 0:
                return expr[:q], expr[q + 1 : k], expr[k + 1 :]
            pending -= 1
    raise ValueError(f"'?' without its ':' in expression {expr!r}")


def _top_level(expr: str) -> str:
    """The characters of ``expr`` outside any parentheses or braces."""
    out, depth = [], 0
    for ch in expr:
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def rewrite_ternaries(expr: str, function: str = "if") -> str:
    """``expr`` with every C-style ``c ? a : b`` written as ``function(c, a, b)``, nested ones included.

    Parameters
    ----------
    expr : str
        An ngspice expression (a B-source value, a brace expression).
    function : str
        Name of the three-argument conditional: ``"if"`` (LTspice) or ``"IF"`` (Xyce).

    Raises
    ------
    ValueError
        Unbalanced parentheses, or a ``?`` without its ``:``.
    """
    _check_balanced(expr)

    def rw(s: str) -> str:
        parts = _split_top(s, ",")
        if len(parts) > 1:
            return ",".join(rw(p) for p in parts)
        split = _ternary_split(s)
        if split is not None:
            cond, yes, no = (rw(p).strip() for p in split)
            lead = s[: len(s) - len(s.lstrip())]
            trail = s[len(s.rstrip()) :]
            return f"{lead}{function}({cond}, {yes}, {no}){trail}"
        if ":" in _top_level(s):
            raise ValueError(f"':' without a '?' in expression {s!r}")
        out, k = [], 0
        while k < len(s):
            ch = s[k]
            if ch in "({[":
                close = {"(": ")", "{": "}", "[": "]"}[ch]
                depth, j = 0, k
                while True:
                    if s[j] in "({[":
                        depth += 1
                    elif s[j] in ")}]":
                        depth -= 1
                        if depth == 0:
                            break
                    j += 1
                out.append(ch + rw(s[k + 1 : j]) + close)
                k = j + 1
            else:
                out.append(ch)
                k += 1
        return "".join(out)

    return rw(expr)


_LOG = re.compile(r"(?<![A-Za-z0-9_.])log(?=\s*\()", re.I)
_NOT = re.compile(r"!(?!=)")
#: ngspice's function form of the conditional (ngspice manual, B source): the same as ``if()`` elsewhere
_TERNARY_FCN = re.compile(r"(?<![A-Za-z0-9_.])ternary_fcn\s*\(", re.I)


def convert_expression(expr: str, dialect) -> str:
    """An ngspice expression written for ``dialect`` (see the module's table).

    ngspice's ``^`` (power) becomes ``**``; ``&&``/``||`` become ``&``/``|``; ``c ? a : b`` and
    ``ternary_fcn(c, a, b)`` become ``if(c, a, b)`` (LTspice) or ``IF(c, a, b)`` (Xyce); for Xyce ``!`` becomes ``~``
    and ``log(`` (natural in ngspice, base 10 in Xyce) becomes ``ln(``.
    """
    dialect = Dialect.parse(dialect)
    if dialect is Dialect.NGSPICE:
        return expr
    function = "if" if dialect is Dialect.LTSPICE else "IF"
    out = _TERNARY_FCN.sub(function + "(", rewrite_ternaries(expr, function))
    out = out.replace("&&", "&").replace("||", "|").replace("^", "**")
    if dialect is Dialect.XYCE:
        out = _NOT.sub("~", out)
        out = _LOG.sub("ln", out)
    return out


# --- netlists ------------------------------------------------------------------------------------------
_BSOURCE = re.compile(r"^(?P<head>\s*B\S*\s+\S+\s+\S+\s+)(?P<kind>[IV])\s*=\s*(?P<expr>.*)$", re.I)
_BRACES = re.compile(r"\{([^{}]*)\}")
_ANALYSIS = re.compile(r"^\s*\.(op|dc|tran|ac)\b", re.I)
_PRINT_TYPE = {"op": "DC", "dc": "DC", "tran": "TRAN", "ac": "AC"}


def _is_end(low: str) -> bool:
    return low == ".end" or low.startswith((".end ", ".end\t"))


def _join_continuations(text: str) -> list[str]:
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("+") and lines:
            lines[-1] = lines[-1] + " " + line[1:].strip()
        else:
            lines.append(line)
    return lines


def _subckt_depth_lines(lines):
    """(line, inside_subckt) for every line."""
    depth = 0
    for line in lines:
        low = line.strip().lower()
        if low.startswith(".subckt"):
            yield line, True
            depth += 1
            continue
        if low.startswith(".ends"):
            depth = max(depth - 1, 0)
            yield line, True
            continue
        yield line, depth > 0


def _xyce_params(line: str) -> str:
    """``X`` line with ``PARAMS:`` before its first ``name=value`` (Xyce's subcircuit call syntax)."""
    tokens = line.split()
    if any(t.lower() == "params:" for t in tokens):
        return line
    for k, tok in enumerate(tokens):
        if k > 0 and "=" in tok:
            return " ".join(tokens[:k] + ["PARAMS:"] + tokens[k:])
    return line


def _save_to_print(line: str, print_type: str) -> str:
    names = line.split()[1:]
    if not names or any(n.lower() == "all" for n in names):
        extra = [n for n in names if n.lower() != "all"]
        return " ".join([f".PRINT {print_type} FORMAT=CSV V(*) I(*)", *extra])
    return " ".join([f".PRINT {print_type} FORMAT=CSV", *names])


def to_dialect(text: str, dialect) -> str:
    """ngspice netlist ``text`` (as memspice writes it) rewritten for ``dialect``.

    ``Dialect.NGSPICE`` returns ``text`` unchanged.  For LTspice and Xyce every B-source and
    brace expression goes through :func:`convert_expression`; ``.save`` lines become Xyce
    ``.PRINT`` lines (Xyce's ``.SAVE`` is something else: it saves initial conditions); a Xyce
    netlist without any gets ``.PRINT <analysis> V(*) I(*)`` (Xyce writes only what ``.PRINT``
    names).  A comment line after the title says which simulator the file is for.

    Raises
    ------
    ValueError
        A ``.control`` block, a Verilog-A ``N`` instance, an OSDI header, or a ``?`` the rewriter
        did not reach: these have no equivalent in the other simulator (the message says what to do).
    """
    dialect = Dialect.parse(dialect)
    if dialect is Dialect.NGSPICE:
        return text
    name = "LTspice" if dialect is Dialect.LTSPICE else "Xyce"
    lines = _join_continuations(text)
    analysis = None
    for line in lines:
        match = _ANALYSIS.match(line)
        if match:
            analysis = match.group(1).lower()
    print_type = _PRINT_TYPE.get(analysis or "op", "DC")
    out = [lines[0] if lines else "*", f"* written for {name} by memspice (--dialect {dialect.value})"]
    printed = False
    for k, line in enumerate(lines[1:], start=2):
        stripped = line.strip()
        low = stripped.lower()
        if not stripped or stripped.startswith("*"):
            if low.startswith("* memspice-osdi:"):
                raise ValueError(f"line {k}: '{stripped}': a Verilog-A (OSDI) library; {name} cannot load it")
            out.append(line)
            continue
        if low.startswith(".control"):
            raise ValueError(
                f"line {k}: a .control block (ngspice's control language) has no {name} equivalent; "
                "write one input vector per netlist (memspice netlist crossbar --vector K), or keep the "
                "ngspice dialect"
            )
        if low[0] == "n":
            raise ValueError(
                f"line {k}: '{stripped.split()[0]}' is a Verilog-A (OSDI) N instance: "
                + (
                    "LTspice has no Verilog-A"
                    if dialect is Dialect.LTSPICE
                    else "Xyce runs Verilog-A only as its own compiled plugin (ADMS, buildxyceplugin), "
                    "which memspice does not build"
                )
                + f"; use the behavioural face (--face {Face.BEHAVIOURAL.value})"
            )
        match = _BSOURCE.match(line)
        if match:
            expr = convert_expression(match.group("expr").strip(), dialect)
            if dialect is Dialect.XYCE:
                expr = expr.strip()
                if not (expr.startswith("{") and expr.endswith("}")):
                    expr = "{" + expr + "}"
                line = f"{match.group('head')}{match.group('kind')}={expr}"
            else:
                line = f"{match.group('head')}{match.group('kind')} = {expr}"
        elif "{" in line:
            line = _BRACES.sub(lambda mm: "{" + convert_expression(mm.group(1), dialect) + "}", line)
        if low.startswith(".options"):
            if dialect is Dialect.LTSPICE:
                kept = [t for t in line.split()[1:] if t.lower() not in ("klu", "sparse")]
                line = " ".join([".options", *kept]) if kept else f"* {stripped} (ngspice only)"
            else:
                line = (
                    f"* {stripped}  (ngspice options, not written for Xyce: it takes .OPTIONS <package> "
                    "name=value, e.g. .OPTIONS TIMEINT RELTOL=...)"
                )
        elif low.startswith(".save") and dialect is Dialect.XYCE:
            line = _save_to_print(stripped, print_type)
            printed = True
        elif _is_end(low) and dialect is Dialect.XYCE and not printed:
            out.append(f".PRINT {print_type} FORMAT=CSV V(*) I(*)")
            printed = True
        elif low[0] == "x" and dialect is Dialect.XYCE:
            line = _xyce_params(line)
        if "?" in line:
            raise ValueError(f"line {k}: a '?' left after rewriting for {name}: {stripped!r}")
        out.append(line)
    return "\n".join(out) + "\n"


# --- output vectors ------------------------------------------------------------------------------------
_INDEXED = re.compile(r"^(in|s|out|spk)(\d+)$", re.I)


def output_vectors(text: str) -> list[str]:
    """The vectors users read from a memspice crossbar netlist, in ngspice names.

    ``v(in<i>)`` (word-line drivers), ``v(s<j>)`` (bit-line feet), ``i(vsense<j>)`` (column
    currents, where a ``Vsense<j>`` source exists), ``v(out<j>)`` (TIA outputs) and ``v(spk<j>)``
    (column neurons' spikes), as far as the top level of ``text`` (outside ``.subckt``) has them.
    """
    nodes: dict[str, set[int]] = {"in": set(), "s": set(), "out": set(), "spk": set()}
    sense: set[int] = set()
    for line, in_sub in _subckt_depth_lines(_join_continuations(text)[1:]):
        stripped = line.strip()
        if in_sub or not stripped or stripped[0] in "*.+":
            continue
        tokens = stripped.split()
        name = tokens[0].lower()
        if name.startswith("vsense") and name[6:].isdigit():
            sense.add(int(name[6:]))
        for tok in tokens[1:]:
            if "=" in tok:
                break
            match = _INDEXED.match(tok)
            if match:
                nodes[match.group(1).lower()].add(int(match.group(2)))
    names = [f"v(in{i})" for i in sorted(nodes["in"])]
    names += [f"v(s{j})" for j in sorted(nodes["s"])]
    names += [f"i(vsense{j})" for j in sorted(sense)]
    names += [f"v(out{j})" for j in sorted(nodes["out"])]
    names += [f"v(spk{j})" for j in sorted(nodes["spk"])]
    return names


#: names per ``.save`` line (ngspice reads long lines, but an editor and a diff do not like them)
_NAMES_PER_LINE = 16


def add_saves(text: str, vectors) -> str:
    """``text`` with ``.save`` lines for ``vectors`` before its analysis (or ``.control``, or ``.end``)."""
    vectors = list(vectors)
    if not vectors:
        return text
    lines = text.splitlines()
    at = None
    for k, line in enumerate(lines[1:], start=1):
        low = line.strip().lower()
        if _ANALYSIS.match(line) or low.startswith(".control") or _is_end(low):
            at = k
            break
    if at is None:
        at = len(lines)
    saves = ["* keep only the outputs (raw file size grows with the array; memspice netlist --save all keeps all)"]
    for k in range(0, len(vectors), _NAMES_PER_LINE):
        saves.append(".save " + " ".join(vectors[k : k + _NAMES_PER_LINE]))
    return "\n".join(lines[:at] + saves + lines[at:]) + "\n"
