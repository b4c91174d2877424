"""The faces of a model or circuit: which SPICE description a netlist uses.

This module imports only :mod:`memspice.core.choices`, so every layer (``spice/`` at the
bottom included) may use it.
"""

from __future__ import annotations

from .choices import Choice


class Face(Choice):
    """How a device appears in a netlist.

    ``BEHAVIOURAL``: ngspice B-source ``.subckt`` (runs in any ngspice);
    ``VERILOG_A``: the Verilog-A module through an ``N`` instance (needs the compiled ``.osdi`` file).
    Being a ``str`` enum, ``Face.BEHAVIOURAL == "behavioural"`` holds, so older code passing strings works.
    """

    BEHAVIOURAL = "behavioural"
    VERILOG_A = "veriloga"

    @classmethod
    def aliases(cls) -> dict[str, str]:
        """``behavioral``, ``bsource``; ``va``, ``osdi`` (``verilog-a`` matches ``veriloga`` already)."""
        return {"behavioral": "behavioural", "bsource": "behavioural", "va": "veriloga", "osdi": "veriloga"}
