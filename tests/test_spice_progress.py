"""Progress of long ngspice runs, the slow-run hint, OSDI header names and short reprs (issue 14)."""

import textwrap
import warnings

import pytest

from memspice.spice import SlowSimulationWarning, run
from memspice.spice.job import prepare_job
from memspice.spice.progress import SpiceBar, analysis_span, element_count, slow_hint

from .conftest import needs_ngspice, needs_osdi, needs_shared

RC = textwrap.dedent("""\
    rc
    V1 a 0 PULSE(0 1 0 1n 1n 5u 10u)
    R1 a b 1k
    C1 b 0 1n
    .tran 10n 20u
    .end
""")


def test_analysis_span_reads_tran_and_dc_lines():
    assert analysis_span(RC) == (0.0, pytest.approx(20e-6))
    assert analysis_span("x\n.tran 1n 5u 1u\n") == (pytest.approx(1e-6), pytest.approx(5e-6))
    assert analysis_span("x\n.tran 1n 5u uic\n") == (0.0, pytest.approx(5e-6))
    assert analysis_span("x\n.control\ntran 1u 2m\n.endc\n") == (0.0, pytest.approx(2e-3))
    assert analysis_span("x\n.dc V1 -1 2 0.1\n") == (-1.0, 2.0)
    assert analysis_span("x\n.op\n") is None


def test_bar_follows_ngspice_reference_values(capsys):
    bar = SpiceBar(True, (0.0, 1e-3))
    bar.feed("Initial Transient Solution\n Reference value :  2.50000e-04\r Reference value :  5.00000e-04\r")
    assert bar._done == pytest.approx(50.0)
    bar.feed("garbage without numbers")
    assert bar._done == pytest.approx(50.0)
    bar.status("tran: 80.0%")
    assert bar._done == pytest.approx(80.0)
    bar.close()
    assert "ngspice" in capsys.readouterr().err
    quiet = SpiceBar(False, (0.0, 1.0))
    quiet.feed(" Reference value :  0.5")
    assert not quiet.active and quiet._done == 0.0


def test_progress_is_quiet_off_a_terminal_and_can_be_switched_off(monkeypatch):
    from memspice.core.progress import enabled

    assert enabled(None) is False  # pytest's stderr is not a terminal
    assert enabled(True) is True
    monkeypatch.setenv("MEMSPICE_PROGRESS", "0")
    assert enabled(True) is False


@needs_ngspice
def test_batch_run_shows_a_bar_only_when_asked(capsys):
    res = run(RC, progress=True)
    assert "v(b)" in res.waveforms and "ngspice" in capsys.readouterr().err
    run(RC)
    assert capsys.readouterr().err == ""


def _big_transient(cells: int) -> str:
    return "big\nV1 n0 0 1\n" + "".join(f"R{k} n{k} n{k + 1} 1k\n" for k in range(cells)) + ".tran 1n 10n\n.end\n"


def test_slow_hint_for_large_transients_only():
    assert element_count(RC) == 3
    assert slow_hint(RC) is None
    big = _big_transient(13_000)
    hint = slow_hint(big)
    assert hint and "13,001 elements" in hint and "backend='sparse'" in hint
    assert slow_hint(big.replace(".tran 1n 10n", ".op")) is None  # DC of the same size is fine
    with pytest.warns(SlowSimulationWarning, match="sparse"):
        prepare_job(big)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prepare_job(RC)


@needs_ngspice
def test_simulation_result_repr_is_short(capsys):
    res = run(RC)
    text = repr(res)
    assert text.startswith("SimulationResult(batch; tran1: ") and "3 signals" in text
    assert len(text) < 200 and "ngspice" not in text.lower().replace("simulationresult", "")


def test_model_repr_names_key_parameters_with_units():
    from memspice.models import DriftDiffusion, Selector, TiOx

    assert repr(Selector()) == "Selector(i0=1 nA, v0=80 mV, v_lin=2.5 V)"
    text = repr(DriftDiffusion())
    assert text.startswith("DriftDiffusion(r_on=100 Ohm, r_off=2 kOhm,") and "x0=0.1" in text and ".describe()" in text
    assert "v_set=1.8 V" in repr(TiOx(v_set=1.8))  # a changed parameter is always shown
    assert "\n" not in text and len(text) < 160


def test_osdi_header_names_resolve_in_the_cache(tmp_path, monkeypatch):
    from memspice.core.osdi import cache_name, find_cached, header_name, is_cache_name

    monkeypatch.setenv("MEMSPICE_CACHE", str(tmp_path))
    from memspice.core.osdi import cache_dir

    name = cache_name("module m_va(p, n); endmodule", "m_va")
    assert is_cache_name(name) and is_cache_name("m_va") and not is_cache_name("/abs/m_va.osdi")
    assert find_cached(name) is None
    (cache_dir() / name).write_bytes(b"\0")
    assert find_cached(name) == cache_dir() / name and find_cached("m_va") == cache_dir() / name
    assert header_name(cache_dir() / name) == name  # no folder in a netlist header
    assert header_name(tmp_path / "elsewhere.osdi") == str(tmp_path / "elsewhere.osdi")


def test_unknown_bare_osdi_header_is_explained(tmp_path, monkeypatch, capsys):
    from memspice.cli import main

    monkeypatch.setenv("MEMSPICE_CACHE", str(tmp_path / "cache"))
    cir = tmp_path / "x.cir"
    cir.write_text("x\n* memspice-osdi: nosuch_va-0123456789abcdef.osdi\nR1 a 0 1k\nV1 a 0 1\n.op\n.end\n")
    assert main(["run", str(cir)]) == 2
    err = capsys.readouterr().err
    assert "nosuch_va-0123456789abcdef.osdi" in err and "not in the OSDI cache" in err


@needs_osdi
def test_bare_module_header_compiles_and_runs(tmp_path, monkeypatch, capsys):
    from memspice.cli import main
    from memspice.models import Selector

    monkeypatch.setenv("MEMSPICE_CACHE", str(tmp_path / "cache"))  # empty cache: memspice compiles it again
    sel = Selector()
    cir = tmp_path / "sel.cir"
    cir.write_text(
        f"selector\n* memspice-osdi: {sel.va_module}\n{sel.va_model_card('sm')}\nNsel a 0 sm\nV1 a 0 0.3\n.op\n.end\n"
    )
    assert main(["run", str(cir)]) == 0
    out = capsys.readouterr().out
    assert "i(v1)" in out or "v1#branch" in out


@needs_shared
def test_shared_run_reports_libngspice_progress(capsys):
    res = run(RC, mode="shared", progress=True)
    assert "v(b)" in res.waveforms and "ngspice (shared)" in capsys.readouterr().err
