"""What a reproduction returns, and how it is saved.

``memspice reproduce NAME -o DIR`` writes ``NAME.png`` (the figure),
``NAME.csv`` (the main table, where one fits), ``NAME_<suffix>.csv`` for each
further table, and ``NAME.json`` with the headline numbers.  The numbers come
from running the simulation, never from constants.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.files import save_figure_atomic, write_atomic


def _jsonable(value):
    """Convert numpy scalars and arrays to plain Python for ``json``; NaN/inf become None."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class Reproduction:
    """Result of one reproduction.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure saved as ``NAME.png``.
    headline : dict
        Headline numbers saved as ``NAME.json`` (key names as the issue or paper gives them).
    table : pandas.DataFrame, optional
        Main table saved as ``NAME.csv``.
    tables : dict of str to pandas.DataFrame
        Further tables saved as ``NAME_<key>.csv``.
    """

    figure: object
    headline: dict
    table: Any = None  # pandas.DataFrame
    tables: dict = field(default_factory=dict)

    def save(self, name: str, outdir) -> list[Path]:
        """Write the files into ``outdir`` (created if needed) and return their paths."""
        out = Path(outdir)
        out.mkdir(parents=True, exist_ok=True)
        paths = [write_atomic(out / f"{name}.json", json.dumps(_jsonable(self.headline), indent=2) + "\n")]
        if self.table is not None:
            paths.append(write_atomic(out / f"{name}.csv", self.table.to_csv(index=False)))
        for key, tab in self.tables.items():
            paths.append(write_atomic(out / f"{name}_{key}.csv", tab.to_csv(index=False)))
        paths.append(save_figure_atomic(self.figure, out / f"{name}.png"))
        return paths
