"""Memoryless sinh-type selector for 1S1R cells.

* i = I_0 sinh(v/V_0), continued linearly (with matching slope) beyond
  |v| = v_lin so Newton iterates far from the solution never overflow.

The sinh form is the tunnelling / Poole-Frenkel-like law used for
bidirectional selectors; defaults give ~10^3 selectivity between V and V/2
at a 1 V read, in the range quoted for threshold selectors by the spiking-network review
(Chip 3, 100093, 2024).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from . import symbolic
from .base import CompactModel
from .params import param, require, validate_fields

_SRC = "assumed: selectivity > 1e3 at V vs V/2 (the range of the Chip 3, 100093 (2024) review), behavioural choice"


@dataclass(frozen=True)
class SelectorParams:
    """Parameters of :class:`Selector` (SI units)."""

    i0: float = param(1e-9, "A", "sinh prefactor I_0; " + _SRC)
    v0: float = param(0.08, "V", "sinh voltage scale V_0; " + _SRC)
    v_lin: float = param(2.5, "V", "sinh continues linearly beyond |v| > v_lin")

    def __post_init__(self):
        validate_fields(self)
        require(self.v_lin > self.v0, self, "v_lin", f"must be > v0 ({self.v0!r}), got {self.v_lin!r}")


class Selector(CompactModel):
    """Bidirectional sinh selector (no state)."""

    name = "ms_selector"
    title = "memspice sinh-type bidirectional selector"
    Params = SelectorParams

    @classmethod
    def current_expr(cls):
        s, v = cls._sym(), symbolic.V
        z, z_lin = v / s["v0"], s["v_lin"] / s["v0"]
        lin_pos = sp.sinh(z_lin) + sp.cosh(z_lin) * (z - z_lin)
        lin_neg = -sp.sinh(z_lin) + sp.cosh(z_lin) * (z + z_lin)
        return s["i0"] * sp.Piecewise((lin_pos, z > z_lin), (lin_neg, z < -z_lin), (sp.sinh(z), True))
