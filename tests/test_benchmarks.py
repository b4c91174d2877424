"""Smoke test of the benchmark plumbing: one benchmark at a tiny size writes its JSON table and figure."""

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture()
def bench_path(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    yield
    for name in ("many_vectors", "output_accuracy", "cosim", "cell_kernels", "transient", "benchcommon"):
        sys.modules.pop(name, None)


def test_many_vectors_writes_json_and_png(tmp_path, bench_path):
    import benchcommon
    import many_vectors

    out, png = tmp_path / "mv.json", tmp_path / "mv.png"
    many_vectors.main(["--sizes", "8", "--vectors", "40", "--peers", "--json", str(out), "--png", str(png)])
    doc = json.loads(out.read_text())
    assert doc["benchmark"] == "many_vectors"
    assert {"machine", "args", "rows", "summary", "created"} <= set(doc)
    assert doc["rows"], "no rows"
    first = doc["rows"][0]
    assert set(benchcommon.ROW_KEYS) <= set(first)
    assert first["tool"] == "memspice" and first["size"] == 8 and first["status"] == "ok"
    assert first["seconds"] > 0 and first["strategy"] in ("transfer", "per_vector")
    assert png.stat().st_size > 1000


def test_results_helpers(tmp_path, bench_path):
    import benchcommon

    rows = [
        benchcommon.row("a", 8, 0.1, 2e6),
        benchcommon.row("a", 16, 0.4, 3e6),
        benchcommon.row("b", 8, None, 0, "timeout"),
    ]
    path = benchcommon.write_results(tmp_path / "x.json", "x", rows, {"k": 1}, {"ratio": float("inf")})
    doc = json.loads(path.read_text())
    assert doc["summary"]["ratio"] is None  # non-finite numbers become null, JSON stays valid
    assert doc["rows"][0]["peak_mb"] == 2.0
    assert benchcommon.fit_exponent([8, 16], [0.1, 0.4]) == pytest.approx(2.0)
    assert benchcommon.plot_results(tmp_path / "x.png", rows, "x").exists()


def test_output_accuracy_benchmark_compares_both_stopping_tests(tmp_path, bench_path):
    import output_accuracy

    out = tmp_path / "oa.json"
    output_accuracy.main(["--sizes", "48", "--direct-max", "48", "--repeats", "1", "--json", str(out), "--png", ""])
    doc = json.loads(out.read_text())
    rows = {r["tool"]: r for r in doc["rows"]}
    assert set(rows) == {"residual test only", "with output test"}
    assert rows["with output test"]["max_rel_error"] <= 1e-10
    assert rows["with output test"]["iterations"] >= rows["residual test only"]["iterations"]
    assert "extra_time_48" in doc["summary"]


def test_cosim_benchmark_rows_and_a_monolithic_run_over_its_limit(tmp_path, bench_path):
    """4 x 4 TiOx: a row per monolithic face (behavioural B-sources, Verilog-A) has the issue's keys and
    agrees; a monolithic run stopped by --spice-timeout is a lower bound (ratio_min), never a ratio."""
    pytest.importorskip("cffi")
    from memspice.cosim.device import compiler
    from memspice.spice.capabilities import ngspice_info

    if not ngspice_info().shared_library or compiler() is None:
        pytest.skip("co-simulation needs libngspice and a C compiler")
    import cosim

    faces = ("behavioural", "veriloga") if ngspice_info().osdi else ("behavioural",)
    rows = cosim.run_one(4, "tiox", tmp_path / "a", True, 600, 1, 0.2e-6, faces=faces)
    assert [r["face"] for r in rows] == list(faces)
    for row in rows:
        assert {"n", "ratio", "cpu_ratio", "max_rel_err", "state_err", "spike_count_diff", "accepted"} <= set(row)
        assert row["spice_status"] == "ok" and row["max_rel_err"] < 1e-3 and row["state_err"] < 1e-4
    (slow,) = cosim.run_one(4, "tiox", tmp_path / "b", True, 600, 1, 0.2e-6, spice_timeout=1e-3)
    assert slow["spice_status"] == "timeout" and "ratio" not in slow and slow["ratio_min"] > 0


def test_cell_kernels_compares_two_generators(tmp_path, bench_path):
    """benchmarks/cell_kernels.py loads a generator from git beside today's and times both (here the same
    revision, on a tiny array and a 4 x 4 transient)."""
    import subprocess

    root = BENCH.parent
    if subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True).returncode:
        pytest.skip("not a git checkout: the benchmark loads the earlier generator from git")
    import cell_kernels

    out, png = tmp_path / "ck.json", tmp_path / "ck.png"
    argv = ["--n", "8", "--repeats", "1", "--models", "tiox", "--before", "HEAD", "--transient", "4"]
    cell_kernels.main(argv + ["--pulses", "1", "--json", str(out), "--png", str(png)])
    doc = json.loads(out.read_text())
    assert doc["benchmark"] == "cell_kernels"
    kernel_rows = [r for r in doc["rows"] if "ns_before" in r]
    assert kernel_rows and all(r["ns_before"] > 0 and r["ns_after"] > 0 for r in kernel_rows)
    assert all(r["failed_before"] == r["failed_after"] == 0 for r in kernel_rows)
    assert doc["rows"][-1]["model"] == "tiox transient" and doc["rows"][-1]["cpu_s_after"] > 0
    assert png.stat().st_size > 1000
