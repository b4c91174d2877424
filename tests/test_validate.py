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


def test_a_backend_that_raises_fails_the_report_instead_of_skipping(tmp_path, monkeypatch):
    from memspice.analysis import validate as v

    def broken_cases(quick=False):
        case = v.Case("fake circuit", "dc", 1e-6)
        v._try(case, "python", lambda: v.Waveforms([0.0, 1.0], {"i": [1.0, 2.0]}, "time"))
        v._try(case, "ngspice-behavioural", lambda: 1 / 0)
        return [case]

    monkeypatch.setattr(v, "device_cases", broken_cases)
    monkeypatch.setattr(v, "crossbar_cases", lambda quick=False: [])
    summary = v.validate(tmp_path)
    assert not summary["pass"]
    assert summary["errors"] == [
        {"circuit": "fake circuit", "backend": "ngspice-behavioural", "error": "ZeroDivisionError: division by zero"}
    ]
    assert summary["uncompared"] == ["fake circuit"]
    assert "Backends that failed (FAIL)" in (tmp_path / "report.md").read_text()
