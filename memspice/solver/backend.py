"""One entry point for crossbar DC reads: ngspice or the sparse solver, chosen by size."""
from __future__ import annotations

import numpy as np

from ..circuits.crossbar import Crossbar
from .dc import CrossbarSolution, cell_law, solve_dc

#: up to this many cells, "auto" uses ngspice (the reference) when it is installed
AUTO_SPICE_LIMIT = 64 * 64
BACKENDS = ("auto", "ngspice", "sparse")
#: options that only one backend understands; the other backend ignores them under "auto"
SPICE_OPTIONS = {"mode", "timeout", "face"}
SPARSE_OPTIONS = {"method", "tol", "max_newton", "max_devices", "network"}


def choose_backend(xbar: Crossbar, backend: str = "auto") -> tuple[str, str]:
    """Return (backend, reason)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    cells = xbar.m * xbar.n
    if backend != "auto":
        return backend, "requested"
    from ..spice.capabilities import ngspice_info

    if ngspice_info().executable is None:
        return "sparse", "ngspice not installed"
    if cells <= AUTO_SPICE_LIMIT:
        return "ngspice", f"{cells} cells <= {AUTO_SPICE_LIMIT}: SPICE is fast enough and is the reference"
    return "sparse", f"{cells} cells > {AUTO_SPICE_LIMIT}: SPICE would be slow, sparse solver used"


def simulate_crossbar(xbar: Crossbar, voltages, backend: str = "auto", **kwargs) -> CrossbarSolution:
    """DC read of ``xbar`` for ``voltages`` ((m,) or (m, p), V) on the chosen backend.

    The choice and its reason are in ``solution.backend`` and ``solution.info["backend_reason"]``.
    """
    chosen, reason = choose_backend(xbar, backend)
    other = SPICE_OPTIONS if chosen == "sparse" else SPARSE_OPTIONS
    ignored = sorted(set(kwargs) & other)
    if ignored and backend != "auto":
        raise TypeError(f"option(s) {ignored} do not apply to backend {chosen!r}")
    kwargs = {k: v for k, v in kwargs.items() if k not in other}
    if chosen == "sparse":
        sol = solve_dc(xbar, voltages, **kwargs)
    else:
        sol = _solve_spice(xbar, voltages, **kwargs)
    sol.info["backend_reason"] = reason + (f" (ignored options for the other backend: {ignored})" if ignored else "")
    return sol


def _solve_spice(xbar: Crossbar, voltages, mode: str = "batch", timeout: float = 600.0,
                 face: str = "behavioural") -> CrossbarSolution:
    from ..netlists.crossbar import crossbar_netlist, node_names, osdi_libraries
    from ..spice import run

    osdi = osdi_libraries(xbar) if face == "veriloga" else []
    v = xbar.check_inputs(voltages)
    m, n = xbar.shape
    wl_names, bl_names = node_names(xbar)
    outs, wls, bls = [], [], []
    for k in range(v.shape[1]):
        w = run(crossbar_netlist(xbar, v[:, k], options=".options reltol=1e-9 abstol=1e-18 vntol=1e-12", face=face),
                mode=mode, timeout=timeout, osdi=osdi).waveforms
        outs.append([w[f"i(vsense{j})"][0] for j in range(n)])
        fixed = {f"in{i}": v[i, k] for i in range(m)} | {f"s{j}": xbar.bit_voltages[j] for j in range(n)}
        node = lambda name: fixed[name] if name in fixed else w[f"v({name})"][0]  # noqa: E731
        wls.append([[node(wl_names[i][j]) for j in range(n)] for i in range(m)])
        bls.append([[node(bl_names[i][j]) for j in range(n)] for i in range(m)])
    wl = np.moveaxis(np.array(wls), 0, -1)
    bl = np.moveaxis(np.array(bls), 0, -1)
    u = (wl - bl).reshape(m * n, -1)
    law = cell_law(xbar)
    if law is None:
        dev = xbar.conductances.ravel()[:, None] * u
    elif xbar.cell == "1T1R":
        w_, b_ = wl.reshape(m * n, -1), bl.reshape(m * n, -1)
        dev = np.column_stack([law(w_[:, k], b_[:, k])[0] for k in range(u.shape[1])])
    else:
        dev = np.column_stack([law(u[:, k])[0] for k in range(u.shape[1])])
    return CrossbarSolution(np.array(outs), dev.reshape(m, n, -1), wl, bl, "ngspice", {"mode": mode, "face": face})
