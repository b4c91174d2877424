"""The two netlists of a marked design: the co-simulated one and the monolithic one (the reference).

* :func:`cosim_netlist`: every marked line becomes an instance of the compiled port device
  (:mod:`memspice.cosim.device`), ``N<name> <ports> memspice_cosim<N> cosim_id=<k>``; the rest of the
  netlist is untouched (line numbers too: the replaced continuation lines become comments).
* :func:`monolithic_netlist`: every marked line becomes a call of a subcircuit holding the whole array as
  memspice's netlist writer expands it (:func:`memspice.netlists.crossbar.crossbar_netlist`: one line per
  wire segment, line capacitor and cell), for ngspice alone.  The cells' states start at the marked
  values: under ``uic`` they do anyway; otherwise an ``.ic`` line holds every cell's state node at its
  initial value during the operating point (marks at the top level only).
"""

from __future__ import annotations

import re

from ..circuits.cells import Face
from ..netlists.crossbar import crossbar_netlist
from ..netlists.headers import with_osdi
from .device import device_name
from .syntax import Design, Marked

#: model name of the port device with ``n`` ports in the co-simulated netlist
MODEL_PREFIX = "memspice_cosim"
#: subcircuit name of the ``k``-th marked array in the monolithic netlist
SUBCKT_PREFIX = "memspice_xbar"
_TRAN = re.compile(r"^\s*\.tran\b(?P<rest>[^\n]*)$", re.I | re.M)


def _replace(design: Design, lines_for) -> list[str]:
    lines = design.lines
    for k, mark in enumerate(design.marked):
        new = lines_for(k, mark)
        span = mark.last - mark.first + 1
        lines[mark.first] = new
        for q in range(mark.first + 1, mark.first + span):
            lines[q] = f"* (memspice: line {q + 1} continued the marked instance {mark.name})"
    return lines


def _insert_before_end(lines: list[str], extra: list[str]) -> str:
    end = next((k for k in range(len(lines) - 1, 0, -1) if lines[k].strip().lower() == ".end"), None)
    if end is None:
        return "\n".join(lines + extra) + "\n"
    return "\n".join(lines[:end] + extra + lines[end:]) + "\n"


def cosim_netlist(design: Design) -> str:
    """The netlist ngspice runs in a co-simulation (see module docstring)."""
    sizes = sorted({m.xbar.m + m.xbar.n for m in design.marked})

    def line(k: int, mark: Marked) -> str:
        name = mark.name if mark.name[:1].lower() != "n" else mark.name
        size = mark.xbar.m + mark.xbar.n
        return f"N{name} {' '.join(mark.nodes)} {MODEL_PREFIX}{size} cosim_id={k}"

    lines = _replace(design, line)
    models = ["* memspice co-simulation: the marked crossbars' port devices"]
    models += [f".model {MODEL_PREFIX}{n} {device_name(n)}" for n in sizes]
    return _insert_before_end(lines, models)


def has_uic(text: str) -> bool:
    """Whether a ``.tran`` line of ``text`` asks for ``uic`` (no operating point)."""
    return any("uic" in m.group("rest").lower().split() for m in _TRAN.finditer(text))


def array_subckt(xbar, name: str, face: Face | str = Face.BEHAVIOURAL) -> tuple[str, str]:
    """(cell library, ``.subckt name in0 .. in<m-1> s0 .. s<n-1>`` of the whole array) for ngspice."""
    face = Face.parse(face)
    m, n = xbar.shape
    library = xbar.cell.library(face, True)
    text = crossbar_netlist(xbar, ["DC 0"] * m, analysis="", transient=True, face=face, max_devices=1 << 62)
    body = text.replace(library, "", 1).splitlines()[2:]
    keep = [
        ln
        for ln in body
        if ln.strip() and not re.match(r"^(vin\d+|vsense\d+)\s", ln, re.I) and ln.strip().lower() != ".end"
    ]
    ports = [f"in{i}" for i in range(m)] + [f"s{j}" for j in range(n)]
    return library, "\n".join([f".subckt {name} {' '.join(ports)}", *keep, f".ends {name}"])


