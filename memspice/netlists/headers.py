"""Header comments memspice writes into its netlists, and the rules for reading them back.

Two kinds of ``*`` comment lines right after the title carry information that plain SPICE ignores:

* ``* memspice-osdi: <library>``: a compiled Verilog-A library the netlist needs
  (:func:`with_osdi`); :func:`header_libraries` decides which of them may be loaded;
* ``* memspice-outputs: <vector> ...``: the circuit's outputs in ngspice names
  (:func:`with_outputs`), what ``memspice run`` prints and plots by default
  (:func:`default_signals`; netlists from elsewhere: their top-level node voltages and source
  currents, not subcircuit internals).

The trust rule lives here, not in the command line, so that any caller of
:func:`memspice.spice.run` applies the same one::

    from memspice.netlists.headers import header_libraries
    from memspice.spice import run
    from memspice.spice.netlist_text import read_netlist

    src = read_netlist("x.cir")
    res = run(src.path, osdi=header_libraries(src.path, src.text))

Why in :mod:`memspice.netlists` (not :mod:`memspice.spice` or :mod:`memspice.core.osdi`): a bare
header name whose library is missing from the cache is compiled again from memspice's own model
of that module, which needs :mod:`memspice.models`; the driver and the bottom layer import no
device model.
"""

from __future__ import annotations

from pathlib import Path

from ..core.osdi import header_name

#: header tag naming a compiled Verilog-A library; ``memspice run`` loads those :func:`header_libraries` allows
OSDI_TAG = "* memspice-osdi: "
#: comment written under the header lines: how to load the libraries without ``memspice run``
OSDI_HELP = (
    "* The Verilog-A models above are compiled OSDI files named by file name only. 'memspice run' finds them\n"
    "* in memspice's OSDI cache (python -c 'import memspice.core.osdi as o; print(o.cache_dir())': on Linux\n"
    "* $MEMSPICE_CACHE/osdi, else $XDG_CACHE_HOME/memspice/osdi, default ~/.cache/memspice/osdi) and compiles\n"
    "* them again if missing. Plain ngspice:\n"
    "* put 'pre_osdi <cache folder>/<file>' for each file in a .spiceinit next to this netlist, or\n"
    "* 'osdi <cache folder>/<file>' in a .control block before the analysis.\n"
)
#: header tag listing the circuit's outputs (ngspice vector names, space separated; several lines add up)
OUTPUTS_TAG = "* memspice-outputs: "
#: names per ``* memspice-outputs:`` line (assumed: short lines stay readable in an editor)
OUTPUTS_PER_LINE = 16
#: header lines are looked for in the first this many lines (they follow the title)
HEADER_LINES = 400


def _header(text: str) -> list[str]:
    """The first :data:`HEADER_LINES` lines of a netlist (memspice writes its header lines there)."""
    return text.split("\n", HEADER_LINES)[:HEADER_LINES]


def _after_title(text: str, lines: list[str]) -> str:
    if not lines:
        return text
    title, _, rest = text.partition("\n")
    return "\n".join([title, *lines]) + "\n" + rest


# --- compiled Verilog-A libraries ------------------------------------------------------------------------
def with_osdi(text: str, libraries) -> str:
    """Name the Verilog-A libraries a netlist needs in ``* memspice-osdi:`` header lines (after the title).

    memspice's own compiled models are named by bare file name (``<module>-<sha16>.osdi``, see
    :func:`memspice.core.osdi.header_name`), so a netlist carries no home-directory path; a comment
    says how to load them by hand.  Other libraries keep the path given.
    """
    if not libraries:
        return text
    title, _, rest = text.partition("\n")
    names = [header_name(p) for p in libraries]
    return "\n".join([title] + [f"{OSDI_TAG}{p}" for p in names]) + "\n" + OSDI_HELP + rest


def osdi_tags(text: str) -> list[str]:
    """The libraries named by :data:`OSDI_TAG` lines of a netlist."""
    return [ln[len(OSDI_TAG) :].strip() for ln in text.splitlines() if ln.startswith(OSDI_TAG)]


