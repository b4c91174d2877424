"""Parameter sweeps and Monte Carlo runs in parallel with Dask, seeded and reproducible.

Every sweep point gets its own random seed spawned from one master seed
(numpy ``SeedSequence``), so results do not depend on scheduling, worker
count or order: the same seed gives the same table.  Local by default
(Dask's process pool); pass ``address`` to run on a ``distributed``
cluster.  Results come back as a pandas DataFrame, one row per point.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from ..circuits.periphery import R_F
from ..circuits.weights import G_MAX, G_MIN


def point_seeds(seed: int, count: int) -> list[int]:
    """``count`` independent 32-bit seeds derived from ``seed``."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(count)]


def _evaluate(func, point: dict, seed: int) -> dict:
    out = func(**point, seed=seed)
    return {**point, "seed": seed, **out}


def run_sweep(
    func,
    points: list[dict],
    seed: int = 0,
    address: str | None = None,
    scheduler: str = "processes",
    num_workers: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Evaluate ``func(**point, seed=...) -> dict`` for every point; return a DataFrame.

    ``scheduler``: local Dask scheduler ("processes", "threads" or "synchronous").
    ``address``: a ``distributed`` scheduler address (e.g. "tcp://host:8786") to use instead.
    """
    import dask

    if not points:
        raise ValueError("run_sweep needs at least one point")
    seeds = point_seeds(seed, len(points))
    tasks = [dask.delayed(_evaluate)(func, p, s) for p, s in zip(points, seeds)]
    if address:
        from distributed import Client, as_completed

        with Client(address) as client:
            futures = client.compute(tasks)
            if progress:
                from tqdm import tqdm

                for _ in tqdm(as_completed(futures), total=len(futures), desc="sweep"):
                    pass
            rows = client.gather(futures)
    else:
        kwargs: dict = {"scheduler": scheduler}
        if num_workers:
            kwargs["num_workers"] = num_workers
        if progress:
            from dask.diagnostics import ProgressBar

            with ProgressBar():
                rows = dask.compute(*tasks, **kwargs)
        else:
            rows = dask.compute(*tasks, **kwargs)
    return pd.DataFrame(list(rows))


#: every parameter a crossbar sweep varies: name -> (unit, default, meaning).  One table for the library,
#: the command line (``memspice sweep --NAME v1 v2 ...``) and the column names of the result.
SWEEP_PARAMETERS: dict[str, tuple[str, object, str]] = {
    "n": ("", 32, "array size n (n x n; random arrays only)"),
    "cell": ("", "1R", "cell kind (conductance cells: 1R, 1S1R, 1T1R)"),
    "variation": ("", 0.0, "log-normal device-to-device sigma"),
    "r_word": ("Ohm", 1.0, "word-line resistance per segment"),
    "r_bit": ("Ohm", 1.0, "bit-line resistance per segment"),
    "r_source": ("Ohm", 0.0, "driver (DAC) output resistance"),
    "r_sense": ("Ohm", 0.0, "sense resistance before each TIA"),
    "g_min": ("S", G_MIN, "lowest conductance weights map to"),
    "g_max": ("S", G_MAX, "highest conductance weights map to"),
    "stuck_off": ("", 0.0, "fraction of cells stuck at g_min"),
    "stuck_on": ("", 0.0, "fraction of cells stuck at g_max"),
    "v_read": ("V", None, "largest random input (random inputs only; default: the cell kind's read_voltage)"),
    "dac_bits": ("", 0, "DAC bits on the inputs (0: no DAC)"),
    "tia": ("", "none", "column read-out: none, ideal or opamp TIA"),
    "r_f": ("Ohm", R_F, "TIA feedback resistance"),
    "adc_bits": ("", 0, "ADC bits on the outputs (0: no ADC)"),
}
#: what each sweep point reports (name -> unit)
SWEEP_METRICS = {"mvm_max_rel_error": "", "mvm_rms_rel_error": "", "mean_output": "A"}


def crossbar_read_point(
    n: int = 32,
    cell: str = "1R",
    variation: float = 0.0,
    r_word: float = 1.0,
    r_bit: float = 1.0,
    r_source: float = 0.0,
    r_sense: float = 0.0,
    g_min: float = G_MIN,
    g_max: float = G_MAX,
    stuck_off: float = 0.0,
    stuck_on: float = 0.0,
    v_read: float | None = None,
    dac_bits: int = 0,
    tia: str = "none",
    r_f: float = R_F,
    adc_bits: int = 0,
    seed: int = 0,
    weights=None,
    conductances=None,
    inputs=None,
) -> dict:
    """One sweep / Monte Carlo point: the MVM error of a whole read (DAC, array, TIA, ADC) against the ideal.

    The ideal is the nominal array's ``G^T v``: the unquantised inputs, no wire resistance, linear cells,
    no variation or faults.  The read's output is referred back to a current with the nominal TIA gain
    (``-r_f``; an op-amp TIA's finite gain counts as error) and compared:
    ``mvm_max_rel_error = max |I - I_ideal| / max |I_ideal|`` (rms likewise).

    Random arrays (default): an n x n array of uniform random weights and one random input vector up to
    ``v_read`` (default: the cell kind's :attr:`~memspice.circuits.cells.Cell.read_voltage`, where it reads
    well), both from ``seed``.  Your own array: ``weights`` (m, k; mapped onto ``g_min..g_max``)
    or ``conductances`` (m, n) S, with ``inputs`` (p, m) V.  Variation and faults are drawn from
    ``seed`` (:class:`memspice.circuits.array_options.ArrayOptions`).  Module level, so Dask can
    pickle it; parameters as :data:`SWEEP_PARAMETERS`.
    """
    from ..circuits.array_options import ArrayOptions
    from ..circuits.periphery import make_tia
    from .metrics import mvm_error
    from .readout import ReadChain, read_crossbar

    rng = np.random.default_rng(seed)
    if weights is None and conductances is None:
        v_read = default_read_voltage(cell) if v_read is None else v_read
        weights = rng.uniform(0, 1, (int(n), int(n)))
        inputs = rng.uniform(0, v_read, (1, int(n)))
    elif inputs is None:
        raise ValueError("a sweep of your own array needs its input vectors (inputs, (p, m) V)")
    kind, values = ("weights", weights) if weights is not None else ("conductances", conductances)
    inputs = np.atleast_2d(np.asarray(inputs, float))
    nominal = ArrayOptions(cell="1R", g_min=g_min, g_max=g_max, r_word=0.0, r_bit=0.0)
    ideal_xbar, mapping = nominal.crossbar(values, kind)
    ideal = ideal_xbar.ideal_outputs(inputs)
    ideal = mapping.outputs(ideal) if mapping else ideal
    options = ArrayOptions(
        cell, g_min, g_max, r_word, r_bit, r_source, r_sense, variation, stuck_off, stuck_on, int(rng.integers(2**31))
    )
    xbar, _ = options.crossbar(values, kind)
    chain = ReadChain(dac_bits=int(dac_bits) or None, tia=tia, r_f=r_f, adc_bits=int(adc_bits) or None)
    result = read_crossbar(xbar, inputs, mapping, chain, backend="sparse")
    sense = make_tia(tia, r_f)
    if result.levels is not None:
        final = result.levels
    else:
        final = result.v_out if result.v_out is not None else result.currents
    estimate = final if sense is None else final / -r_f  # referred back with the nominal gain
    err = mvm_error(estimate, ideal)
    return {
        "mvm_max_rel_error": err["max_rel"],
        "mvm_rms_rel_error": err["rms_rel"],
        "mean_output": float(np.mean(result.currents)),
    }


def sweep_crossbar(
    grid: dict | None = None,
    samples: int = 1,
    seed: int = 0,
    weights=None,
    conductances=None,
    inputs=None,
    **dask_options,
) -> pd.DataFrame:
    """Every combination of ``grid``'s values, ``samples`` seeded draws each: a tidy table of read errors.

    Parameters
    ----------
    grid : dict of str to sequence
        Parameter name (a key of :data:`SWEEP_PARAMETERS`) -> the values to try; parameters left out
        keep their defaults.
    samples : int
        Monte Carlo draws per combination (each its own seed, spawned from ``seed``).
    seed : int
        Master seed: the same seed gives the same table (:func:`run_sweep`).
    weights, conductances, inputs : array_like, optional
        Your own array (weights (m, k) or conductances (m, n) S) and input vectors (p, m) V, instead
        of random n x n arrays; ``n`` and ``v_read`` do not apply then.
    **dask_options
        ``address``, ``scheduler``, ``num_workers``, ``progress`` (:func:`run_sweep`).

    Returns
    -------
    pandas.DataFrame
        One row per point and sample: every parameter of :data:`SWEEP_PARAMETERS` (varied or not), then
        ``sample``, ``seed`` and the metrics, with units in the column names (``r_word_ohm``,
        ``g_min_S``, ``mean_output_A``; :func:`memspice.core.units.column_name`).
    """
    import itertools

    from ..core.units import column_name

    grid = {k: list(v) for k, v in (grid or {}).items()}
    unknown = sorted(set(grid) - set(SWEEP_PARAMETERS))
    if unknown:
        raise ValueError(f"unknown sweep parameter(s) {unknown}; choose from {sorted(SWEEP_PARAMETERS)}")
    empty = [k for k, v in grid.items() if not v]
    if empty:
        raise ValueError(f"no values given for {empty}")
    own = weights is not None or conductances is not None
    if own:
        if inputs is None:
            raise ValueError("inputs (p, m) V are needed with your own weights or conductances")
        for name in ("n", "v_read"):
            if name in grid:
                raise ValueError(f"{name!r} applies to random arrays, not to your own weights/conductances")
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    fixed = {k: d for k, (_, d, _) in SWEEP_PARAMETERS.items() if k not in grid and not (own and k in ("n", "v_read"))}
    keys = list(grid)
    points = [
        {**fixed, **dict(zip(keys, combo)), "sample": k}
        for combo in itertools.product(*(grid[k] for k in keys))
        for k in range(samples)
    ]
    for point in points:  # the table shows the read voltage each point used
        if "v_read" in point and point["v_read"] is None:
            point["v_read"] = default_read_voltage(point["cell"])
    data = {"weights": weights, "conductances": conductances, "inputs": inputs} if own else {}
    table = run_sweep(_read_point, [p | data for p in points], seed=seed, **dask_options)
    _warn_once(table.pop(_WARNINGS))  # raised in worker processes: shown here, once per kind
    table = table.drop(columns=[c for c in data if c in table.columns])
    order = [k for k in SWEEP_PARAMETERS if k in table.columns] + ["sample", "seed", *SWEEP_METRICS]
    table = table[order]
    units = {k: u for k, (u, _, _) in SWEEP_PARAMETERS.items()} | SWEEP_METRICS
    return table.rename(columns={k: column_name(k, units.get(k, "")) for k in table.columns})


def default_read_voltage(cell) -> float:
    """The largest input (V) of a default read of cell kind ``cell``: its ``read_voltage``."""
    from ..circuits.cells import make_cell

    return float(make_cell(cell).read_voltage)


#: column of :func:`_read_point`'s rows holding the warnings a point raised (removed from the table)
_WARNINGS = "_warnings"


#: ``warnings.catch_warnings`` swaps process-wide state: points running on threads of one process (the
#: "threads" scheduler, a Dask worker's thread pool) would lose or steal each other's warnings without it
_CAPTURE = threading.Lock()


def _read_point(sample: int, **kwargs) -> dict:
    """One point, with the warnings it raised collected (a worker process's own would print unformatted).

    Points on threads of one process run one at a time, since the warnings machinery is process-wide.
    """
    import warnings

    with _CAPTURE, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        row = crossbar_read_point(**kwargs)
    return row | {_WARNINGS: [(w.category, str(w.message)) for w in caught]}


def _warn_once(per_point) -> None:
    """Re-issue the points' warnings in this process, one per kind (category and first words), with a count."""
    import warnings

    kinds: dict[tuple, list[str]] = {}
    for found in per_point:
        for category, message in found:
            kinds.setdefault((category, " ".join(message.split()[:4])), []).append(message)
    for (category, _), messages in kinds.items():
        more = f" (and {len(messages) - 1} similar warning(s) at other sweep points)" if len(messages) > 1 else ""
        warnings.warn(messages[0] + more, category, stacklevel=3)


def crossbar_mvm_point(
    n: int = 64, sigma: float = 0.0, r_wire: float = 1.0, cell: str = "1R", v_read: float = 0.2, seed: int = 0
) -> dict:
    """One Monte Carlo sample of an n x n read with variation ``sigma`` and wires ``r_wire`` (Ohm) on both lines.

    The short form of :func:`crossbar_read_point` (``variation=sigma``, ``r_word=r_bit=r_wire``).
    """
    return crossbar_read_point(n=n, variation=sigma, r_word=r_wire, r_bit=r_wire, cell=cell, v_read=v_read, seed=seed)


def monte_carlo_crossbar(
    samples: int = 100, n: int = 64, sigma: float = 0.1, r_wire: float = 1.0, seed: int = 0, **kwargs
) -> pd.DataFrame:
    """Monte Carlo of device variation on an n x n crossbar read (:func:`sweep_crossbar`, one grid point).

    Columns as :func:`sweep_crossbar` returns them (``variation``, ``r_word_ohm``, ... ``mvm_rms_rel_error``).
    """
    grid = {"n": [n], "variation": [sigma], "r_word": [r_wire], "r_bit": [r_wire]}
    return sweep_crossbar(grid, samples=samples, seed=seed, **kwargs)
