"""The notebooks execute top to bottom, show figures, and their cells assert their own numbers; they are
committed executed (issue 21), so a reader on a code host sees the figures."""

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert {p.name for p in NOTEBOOKS} >= {
        "quickstart.ipynb",
        "crossbar_ir_drop.ipynb",
        "spiking_neuron.ipynb",
        "own_weights_1t1r.ipynb",
    }


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_executed_and_small(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), f"{path.name}: run python3 notebooks/build_notebooks.py"
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name} is committed without its figures"
    assert not [o for o in outputs if o.get("output_type") == "error"], f"{path.name} was saved with an error"
    assert path.stat().st_size < 1_500_000, f"{path.name} is {path.stat().st_size} bytes: keep notebooks small"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    if (path.parent / "data").is_dir():  # the notebooks' own small data files (data/...)
        shutil.copytree(path.parent / "data", tmp_path / "data")
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    images = [o for c in code for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, f"{path.name} shows no figure (is a non-interactive matplotlib backend forced?)"
    asserts = sum(c.source.count("assert ") for c in code)
    assert asserts >= 1, f"{path.name} checks no numbers"
