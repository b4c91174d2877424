"""Simulate a crossbar read: choose ngspice or the sparse solver, and run it.

This top-level module uses both the netlist writer (:mod:`memspice.netlists`)
and the solver (:mod:`memspice.solver`), so neither of them imports the other.
Import :func:`simulate_crossbar` from here (``from memspice.simulate import
simulate_crossbar``) or from the package top level; ``memspice.solver`` has no
``simulate_crossbar`` since the solver stopped importing upward (see CHANGELOG).
"""

from __future__ import annotations

import functools

import numpy as np

from .circuits.cells import Face
from .circuits.crossbar import Crossbar, require_crossbar
from .core.choices import Choice
from .netlists.multi_vector import READ_OPTIONS
from .solver.guards import check_solution
from .solver.reads import read_dc
from .solver.solution import CrossbarSolution, SolveInfo
from .spice.job import DEFAULT_TIMEOUT

#: up to this many cells, "auto" uses ngspice (the reference) when it is installed
AUTO_SPICE_LIMIT = 64 * 64
#: options that only one backend understands; the other backend ignores them under "auto"
SPICE_OPTIONS = {"mode", "timeout", "face"}
SPARSE_OPTIONS = {"method", "tol", "max_newton", "max_devices", "network", "max_memory", "i_tol"}
#: tolerances of the ngspice reads (tight enough for 1e-9 agreement with the sparse solver)
SPICE_READ_OPTIONS = READ_OPTIONS  # one place: memspice.netlists.multi_vector.READ_OPTIONS


class Backend(Choice):
    """Where a crossbar read runs (a ``str`` enum: "auto", "ngspice", "sparse" work too)."""

    AUTO = "auto"
    NGSPICE = "ngspice"
    SPARSE = "sparse"


BACKENDS = tuple(b.value for b in Backend)


def choose_backend(xbar: Crossbar, backend: Backend | str = Backend.AUTO) -> tuple[str, str]:
    """Return (backend, reason): ngspice for small arrays when installed, else the sparse solver."""
    require_crossbar(xbar)
    backend = Backend.parse(backend)
    cells = xbar.m * xbar.n
    if backend is not Backend.AUTO:
        return backend.value, "requested"
    from .spice.capabilities import ngspice_info

    if ngspice_info().executable is None:
        return Backend.SPARSE.value, "ngspice not installed"
    if cells <= AUTO_SPICE_LIMIT:
        return Backend.NGSPICE.value, f"{cells} cells <= {AUTO_SPICE_LIMIT}: SPICE is fast enough and is the reference"
    return Backend.SPARSE.value, f"{cells} cells > {AUTO_SPICE_LIMIT}: SPICE would be slow, sparse solver used"


def simulate_crossbar(xbar: Crossbar, voltages, backend: Backend | str = Backend.AUTO, **kwargs) -> CrossbarSolution:
    """DC read of ``xbar`` for ``voltages`` ((m,) or (p, m), V: vectors first) on the chosen backend.

    Returns a :class:`~memspice.solver.solution.CrossbarSolution`: output currents (p, n), A, computed now
    the fastest exact way, and per-cell arrays (p, m, n) computed on first access (or per vector,
    ``solution.vector(k)``); the solution keeps ``xbar`` and ``voltages``.

    * sparse: :func:`memspice.solver.reads.read_dc` (an exact transfer matrix for linear arrays read with
      many vectors; otherwise one solve per vector, keeping per-cell arrays when they fit in one block);
    * ngspice: all vectors in one run that saves only the output currents
      (:func:`memspice.netlists.multi_vector.read_many_ngspice`); per-cell arrays from a second run
      (:func:`solve_spice`) when first asked for.

    The choice and its reason are in ``solution.backend`` and ``solution.info.backend_reason``.
    Options of the other backend are ignored under ``backend="auto"`` (and named in the reason) and
    refused otherwise.  Warns (:class:`~memspice.circuits.cells.DesignWarning`) where the cell kind reads
    the inputs badly (:meth:`~memspice.circuits.cells.Cell.check_read`, e.g. 1S1R below its selector's
    turn-on).
    """
    requested = Backend.parse(backend)
    chosen, reason = choose_backend(xbar, requested)
    other = SPICE_OPTIONS if chosen == Backend.SPARSE else SPARSE_OPTIONS
    ignored = sorted(set(kwargs) & other)
    if ignored and requested is not Backend.AUTO:
        raise TypeError(f"option(s) {ignored} do not apply to backend {chosen!r}")
    kwargs = {k: v for k, v in kwargs.items() if k not in other}
    v = xbar.check_inputs(voltages).T  # (p, m)
    xbar.cell.check_read(xbar, v)
    if chosen == Backend.SPARSE:
        sol = read_dc(xbar, v, **kwargs)
    else:
        sol = read_spice(xbar, v, **kwargs)
    sol.info.backend_reason = reason + (f" (ignored options for the other backend: {ignored})" if ignored else "")
    return sol