def state_node(instance: str, i: int, j: int, face: Face | str = Face.BEHAVIOURAL) -> str:
    """ngspice node of cell (i, j)'s state in the monolithic netlist.

    Behavioural face: the cell subcircuit's node, ``x1.xc0_0.u``; Verilog-A face: the ``N`` instance's
    internal node as ngspice's OSDI loader names it, ``n.x1.nc0_0#u``.
    """
    if Face.parse(face) is Face.VERILOG_A:
        return f"n.{instance.lower()}.nc{i}_{j}#u"
    return f"{instance.lower()}.xc{i}_{j}.u"


def monolithic_osdi(design: Design, face: Face | str = Face.BEHAVIOURAL) -> list:
    """Compiled Verilog-A libraries (paths) ngspice must load before :func:`monolithic_netlist`'s text.

    Empty for the behavioural face.  For ``Face.VERILOG_A`` the netlist also names them in ``* memspice-osdi:``
    header lines (``memspice run`` loads those); elsewhere pass them as ``memspice.spice.run(..., osdi=...)``
    or put ``pre_osdi <path>`` lines in a ``.spiceinit`` next to the netlist.  Compiles them where missing
    (needs openvaf-r: :class:`~memspice.core.osdi.OsdiUnavailable` otherwise).
    """
    out: list = []
    for mark in design.marked:
        for lib in mark.xbar.cell.osdi_libraries(Face.parse(face), True):
            if lib not in out:
                out.append(lib)
    return out


def monolithic_netlist(design: Design, face: Face | str = Face.BEHAVIOURAL, save=None) -> str:
    """The same design with every marked array expanded for ngspice alone (see module docstring).

    ``face``: the cells as behavioural B-source subcircuits (runs in any ngspice) or as the compiled
    Verilog-A modules of the same parameters (much faster in ngspice; needs ``uic`` on the ``.tran`` line when
    the cells hold states, else ``ValueError``: ngspice's ``.ic`` does not hold OSDI internal nodes).
    ``save``: None (ngspice's default: every vector) or a list of vector names for ``.save`` lines
    (e.g. the periphery's signals and :func:`state_node` voltages of the same ``face``).
    """
    face = Face.parse(face)
    uic = has_uic(design.text)
    extra: list[str] = ["* memspice: the marked crossbars, expanded"]
    libraries: dict[str, str] = {}
    for k, mark in enumerate(design.marked):
        library, sub = array_subckt(mark.xbar, f"{SUBCKT_PREFIX}{k}", face)
        libraries.setdefault(library, library)
        extra.append(sub)
        if mark.xbar.cell.stateful and not uic:
            if mark.in_subckt is not None:
                raise ValueError(
                    f"{mark.label}: a marked crossbar inside .subckt {mark.in_subckt} needs '.tran ... uic' for "
                    "the monolithic netlist (its cells' state nodes cannot be named in a top-level .ic)"
                )
            if face is Face.VERILOG_A:
                # measured (ngspice 46): '.ic v(n.x1.nc0_0#u)=0' does not hold an OSDI internal node; the
                # operating point then moved states by up to 0.23 (the switching terms' tails beat the
                # 1e12 s retention), a silently wrong reference
                raise ValueError(
                    f"{mark.label}: the Verilog-A face's cell states (OSDI internal nodes) cannot be held at their "
                    "marked values by .ic; add 'uic' to the .tran line or use the behavioural face"
                )
            m, n = mark.xbar.shape
            nodes = [f"v({state_node(mark.name, i, j, face)})=0" for i in range(m) for j in range(n)]
            extra += [".ic " + " ".join(nodes[q : q + 16]) for q in range(0, len(nodes), 16)]
    lines = _replace(design, lambda k, mark: f"{mark.name} {' '.join(mark.nodes)} {SUBCKT_PREFIX}{k}")
    if save is not None:
        extra += [".save " + " ".join(save[q : q + 16]) for q in range(0, len(save), 16)]
    # the Verilog-A face names its compiled libraries in '* memspice-osdi:' header lines (memspice run loads them)
    return with_osdi(_insert_before_end(lines, list(libraries) + extra), monolithic_osdi(design, face))
