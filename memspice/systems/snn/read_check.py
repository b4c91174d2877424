"""How far the network's fast read (linear cells at their chord conductance, wires solved exactly) is from
memspice's nonlinear solver with the synapse device's own current law, on sampled spike patterns.

The fast path (:meth:`.network.SpikingNetwork.column_currents`) treats each synapse as a resistor of its chord
conductance i(v_read) / v_read, exact while every cell sees v_read.  With wire resistance a cell sees less, and a
self-rectifying TiOx cell's current falls exponentially with the lost voltage (emission voltage v_read /
ln(rectification ratio), 72 mV for the network's device), much faster than a resistor's; this module measures
the difference with :func:`memspice.solver.solve_dc` on the crossbar of :class:`~memspice.circuits.cells.ModelCell`
cells at the network's states.  Device-to-device parameter spreads are not in the check (one device model).
"""

from __future__ import annotations

import numpy as np

from ...circuits.cells import ModelCell
from ...circuits.crossbar import Crossbar
from ...solver import solve_dc


def read_law_error(net, spikes, max_patterns: int = 8) -> dict:
    """Column currents for word-line ``spikes`` (p, m) bool: fast linear read vs the nonlinear device solve.

    Returns ``relative_rms_error`` (RMS of the difference over RMS of the nonlinear currents),
    ``linear_over_nonlinear`` (ratio of mean currents: > 1 where the linear read overstates them) and
    ``patterns`` (how many non-empty patterns were solved, at most ``max_patterns``).
    """
    s = np.asarray(spikes, bool).reshape(-1, net.config.n_inputs)
    s = s[s.any(axis=1)][:max_patterns]
    if len(s) == 0:
        raise ValueError("no spike pattern with an active input to check")
    syn = net.config.synapse
    r = net.config.r_wire
    linear = net.column_currents(s)
    xbar = Crossbar(cell=ModelCell(syn.device, "tiox"), state=net.state, r_word=r, r_bit=r)
    nonlinear = solve_dc(xbar, s * syn.v_read).output_currents
    return {
        "r_wire_ohm": float(r),
        "relative_rms_error": float(np.sqrt(np.mean((linear - nonlinear) ** 2)) / np.sqrt(np.mean(nonlinear**2))),
        "linear_over_nonlinear": float(np.mean(linear) / np.mean(nonlinear)),
        "patterns": int(len(s)),
    }