def read_outputs(
    xbar: Crossbar,
    inputs,
    backend: Backend | str = Backend.AUTO,
    mode: str = "batch",
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[np.ndarray, str, str]:
    """Column output currents (p, n), A, of ``xbar`` for ``inputs`` ((m,) or (p, m), V), the backend used
    and why: what ``memspice read`` writes.

    Any batch whose outputs fit in memory: the per-cell arrays are never formed
    (:func:`simulate_crossbar`'s lazy solution); on ngspice all vectors are one run.
    """
    spice = choose_backend(xbar, backend)[0] == Backend.NGSPICE.value
    sol = simulate_crossbar(xbar, inputs, backend, **({"mode": mode, "timeout": timeout} if spice else {}))
    reason = sol.info.backend_reason
    if sol.backend == Backend.NGSPICE.value and sol.vectors > 1:
        reason += "; all vectors in one ngspice run"
    return sol.output_currents, sol.backend, reason


def read_spice(
    xbar: Crossbar, voltages, mode: str = "batch", timeout: float = DEFAULT_TIMEOUT, face: Face | str = Face.BEHAVIOURAL
) -> CrossbarSolution:
    """ngspice read of ``xbar`` for ``voltages`` ((m,) or (p, m), V): output currents from one run, per-cell
    arrays from a second run (:func:`solve_spice`) on first access.

    The first run saves only the sense sources' currents, which keeps it fast (64x64 with 16 vectors:
    2.8 s against 13.9 s with every node and device current saved; measured 2026).
    """
    from .netlists.crossbar import device_probes
    from .netlists.multi_vector import read_many_ngspice

    require_crossbar(xbar)
    face = Face.parse(face)
    v = xbar.check_inputs(voltages).T
    out = read_many_ngspice(xbar, v, timeout=timeout, mode=mode, face=face, options=SPICE_READ_OPTIONS)
    per_cell = functools.partial(solve_spice, xbar, mode=mode, timeout=timeout, face=face)
    info = SolveInfo(
        outputs="one ngspice run with an op per vector, saving the output currents only "
        "(per-cell arrays from a second run on first access)",
        mode=mode,
        face=face.value,
        device_currents=_device_current_source(device_probes(xbar, face)),
    )
    return CrossbarSolution(out, backend="ngspice", info=info, xbar=xbar, voltages=v, per_cell=per_cell)


def solve_spice(
    xbar: Crossbar, voltages, mode: str = "batch", timeout: float = DEFAULT_TIMEOUT, face: Face | str = Face.BEHAVIOURAL
) -> CrossbarSolution:
    """ngspice ``.op`` reads of ``xbar`` for ``voltages`` ((m,) or (p, m), V), every per-cell array saved.

    All input vectors are read in one ngspice run (one operating point per vector,
    :func:`memspice.netlists.multi_vector.multi_vector_netlist`).

    Output currents are the sense sources' currents; device currents are ngspice's own (each cell's
    current vector, saved with ``.save``) where the cell's face has one
    (:meth:`~memspice.circuits.cells.Cell.probe`), otherwise the cell law at ngspice's node voltages
    (``info["device_currents"]`` says which).
    """
    from .netlists.crossbar import crossbar_netlist, device_probes, node_names, osdi_libraries
    from .netlists.multi_vector import multi_vector_netlist, operating_points
    from .spice import run

    require_crossbar(xbar)
    face = Face.parse(face)
    osdi = osdi_libraries(xbar) if face is Face.VERILOG_A else []
    v = xbar.check_inputs(voltages)
    m, n = xbar.shape
    wl_names, bl_names = node_names(xbar)
    probes = device_probes(xbar, face)
    options = SPICE_READ_OPTIONS
    if probes is not None:
        options += "\n.save all " + " ".join(pr[0] for pr in probes if pr is not None)
    p = v.shape[1]
    if p == 1:
        text = crossbar_netlist(xbar, v[:, 0], options=options, face=face)
        plots = [run(text, mode=mode, timeout=timeout, osdi=osdi).waveforms]
    else:
        text = multi_vector_netlist(xbar, v.T, save_all=True, options=options, face=face)
        plots = operating_points(run(text, mode=mode, timeout=timeout, osdi=osdi), p, inputs=v)
    outs, wls, bls, devs = [], [], [], []
    for k, w in enumerate(plots):
        outs.append([w[f"i(vsense{j})"][0] for j in range(n)])
        fixed = {f"in{i}": v[i, k] for i in range(m)} | {f"s{j}": xbar.bit_voltages[j] for j in range(n)}
        wls.append([[_node(w, fixed, wl_names[i][j]) for j in range(n)] for i in range(m)])
        bls.append([[_node(w, fixed, bl_names[i][j]) for j in range(n)] for i in range(m)])
        if probes is not None:
            devs.append([0.0 if pr is None else pr[1] * _probe(w, pr[0]) for pr in probes])
    wl, bl = np.array(wls), np.array(bls)  # (p, m, n)
    if probes is not None:
        dev = np.array(devs).reshape(-1, m, n)
    else:
        arrays = xbar.cell_arrays()
        dev = np.array([xbar.cell.current3(w_.ravel(), b_.ravel(), arrays)[0].reshape(m, n) for w_, b_ in zip(wl, bl)])
    source = _device_current_source(probes)
    return check_solution(
        CrossbarSolution(
            np.array(outs),
            dev,
            wl,
            bl,
            "ngspice",
            SolveInfo(outputs="ngspice sense-source currents", mode=mode, face=face.value, device_currents=source),
            xbar=xbar,
            voltages=v.T,
        )
    )


def _device_current_source(probes) -> str:
    """Where an ngspice read's device currents come from (the cell kind's probes, or None)."""
    return "ngspice device currents" if probes is not None else "cell law at ngspice node voltages"


def _probe(waves, vector: str) -> float:
    """Value of device current vector ``vector`` (``@r.x1.r1[i]``): batch raw files name it ``i(...)``,
    the shared library the bare name."""
    key = f"i({vector})"
    return float(waves[key if key in waves else vector][0])


def _node(waves, fixed: dict, name: str) -> float:
    """Voltage (V) of node ``name``: a fixed source node, or ngspice's ``v(name)``."""
    return fixed[name] if name in fixed else waves[f"v({name})"][0]