def header_libraries(path, text: str, trust: bool = False) -> list[str]:
    """Libraries named by ``* memspice-osdi:`` header lines that may be loaded (pass them as ``osdi=``).

    Loaded without asking: memspice's own compiled models (its OSDI cache), named by a path inside
    the cache or (the header format memspice writes, no folder) by the bare cache file name
    ``<module>-<digest>.osdi`` or the module name alone; see :func:`cached_osdi`.  Any other library
    only with ``trust=True`` (``memspice run --trust-header-osdi``): a header line is part of the
    file, and a netlist from elsewhere must not load code.

    Parameters
    ----------
    path : str or os.PathLike
        The netlist's file (named in errors).
    text : str
        The netlist's text.
    trust : bool
        Also load libraries memspice did not compile.

    Raises
    ------
    memspice.spice.errors.UnsafeNetlistError
        A header names a library memspice did not compile and ``trust`` is False.
    ValueError
        A bare name is neither in the cache nor the current source of a memspice model.
    """
    from ..core.osdi import is_cache_name, is_memspice_compiled
    from ..spice.errors import UnsafeNetlistError

    libraries = []
    for tag in osdi_tags(text):
        if is_cache_name(tag):
            libraries.append(str(cached_osdi(path, tag)))
            continue
        if not (trust or is_memspice_compiled(tag)):
            raise UnsafeNetlistError(
                f"{path}: the header line '* memspice-osdi: {tag}' asks to load a shared library that memspice "
                f"did not compile; load it yourself with --osdi {tag}, or pass --trust-header-osdi if you trust "
                "this netlist"
            )
        libraries.append(tag)
    return libraries


def cached_osdi(path, tag: str) -> Path:
    """The compiled library a bare header name means: found in memspice's OSDI cache, else compiled again
    from memspice's own model of that module (default parameters; only if the source digest matches a
    ``<module>-<digest>.osdi`` name)."""
    from ..core.osdi import cache_dir, cache_name, compile_veriloga, find_cached

    found = find_cached(tag)
    if found is not None:
        return found
    from ..models import MODELS

    module = tag.split("-", 1)[0]
    for cls in MODELS.values():
        model = cls()
        for frozen in (False, True):
            if (model.va_frozen_module if frozen else model.va_module) != module:
                continue
            source = model.verilog_a(frozen)
            if tag.endswith(".osdi") and cache_name(source, module) != tag:
                continue
            return compile_veriloga(source, module)
    raise ValueError(
        f"{path}: the header line '* memspice-osdi: {tag}' names a memspice-compiled Verilog-A "
        f"library that is not in the OSDI cache ({cache_dir()}) and is not the current source of a "
        "memspice model; write the netlist again with 'memspice netlist ... --face veriloga' "
        "(it compiles what it needs), or load the file yourself with --osdi FILE"
    )


# --- the circuit's outputs -------------------------------------------------------------------------------
def with_outputs(text: str, names) -> str:
    """Name the circuit's outputs (ngspice vector names) in ``* memspice-outputs:`` lines after the title."""
    names = [str(n).lower() for n in names]
    lines = [OUTPUTS_TAG + " ".join(names[k : k + OUTPUTS_PER_LINE]) for k in range(0, len(names), OUTPUTS_PER_LINE)]
    return _after_title(text, lines)


def output_tags(text: str) -> list[str]:
    """The outputs named by :data:`OUTPUTS_TAG` lines (in order; empty for a netlist without them)."""
    found: list[str] = []
    for line in _header(text):
        if line.lower().startswith(OUTPUTS_TAG.lower()):
            found += line[len(OUTPUTS_TAG) :].split()
    return found


def is_top_level(name: str) -> bool:
    """Whether an ngspice vector belongs to the top level: ``v(out)``, ``i(v1)``, ``v1#branch``.

    Subcircuit internals carry the instance path (``v(x1.n3)``, ``i(v.x1.vsense)``,
    ``x1.v1#branch``); device-internal vectors a ``#`` other than a source's ``#branch``
    (``v(q1#collector)``).
    """
    low = name.lower()
    inner = low[2:-1] if len(low) > 3 and low[1] == "(" and low.endswith(")") else low
    if "." in inner or ":" in inner:
        return False
    return "#" not in inner or inner.endswith("#branch")


def default_signals(names, text: str = "") -> list[str]:
    """What to print and plot when the user names no signal: the circuit's outputs.

    A memspice netlist names them (``* memspice-outputs:``): those the plot has.  Other netlists:
    top-level node voltages and source currents (:func:`is_top_level`), in the plot's order; all
    names if none is top-level.

    Parameters
    ----------
    names : sequence of str
        The plot's signal names (ngspice's, lower case).
    text : str
        The netlist's text (for its header).
    """
    names = list(names)
    have = set(names)
    outputs = [n for n in output_tags(text) if n in have]
    if outputs:
        return outputs
    top = [n for n in names if is_top_level(n)]
    return top or names
