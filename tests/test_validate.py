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
    assert [{k: e[k] for k in ("circuit", "backend", "error")} for e in summary["errors"]] == [
        {"circuit": "fake circuit", "backend": "ngspice-behavioural", "error": "ZeroDivisionError: division by zero"}
    ]
    assert summary["uncompared"] == ["fake circuit"]
    assert "Backends that failed (FAIL)" in (tmp_path / "report.md").read_text()


def test_a_failed_simulator_keeps_its_log_in_the_report(tmp_path, monkeypatch):
    """The report used to keep only the first line of the error; ngspice's log is what explains it."""
    from memspice.analysis import validate as v
    from memspice.spice import SpiceNetlistError

    log = "\n".join(f"log line {k}" for k in range(100)) + "\nUnknown model type ms_drift_diffusion_va - ignored"

    def failing_cases(quick=False):
        case = v.Case("fake transient", "transient", 1e-3)
        v._try(case, "python", lambda: v.Waveforms([0.0, 1.0], {"i": [1.0, 2.0]}, "time"))
        v._try(case, "ngspice-veriloga", lambda: (_ for _ in ()).throw(SpiceNetlistError("ngspice rejected it", log)))
        return [case]

    monkeypatch.setattr(v, "device_cases", failing_cases)
    monkeypatch.setattr(v, "crossbar_cases", lambda quick=False: [])
    summary = v.validate(tmp_path)
    (error,) = summary["errors"]
    assert error["error"] == "SpiceNetlistError: ngspice rejected it"
    assert "Unknown model type ms_drift_diffusion_va" in error["details"] and "log line 45" in error["details"]
    assert "log line 30" not in error["details"]  # the last 60 lines
    report = (tmp_path / "report.md").read_text()
    assert "Unknown model type ms_drift_diffusion_va" in report and "### fake transient: ngspice-veriloga" in report
