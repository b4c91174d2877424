"""A large layer split into crossbar tiles, read for many input vectors on Dask (local or a real cluster).

A weight matrix too large for one physical array (e.g. 4096 x 4096) is mapped
onto a grid of tiles (e.g. 256 x 256).  Tile (a, b) holds rows ``a`` and
columns ``b`` of the conductance matrix; the word-line inputs of row block
``a`` drive every tile in that row of tiles, and the column outputs of the
tiles in one column of tiles are added (each tile's sense amplifier holds its
bit lines at virtual ground, so their currents, or the TIA outputs, sum
without interacting).

Physics of tiling (what changes against one monolithic array): every tile is
its own physical crossbar with its own drivers (``r_source``) and sense
amplifiers (``r_sense``); its word and bit lines are only a tile long, so the
IR drop is that of a 256-cell line, not a 4096-cell one, and no current flows
between tiles.  A tiled read is therefore *not* an approximation of the
monolithic array's read; it is the read of a different (tiled) hardware.
The per-tile reads are exact (:mod:`memspice.solver.transfer`) for linear
cells and blocked Newton solves otherwise.

Execution: one Dask task per tile (the tile's read for all vectors) and one
sum per column of tiles, so only the column sums come back; on
``dask.distributed`` every tile and input block is scattered to the workers
once.  :class:`Scheduler` picks Dask's synchronous or
threaded scheduler (tests, small layers) or ``dask.distributed``: a
``LocalCluster`` by default, or the cluster at ``address``
(``"tcp://host:8786"``), or a ``distributed.Client`` passed in.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from .threads import using_threads
from .transfer import ReadStrategy, read_many

#: solver threads per Dask task on ``dask.distributed`` (one task per worker thread)
TASK_THREADS = 1

__all__ = ["Scheduler", "TileGrid", "tile_grid", "read_tile", "read_tiled"]


class Scheduler(enum.Enum):
    """Where the tile reads run."""

    SYNCHRONOUS = "synchronous"  #: in this thread, one after another (debugging, tests)
    THREADS = "threads"  #: Dask's thread pool in this process
    DISTRIBUTED = "distributed"  #: dask.distributed: a LocalCluster, a scheduler ``address`` or a ``client``


@dataclass(frozen=True)
class TileGrid:
    """Row and column blocks of an M x N layer cut into tiles of at most ``tile`` rows x columns."""

    rows: tuple[slice, ...]
    cols: tuple[slice, ...]

    @property
    def shape(self) -> tuple[int, int]:
        """Number of tiles along rows and columns."""
        return len(self.rows), len(self.cols)


def _blocks(total: int, size: int) -> tuple[slice, ...]:
    return tuple(slice(k, min(k + size, total)) for k in range(0, total, size))


def tile_grid(shape: tuple[int, int], tile) -> TileGrid:
    """Cut an M x N layer into tiles of ``tile`` (int or (rows, cols)); edge tiles may be smaller."""
    rows, cols = (tile, tile) if np.ndim(tile) == 0 else tuple(tile)
    if int(rows) < 1 or int(cols) < 1:
        raise ValueError(f"tile must be a positive size (rows, cols), got {tile!r}")
    return TileGrid(_blocks(int(shape[0]), int(rows)), _blocks(int(shape[1]), int(cols)))


def read_tile(
    conductances: np.ndarray,
    voltages: np.ndarray,
    xbar_kw: dict,
    strategy: ReadStrategy = ReadStrategy.AUTO,
    threads: int | None = None,
) -> np.ndarray:
    """Output currents (p, cols), A, of one tile: its own crossbar (drivers, wires, sense) for all vectors.

    ``threads``: solver threads for this task (None: the process's count).
    """
    from ..circuits.crossbar import Crossbar

    with using_threads(threads):
        return read_many(Crossbar(conductances, **xbar_kw), voltages, strategy=strategy)


#: Crossbar arguments that may hold one value per layer column / row; each tile gets its own slice
_PER_COLUMN, _PER_ROW = ("bit_bias",), ("v_gate",)


def _tile_kw(xbar_kw: dict, shape: tuple[int, int], rs: slice, cs: slice) -> dict:
    """``xbar_kw`` for the tile of rows ``rs`` and columns ``cs`` of an M x N layer: per-column biases and
    per-row gate voltages (arrays of N or M values) are sliced; scalars go to every tile unchanged."""
    kw = dict(xbar_kw)
    for names, size, part in ((_PER_COLUMN, shape[1], cs), (_PER_ROW, shape[0], rs)):
        for name in names:
            value = np.asarray(kw.get(name, 0.0))
            if value.ndim == 1:
                if value.size != size:
                    raise ValueError(
                        f"{name} must be one value or one per layer {'column' if size == shape[1] else 'row'} "
                        f"({size}), got {value.size}"
                    )
                kw[name] = value[part].copy()
    return kw


def _sum(parts) -> np.ndarray:
    total = parts[0].copy()
    for part in parts[1:]:
        total += part
    return total


def read_tiled(
    conductances,
    voltages,
    tile=256,
    scheduler: Scheduler = Scheduler.DISTRIBUTED,
    address: str | None = None,
    client=None,
    n_workers: int | None = None,
    strategy: ReadStrategy = ReadStrategy.AUTO,
    **xbar_kw,
) -> np.ndarray:
    """Column output currents (p, N), A, of an M x N layer built from tiles, for inputs (M,) or (p, M), V.

    Parameters
    ----------
    conductances : array (M, N)
        Cell conductances of the whole layer, S.
    voltages : array (M,) or (p, M)
        Word-line inputs, V, vectors first; row block ``a`` drives every tile of tile row ``a``.
    tile : int or (int, int)
        Tile size (rows, columns); 256 is a common macro size (assumed default, not from a paper).
    scheduler : Scheduler
        Where tasks run (see the module docstring).
    address : str, optional
        ``dask.distributed`` scheduler address; default: a new ``LocalCluster`` (``n_workers`` processes,
        one thread each) that is closed afterwards.
    client : distributed.Client, optional
        Use this client (its cluster stays open); overrides ``address``.
    n_workers : int, optional
        Workers of the LocalCluster (default: Dask's choice, one per core).
    strategy : ReadStrategy
        Per-tile read strategy (:func:`memspice.solver.transfer.read_many`).
    **xbar_kw
        Per-tile :class:`~memspice.circuits.crossbar.Crossbar` arguments (``r_word``, ``r_bit``, ``r_source``,
        ``r_sense``, ``cell``, ``bit_bias`` ...).  Stateful cells (``state`` instead of conductances) are not
        supported here.
    """
    import dask

    if not isinstance(scheduler, Scheduler):
        raise ValueError(f"scheduler must be a Scheduler, got {scheduler!r}")
    if "conductances" in xbar_kw or "state" in xbar_kw:
        raise ValueError("pass the layer's conductances as the first argument; per-tile state is not supported")
    G = np.asarray(conductances, dtype=float)
    if G.ndim != 2 or 0 in G.shape:
        raise ValueError(f"conductances must be a non-empty M x N matrix, got shape {G.shape}")
    v = np.asarray(voltages, dtype=float)
    v = v[None, :] if v.ndim == 1 else v
    if v.ndim != 2 or v.shape[1] != G.shape[0]:
        raise ValueError(
            f"voltages must be (M,) or (p, M) = (vectors, layer rows) with M = {G.shape[0]}, got {np.shape(voltages)}"
        )
    grid = tile_grid(G.shape, tile)
    if scheduler is not Scheduler.DISTRIBUTED:
        read = dask.delayed(read_tile, pure=True)
        add = dask.delayed(_sum, pure=True)
        v_blocks = [dask.delayed(np.ascontiguousarray(v[:, rs]), pure=True) for rs in grid.rows]
        columns = [
            add(
                [
                    read(np.ascontiguousarray(G[rs, cs]), vb, _tile_kw(xbar_kw, G.shape, rs, cs), strategy)
                    for rs, vb in zip(grid.rows, v_blocks)
                ]
            )
            for cs in grid.cols
        ]
        return np.hstack(dask.compute(*columns, scheduler=scheduler.value))
    if client is not None:
        return _run_distributed(client, G, v, grid, xbar_kw, strategy)
    from distributed import Client, LocalCluster

    if address is not None:
        with Client(address) as c:
            return _run_distributed(c, G, v, grid, xbar_kw, strategy)
    with (
        LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as c,
    ):
        return _run_distributed(c, G, v, grid, xbar_kw, strategy)


def _run_distributed(client, G, v, grid: TileGrid, xbar_kw: dict, strategy: ReadStrategy) -> np.ndarray:
    """Scatter each input block and tile once, one task per tile, one sum per column of tiles."""
    v_blocks = client.scatter([np.ascontiguousarray(v[:, rs]) for rs in grid.rows])
    columns = []
    for cs in grid.cols:
        tiles = client.scatter([np.ascontiguousarray(G[rs, cs]) for rs in grid.rows])
        # one solver thread per task: each worker thread is one task, and the workers fill the cores (numba's
        # default, every core per process, oversubscribes them: measured no gain from a second worker)
        parts = [
            client.submit(read_tile, g, vb, _tile_kw(xbar_kw, G.shape, rs, cs), strategy, TASK_THREADS, pure=False)
            for g, vb, rs in zip(tiles, v_blocks, grid.rows)
        ]
        columns.append(client.submit(_sum, parts, pure=False))
    return np.hstack(client.gather(columns))
