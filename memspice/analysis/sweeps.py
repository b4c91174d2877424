"""Parameter sweeps and Monte Carlo runs in parallel with Dask, seeded and reproducible.

Every sweep point gets its own random seed spawned from one master seed
(numpy ``SeedSequence``), so results do not depend on scheduling, worker
count or order: the same seed gives the same table.  Local by default
(Dask's process pool); pass ``address`` to run on a ``distributed``
cluster.  Results come back as a pandas DataFrame, one row per point.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


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


def crossbar_mvm_point(
    n: int = 64,
    sigma: float = 0.0,
    r_wire: float = 1.0,
    cell: str = "1R",
    v_read: float | None = None,
    seed: int = 0,
) -> dict:
    """One Monte Carlo sample: an n x n array with log-normal variation ``sigma``, random weights/inputs
    up to ``v_read`` (V; default the cell kind's :attr:`~memspice.circuits.cells.Cell.read_voltage`).

    Returns the MVM error against the ideal (variation-free, wire-free) G^T v.
    """
    from ..circuits.cells import make_cell
    from ..circuits.crossbar import Crossbar
    from ..circuits.weights import apply_variation, conductance_map
    from ..solver import solve_dc
    from .metrics import mvm_error

    rng = np.random.default_rng(seed)
    g_nominal = conductance_map(rng.uniform(0, 1, (n, n)))
    v = rng.uniform(0, make_cell(cell).read_voltage if v_read is None else v_read, n)
    g = apply_variation(g_nominal, sigma, seed=int(rng.integers(2**31)))
    sol = solve_dc(Crossbar(g, cell=cell, r_word=r_wire, r_bit=r_wire), v)
    ideal = (g_nominal.T @ v)[None, :]
    err = mvm_error(sol.output_currents, ideal)
    return {
        "mvm_max_rel_error": err["max_rel"],
        "mvm_rms_rel_error": err["rms_rel"],
        "mean_output_A": float(np.mean(sol.output_currents)),
    }


def monte_carlo_crossbar(
    samples: int = 100, n: int = 64, sigma: float = 0.1, r_wire: float = 1.0, seed: int = 0, **kwargs
) -> pd.DataFrame:
    """Monte Carlo of device variation on an n x n crossbar read (see :func:`crossbar_mvm_point`)."""
    points = [{"n": n, "sigma": sigma, "r_wire": r_wire, "sample": k} for k in range(samples)]
    return run_sweep(_mc_point, points, seed=seed, **kwargs)


def _mc_point(sample: int, **kwargs) -> dict:
    return crossbar_mvm_point(**kwargs)
