"""Shared by the notebook build scripts: make a notebook from (kind, source) cells, execute it, save it.

Notebooks are committed executed, so a reader on a code host sees the figures; ``tests/test_notebooks.py``
executes them again.  Outputs are kept small: figures as PNG at matplotlib's inline resolution, and no
execution timing metadata.
"""

import tempfile
from pathlib import Path

import nbformat as nbf
from nbclient import NotebookClient


def nb(cells):
    """A notebook of ``cells``: ("md", text) or ("code", source) pairs."""
    n = nbf.v4.new_notebook()
    n.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    n.cells = [nbf.v4.new_markdown_cell(c[1]) if c[0] == "md" else nbf.v4.new_code_cell(c[1]) for c in cells]
    return n


def save_executed(notebook, path, timeout: int = 600) -> None:
    """Execute ``notebook`` in a scratch folder (files it writes stay out of the repository) and write it to ``path``.

    Relative paths in a notebook (``data/...``) resolve against the notebooks folder: it is copied in.
    """
    path = Path(path)
    with tempfile.TemporaryDirectory() as scratch:
        data = path.parent / "data"
        if data.is_dir():
            import shutil

            shutil.copytree(data, Path(scratch) / "data")
        NotebookClient(
            notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": scratch}}
        ).execute()
    root = str(path.resolve().parent.parent) + "/"  # no machine-specific paths in committed outputs
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                out["text"] = out["text"].replace(root, "")
    nbf.write(notebook, path)
