"""Prepare netlist text for a run: options, OSDI loading, raw output."""
from __future__ import annotations

import re

from .errors import SpiceNetlistError

ANALYSIS = re.compile(r"^\s*\.(op|dc|tran|ac|noise|tf|sens|pz|disto|sp|pss)\b", re.I | re.M)


def split_control(netlist: str) -> tuple[str, str]:
    """Split off an existing ``.control`` block; returns (circuit, control body)."""
    m = re.search(r"^\s*\.control\s*$(.*?)^\s*\.endc\s*$", netlist, flags=re.I | re.M | re.S)
    if not m:
        return netlist, ""
    return netlist[: m.start()] + netlist[m.end():], m.group(1)


def prepare_netlist(netlist: str, osdi=(), klu: bool = False, raw_path: str | None = None) -> str:
    """Return runnable text: title line kept, ``.end`` last, a control block that
    loads ``osdi`` libraries, runs, and writes ``raw_path`` (binary raw file)."""
    if not netlist.strip():
        raise ValueError("empty netlist")
    circuit, user_control = split_control(netlist)
    if not user_control.strip() and not ANALYSIS.search(circuit):
        raise SpiceNetlistError("netlist has no analysis line (.op, .dc, .tran, .ac, ...): nothing to simulate")
    lines = circuit.rstrip().splitlines()
    while lines and lines[-1].strip().lower() == ".end":
        lines.pop()
    if klu and not any(re.match(r"^\s*\.options?\b.*\bklu\b", ln, re.I) for ln in lines):
        lines.append(".options klu")
    control = [".control"]
    control += [f"pre_osdi {p}" for p in osdi]
    if user_control.strip():
        control.append(user_control.strip("\n"))
    else:
        control.append("set filetype=binary")
        control.append("run")
        if raw_path:
            control.append(f"write {raw_path}")
    control.append(".endc")
    return "\n".join(lines + control + [".end"]) + "\n"
