"""ngspice driver: both modes, labelled waveforms, and every failure named."""

import os
import shutil
import stat
import subprocess
import textwrap

import numpy as np
import pytest

from memspice.spice import (
    NgspiceNotFound,
    SpiceConvergenceError,
    SpiceCrashError,
    SpiceNetlistError,
    SpiceTimeoutError,
    capabilities,
    run,
)

from .conftest import needs_ngspice, needs_shared

RC = textwrap.dedent("""\
    rc low-pass
    V1 in 0 PULSE(0 1 0 1n 1n 1 2)
    R1 in out 1k
    C1 out 0 1u
    .tran 10u 5m
    .end
""")
MODES = ["batch", pytest.param("shared", marks=needs_shared)]


@needs_ngspice
@pytest.mark.parametrize("mode", MODES)
def test_transient_returns_labelled_waveforms(mode):
    res = run(RC, mode=mode)
    w = res.waveforms
    assert w.axis_name == "time" and w.units["v(out)"] == "V" and w.units["i(v1)"] == "A"
    expected = 1 - np.exp(-w.time / 1e-3)
    assert np.max(np.abs(w["v(out)"] - expected)) < 1e-3


@needs_ngspice
@pytest.mark.parametrize("mode", MODES)
def test_dc_sweep_and_op(mode):
    net = "divider\nV1 a 0 1\nR1 a b 1k\nR2 b 0 3k\n.dc V1 0 2 0.5\n.end\n"
    w = run(net, mode=mode).waveforms
    assert w.axis_name == "v-sweep"
    np.testing.assert_allclose(w["v(b)"], 0.75 * w.axis, rtol=1e-12, atol=1e-15)
    op = run(net.replace(".dc V1 0 2 0.5", ".op"), mode=mode).waveforms
    assert np.isclose(op["v(b)"][0], 0.75)


@needs_shared
def test_newer_ngspice_stderr_notes_are_not_errors():
    # ngspice >= 40 prints "Using SPARSE 1.3 as Direct Linear Solver" / "Using KLU ..." on stderr;
    # PySpice would call that an error. Force both solvers and run in-process.
    for opt in ("", ".options klu\n"):
        res = run(RC.replace(".tran", opt + ".tran"), mode="shared", isolate=False, klu=False)
        assert "using" in res.log.lower()
        assert len(res.waveforms) > 10


@needs_ngspice
@pytest.mark.parametrize("mode", MODES)
def test_bad_netlists_are_named(mode):
    with pytest.raises(SpiceNetlistError, match="nosuch"):
        run(RC.replace("R1 in out 1k", "X1 in out nosuch"), mode=mode)
    with pytest.raises(SpiceNetlistError, match="no analysis"):
        run(RC.replace(".tran 10u 5m", ""), mode=mode)


@needs_ngspice
@pytest.mark.parametrize("mode", MODES)
def test_non_convergence_is_reported(mode):
    no_dc = "no dc solution\nI1 0 a 1\nB1 a 0 I = 1e-3*tanh(V(a))\n.op\n.end\n"
    with pytest.raises(SpiceConvergenceError):
        run(no_dc, mode=mode, timeout=60)
    chatter = textwrap.dedent("""\
        relay chatter
        V1 in 0 PULSE(0 1 1u 1n 1n 1u 2u)
        R1 in a 1k
        C1 a 0 1p
        B1 a 0 I = V(a) > 0.5 ? 1e-2*(1+V(a)) : -1e-2*(1+V(a))
        .tran 1n 5u
        .end
    """)
    with pytest.raises(SpiceConvergenceError, match="timestep too small"):
        run(chatter, mode=mode, timeout=60)


@needs_ngspice
@pytest.mark.parametrize("mode", MODES)
def test_timeout_stops_the_run(mode):
    endless = RC.replace(".tran 10u 5m", ".tran 1p 10 0 1p")
    with pytest.raises(SpiceTimeoutError):
        run(endless, mode=mode, timeout=2)


@pytest.fixture
def fake_ngspice(tmp_path, monkeypatch):
    def install(body):
        exe = tmp_path / "ngspice"
        exe.write_text("#!/bin/sh\n" + body)
        exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
        monkeypatch.setenv("MEMSPICE_NGSPICE", str(exe))
        capabilities.ngspice_info.cache_clear()
        return exe

    yield install
    capabilities.ngspice_info.cache_clear()


def test_crash_of_batch_ngspice_is_an_exception(fake_ngspice):
    fake_ngspice('case "$1" in -v) echo "** ngspice-46 : fake"; exit 0;; esac\nkill -SEGV $$\n')
    with pytest.raises(SpiceCrashError, match="SIGSEGV"):
        run(RC, mode="batch")


def test_missing_ngspice_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("MEMSPICE_NGSPICE", "")
    monkeypatch.setenv("PATH", str(tmp_path))
    capabilities.ngspice_info.cache_clear()
    try:
        with pytest.raises(NgspiceNotFound, match="ngspice"):
            run(RC, mode="batch")
    finally:
        capabilities.ngspice_info.cache_clear()


@needs_ngspice
@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler to build a crashing libngspice")
def test_crash_inside_shared_library_does_not_kill_python(tmp_path, monkeypatch):
    src = tmp_path / "crash.c"
    src.write_text(
        "int ngSpice_Init(void *a, void *b, void *c, void *d, void *e, void *f, void *g)"
        "{ volatile int *p = 0; return *p; }\n"
    )
    lib = tmp_path / "libngspice.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    monkeypatch.setenv("MEMSPICE_LIBNGSPICE", str(lib))
    capabilities.ngspice_info.cache_clear()
    try:
        with pytest.raises(SpiceCrashError, match="crashed"):
            run(RC, mode="shared", isolate=True, timeout=30)
    finally:
        capabilities.ngspice_info.cache_clear()
    assert os.getpid() > 0  # still here
