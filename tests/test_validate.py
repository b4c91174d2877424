"""`memspice validate`: every backend pair with its measured max error."""
import itertools
import json

from memspice.cli import main

from .conftest import needs_ngspice


@needs_ngspice
def test_validate_quick_lists_every_backend_pair(tmp_path, capsys):
    assert main(["validate", "--quick", "-o", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "report.json").read_text())
    assert summary["pass"]
    by_circuit = {}
    for row in summary["comparisons"]:
        by_circuit.setdefault(row["circuit"], set()).add((row["a"], row["b"]))
        assert row["max_error"] <= row["tolerance"]
    for circuit, pairs in by_circuit.items():
        backends = {b for pair in pairs for b in pair}
        assert len(backends) >= 2, circuit
        # every pair of the backends that ran is compared, in one order or the other
        assert {frozenset(p) for p in pairs} == {frozenset(p) for p in itertools.combinations(backends, 2)}, circuit
    report = (tmp_path / "report.md").read_text()
    assert "| circuit | backend a | backend b |" in report and "max error" in report
    assert any(p.suffix == ".png" for p in tmp_path.iterdir())
