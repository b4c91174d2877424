"""The faces of a model or circuit: which SPICE description a netlist uses.

This module imports nothing from memspice, so every layer (``spice/`` at the
bottom included) may use it.
"""

from __future__ import annotations

from enum import Enum


class Face(str, Enum):
    """How a device appears in a netlist.

    ``BEHAVIOURAL``: ngspice B-source ``.subckt`` (runs in any ngspice);
    ``VERILOG_A``: the Verilog-A module through an ``N`` instance (needs the compiled ``.osdi`` file).
    Being a ``str`` enum, ``Face.BEHAVIOURAL == "behavioural"`` holds, so older code passing strings works.
    """

    BEHAVIOURAL = "behavioural"
    VERILOG_A = "veriloga"

    @classmethod
    def parse(cls, value) -> Face:
        """A :class:`Face` from itself or a name (case-insensitive; ``behavioral``, ``verilog-a``, ``va`` too)."""
        if isinstance(value, cls):
            return value
        key = str(value).strip().lower().replace("-", "").replace("_", "")
        aliases = {
            "behavioural": cls.BEHAVIOURAL,
            "behavioral": cls.BEHAVIOURAL,
            "bsource": cls.BEHAVIOURAL,
            "veriloga": cls.VERILOG_A,
            "va": cls.VERILOG_A,
            "osdi": cls.VERILOG_A,
        }
        if key not in aliases:
            raise ValueError(f"face must be one of {[f.value for f in cls]}, got {value!r}")
        return aliases[key]

    def __str__(self) -> str:
        return self.value
