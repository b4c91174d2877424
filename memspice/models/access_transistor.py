"""Access transistor for 1T1R cells: the Shichman-Hodges (SPICE level 1) NMOS.

Used twice with the same parameters: as an ngspice ``level=1`` ``.model``
card in netlists and as a numpy law in the sparse solver.

* cut-off (v_gs <= v_t): i = 0
* triode (v_ds < v_gs - v_t): i = k (v_gs - v_t - v_ds/2) v_ds (1 + lambda v_ds)
* saturation: i = k/2 (v_gs - v_t)^2 (1 + lambda v_ds),  k = kp W/L

Drain and source swap when v_ds < 0 (symmetric device), as in SPICE.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.units import sci_number
from .params import param, validate_fields

_SRC = "assumed: generic 180 nm NMOS access device (gate 1.5 V as in the 1T1R hardware of Shi et al. 2025), level-1 fit"


@dataclass(frozen=True)
class AccessTransistor:
    """Level-1 NMOS parameters (SI units)."""

    kp: float = param(200e-6, "A/V^2", "transconductance parameter KP; " + _SRC)
    w_over_l: float = param(2.0, "1", "W/L; " + _SRC)
    vt: float = param(0.5, "V", "threshold voltage VTO; " + _SRC)
    lam: float = param(0.0, "1/V", "channel-length modulation LAMBDA", check="nonnegative")

    def __post_init__(self):
        validate_fields(self)

    def spice_model(self, name: str = "nacc") -> str:
        """ngspice ``.model`` card (W and L go on the instance: W = w_over_l um, L = 1 um).

        ``is=0``: the level-1 bulk-drain and bulk-source junction diodes carry no current, so the card
        is the same circuit as :meth:`current` (which has no junctions); with ngspice's default
        ``is=1e-14`` a word line at -0.7 V forward-biases the drain junction and the two differ by
        7.5%.  Only ngspice's ``gmin`` (1e-12 S) stays across each junction.
        """
        return (
            f".model {name} nmos level=1 kp={sci_number(self.kp)} vto={sci_number(self.vt)} "
            f"lambda={sci_number(self.lam)} is=0"
        )

    def on_conductance(self, vg, vs=0.0):
        """Channel conductance (S) for a vanishing drain-source voltage: kp W/L (vg - vs - vt), 0 when off.

        ``vg``, ``vs``: gate and source voltages (V); a read's source sits near the bit line's virtual ground.
        """
        return self.kp * self.w_over_l * np.maximum(np.asarray(vg, float) - vs - self.vt, 0.0)

    def current(self, vg, vd, vs):
        """Drain current (A, drain -> source) and its derivatives d/dvd, d/dvs (S)."""
        vg, vd, vs = (np.asarray(a, float) for a in (vg, vd, vs))
        flip = vd < vs
        d, s = np.where(flip, vs, vd), np.where(flip, vd, vs)
        k = self.kp * self.w_over_l
        vgs, vds = vg - s, d - s
        vov = vgs - self.vt
        on = vov > 0
        triode = on & (vds < vov)
        clm = 1 + self.lam * vds
        i_tri = k * (vov - vds / 2) * vds * clm
        i_sat = k / 2 * vov**2 * clm
        i = np.where(triode, i_tri, np.where(on, i_sat, 0.0))
        # derivatives with respect to the (possibly swapped) drain d and source s
        gds = np.where(
            triode,
            k * (vov - vds) * clm + k * (vov - vds / 2) * vds * self.lam,
            np.where(on, k / 2 * vov**2 * self.lam, 0.0),
        )
        gm = np.where(triode, k * vds * clm, np.where(on, k * vov * clm, 0.0))
        di_dd, di_ds = gds, -gm - gds
        # undo the swap: i(vd, vs) = -i(vs, vd)
        i = np.where(flip, -i, i)
        di_dvd = np.where(flip, -di_ds, di_dd)
        di_dvs = np.where(flip, -di_dd, di_ds)
        return i, di_dvd, di_dvs
