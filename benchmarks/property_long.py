"""The property suites' long profile: 10,000+ generated circuits, every path against every other (issue 20).

Runs ``tests/test_property_*.py`` in this process under the ``long`` hypothesis profile (random, the seed
recorded; budgets per property in ``tests/strategies.py``'s ``BUDGETS``), slow-marked properties included,
and writes a report: cases run per property, its outcome and time, the largest error seen as a multiple of
the documented bound (``memspice.accuracy``), and every failure with the shrunk example hypothesis printed.

    python benchmarks/property_long.py                      # about 11 h on a busy 2-core machine
    python benchmarks/property_long.py --scale 0.05         # a short exploratory run
    python benchmarks/property_long.py --seed 1234 -k ngspice

Measured cost per case (seed 20261205, 2026-12-05, load 3-8 on 2 cores): sparse paths 0.28 s, tiles 0.66 s,
ngspice 1.5-1.8 s, netlist round trip 0.7 s, transients about 16 s; the DC properties' full budgets take
about 2 h, the transients' 2,000 cases about 9 h (run them apart: ``-k transient``).

The quick profile of the same properties runs in CI (``python -m pytest``: derandomized, ~1 minute).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


class _Collector:
    """pytest plugin: outcome, duration and failure text of every property test."""

    def __init__(self):
        self.tests: dict[str, dict] = {}

    def pytest_runtest_logreport(self, report):
        entry = self.tests.setdefault(report.nodeid, {"outcome": "passed", "seconds": 0.0})
        entry["seconds"] += report.duration
        if report.failed:
            entry["outcome"] = "failed"
            entry["failure"] = str(report.longrepr)[-6000:]
        elif report.skipped and report.when == "setup":
            entry["outcome"] = "skipped"
            entry["reason"] = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else str(report.longrepr)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=None, help="hypothesis seed (default: drawn and recorded)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiply every long budget (default 1)")
    ap.add_argument("-k", default=None, help="pytest -k expression (a subset of the properties)")
    ap.add_argument("--json", default=str(RESULTS / "property_long.json"), help="report (default %(default)s)")
    args = ap.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    os.environ["MEMSPICE_PROPERTY_PROFILE"] = "long"  # read by tests/strategies.py when pytest imports it
    os.environ["MEMSPICE_PROPERTY_SCALE"] = repr(args.scale)
    os.environ.setdefault("MEMSPICE_PROGRESS", "0")
    sys.path.insert(0, str(ROOT))
    import pytest

    collector = _Collector()
    pytest_args = [
        str(ROOT / "tests" / "test_property_dc.py"),
        str(ROOT / "tests" / "test_property_transient.py"),
        "-m",
        "slow or not slow",
        "-q",
        "--no-cov",
        "-p",
        "no:cacheprovider",
        f"--hypothesis-seed={seed}",
        "-W",
        "ignore::DeprecationWarning",
        "--timeout=0",  # pytest-timeout's per-test 600 s (pyproject) is for CI; a long property runs for hours
    ] + (["-k", args.k] if args.k else [])
    start = time.time()
    code = pytest.main(pytest_args, plugins=[collector])
    elapsed = time.time() - start
    from tests import strategies

    cases = dict(strategies.CASES)
    failures = {k: v for k, v in collector.tests.items() if v["outcome"] == "failed"}
    report = {
        "benchmark": "property_long",
        "created": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count()},
        "args": {"seed": seed, "scale": args.scale, "k": args.k},
        "budgets": {k: v[1] for k, v in strategies.BUDGETS.items()},
        "cases": cases,
        "cases_total": int(sum(cases.values())),
        "worst_error_over_bound": dict(sorted(strategies.WORST.items())),
        "tests": collector.tests,
        "failures": len(failures),
        "seconds": round(elapsed, 1),
        "pytest_exit_code": int(code),
        "note": (
            "cases: executions of each property's body (generation, plus shrinking where a property failed); "
            "worst_error_over_bound: the largest |error| / documented bound seen (memspice.accuracy); "
            "a failure's text ends with the shrunk falsifying example"
        ),
    }
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n")
    print(
        f"{report['cases_total']} cases in {elapsed / 60:.1f} min, {len(failures)} failing properties "
        f"(seed {seed}); report: {out}"
    )
    for name, n in sorted(cases.items()):
        print(f"  {name:22s} {n:6d} cases")
    return 0 if code in (0, 5) else 1


if __name__ == "__main__":
    sys.exit(main())
