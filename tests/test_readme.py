"""The README's examples run (issue 21): every ```bash and ```python block, in order, in one fresh folder.

A line (or a block's first line) carrying ``[not run: REASON]`` is skipped, and the README shows the
reason beside it: the set-up script (installs system packages; CI runs it), the test command itself,
and commands that take minutes (``memspice demo``, ``reproduce all``, ``validate``; each has its own
test) or need a file only the reader has (their own ``.osdi``).  Everything else runs, so a renamed
option or a changed output name in the README fails here.  ``memspice`` is this checkout's
``python -m memspice``.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

from .conftest import needs_ngspice

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```(bash|python)\n(.*?)^```", re.S | re.M)
SKIP = re.compile(r"\[not run: [^\]]+\]")


def readme_blocks() -> list[tuple[str, str]]:
    """(language, code) of every README block, lines marked ``[not run: ...]`` left out."""
    out = []
    for lang, code in BLOCK.findall((ROOT / "README.md").read_text()):
        lines = code.splitlines()
        if lines and SKIP.search(lines[0]) and lines[0].lstrip().startswith("#"):
            continue  # the whole block is marked
        kept = "\n".join(ln for ln in lines if not SKIP.search(ln))
        if kept.strip():
            out.append((lang, kept))
    return out


def test_the_skip_marker_is_visible_and_rare():
    text = (ROOT / "README.md").read_text()
    reasons = SKIP.findall(text)
    assert 3 <= len(reasons) <= 8, reasons  # a few, each with its reason
    ran = "\n".join(code for _, code in readme_blocks())
    assert "memspice read" in ran and "memspice sweep" in ran and "memspice run" in ran and "import memspice" in ran


@needs_ngspice
def test_readme_examples_run(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "memspice"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m memspice "$@"\n')
    shim.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    env = dict(
        os.environ,
        PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        PYTHONPATH=f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        MPLBACKEND="Agg",
        MEMSPICE_PROGRESS="0",
    )
    (bin_dir / "python3").symlink_to(sys.executable)
    for k, (lang, code) in enumerate(readme_blocks()):
        cmd = ["bash", "-e", "-c", code] if lang == "bash" else [sys.executable, "-c", code]
        proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, f"README block {k} ({lang}) failed:\n{code}\n--- stderr ---\n{proc.stderr[-3000:]}"
    for made in (
        "xbar.cir",
        "out.csv",
        "out.raw",
        "out.png",
        "read.png",
        "sweep.csv",
        "own.csv",
        "bode.png",
        "vector2.png",
    ):
        assert (work / made).stat().st_size > 0, made
