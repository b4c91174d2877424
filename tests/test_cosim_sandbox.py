"""The co-simulation worker under the sandbox (issue 20): data-only messages, read-only kernels, clean exits.

The worker runs libngspice on the user's (untrusted) netlist beside memspice's array solvers, confined by
the kernel sandbox; the parent reads its messages unconfined.  So what it sends must be data (a forged
pickle would run code in the parent), its errors arrive as the classes the parent knows, and a signal to
the parent leaves no run folder and no worker behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from memspice.cosim import CosimNetlistError, cosimulate
from memspice.cosim.coupling import CouplingError
from memspice.cosim.device import compiler
from memspice.cosim.run import _checked
from memspice.cosim.worker import ERROR_MODULES
from memspice.solver.guards import NonFiniteResultError
from memspice.spice import SandboxViolation, UnsafeNetlistError, sandbox
from memspice.spice.capabilities import ngspice_info
from memspice.spice.wire import EXCEPTION_MODULES, WireError, dumps, loads

from .conftest import processes_inside
from .test_spice_hostile_code import library  # noqa: F401 - the hostile code model, compiled once

needs_cosim = pytest.mark.skipif(
    not ngspice_info().shared_library or compiler() is None,
    reason="co-simulation needs libngspice and a C compiler (for its OSDI port device)",
)
needs_worker_sandbox = pytest.mark.skipif(not sandbox.support().worker, reason=sandbox.support().why_not(False))

#: a 2 x 2 array of 1R cells read by two sources; ``{stop}`` is the transient's end
NETLIST = """* a read of a 2 x 2 array
V0 a 0 0.3
V1 b 0 0.5
X1 a b s0 s1 memspice_crossbar weights=g.npy cell=1R r_word=2 r_bit=2
Vs0 s0 0 0
Vs1 s1 0 0
.tran 1n {stop}
{control}.end
"""


def _netlist(folder, stop: str = "4n", control: str = "") -> str:
    np.save(folder / "g.npy", np.array([[20e-6, 40e-6], [60e-6, 80e-6]]))
    path = folder / "read.cir"
    path.write_text(NETLIST.format(stop=stop, control=control))
    return str(path)


@pytest.mark.parametrize(
    "message",
    [
        ("ok", ({}, "log")),  # shared mode's shape, not co-simulation's
        ("ok", ({"tran1": {"time": [0.0, 1.0]}}, "log", {}, {}, {}, "", None)),  # a list where an array goes
        ("ok", ({}, "log", {"x1": (np.zeros(2), None, None, 0)}, {}, {}, "", None)),  # 0 word lines
        ("ok", ({}, "log", {}, {}, {"accepted": "many"}, "", None)),
        ("progress", "soon"),
        ("error", "text, not an exception"),
        ("done", None),
        ["ok", None],
    ],
)
def test_messages_of_another_shape_are_refused(message):
    with pytest.raises(WireError):
        _checked(message)


def test_a_well_formed_result_passes():
    plots = {"tran1": {"time": np.linspace(0, 1e-9, 3), "v(a)": np.ones(3)}}
    records = {"x1": (np.linspace(0, 1e-9, 3), np.zeros((3, 4)), None, 2)}
    ok = ("ok", (plots, "log", records, {"x1": np.zeros((2, 2))}, {"accepted": 3, "array_seconds": 0.1}, "", (0, True)))
    status, payload = _checked(loads(dumps(ok)))
    assert status == "ok" and payload[6] == (0, True) and payload[4] == {"accepted": 3, "array_seconds": 0.1}
    np.testing.assert_array_equal(payload[0]["tran1"]["v(a)"], np.ones(3))
    assert payload[2]["x1"][2] is None and payload[2]["x1"][3] == 2


@pytest.mark.parametrize("error", [CouplingError("no convergence at x1"), CosimNetlistError("X1: bad mark"),
                                   NonFiniteResultError("NaN in the port currents")])  # fmt: skip
def test_errors_of_the_worker_arrive_as_their_own_class(error):
    back = loads(dumps(("error", error)), EXCEPTION_MODULES | frozenset(ERROR_MODULES))[1]
    assert type(back) is type(error) and str(back) == str(error)
    assert _checked(("error", back))[1] is back


@pytest.mark.parametrize("forged", [SystemExit(0), KeyboardInterrupt(), GeneratorExit()])
def test_an_error_that_would_end_the_parent_arrives_as_a_runtime_error(forged):
    back = loads(dumps(("error", forged)), EXCEPTION_MODULES | frozenset(ERROR_MODULES))[1]
    assert type(back) is RuntimeError and type(forged).__name__ in str(back)


@needs_cosim
@needs_worker_sandbox
def test_a_forged_pickle_from_the_cosim_worker_runs_nothing_in_memspice(library, tmp_path, monkeypatch):  # noqa: F811
    """Native code inside the confined worker (the deny-list switched off) writes a pickle to its connection."""
    marker = tmp_path / "ran-in-the-parent"
    monkeypatch.setattr("memspice.spice.job.check_netlist", lambda *a, **k: None)
    monkeypatch.setenv("MEMSPICE_HOSTILE", "pickle")
    monkeypatch.setenv("MEMSPICE_HOSTILE_TARGET", str(marker))
    path = _netlist(tmp_path, control=f".control\ncodemodel {library}\nrun\n.endc\n")
    with pytest.raises(UnsafeNetlistError, match="not plain data"):
        cosimulate(path, progress=False, timeout=120)
    assert not marker.exists(), "code sent by the sandboxed co-simulation worker ran in memspice's own process"


@needs_cosim
@needs_worker_sandbox
def test_a_blocked_action_is_named_and_allow_shell_lifts_the_sandbox(tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    monkeypatch.setattr("memspice.spice.job.check_netlist", lambda *a, **k: None)  # the kernel alone
    path = _netlist(tmp_path, control=f".control\nrun\nshell touch {marker}\n.endc\n")
    with pytest.raises(SandboxViolation, match=f"run a program: .*touch {marker}") as info:
        cosimulate(path, progress=False)
    assert info.value.programs and not marker.exists()
    res = cosimulate(path, progress=False, allow_shell=True)
    assert marker.exists() and res.statistics["confined"] == 0.0


@needs_cosim
def test_without_kernel_support_a_plain_cosim_runs_and_the_rest_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "_SUPPORT", [sandbox.Support(0, False, False, ["the kernel has no Landlock (test)"])])
    res = cosimulate(_netlist(tmp_path), progress=False)
    assert res.statistics["confined"] == 0.0
    expect = np.array([0.3 * 20e-6 + 0.5 * 60e-6, 0.3 * 40e-6 + 0.5 * 80e-6])  # ideal wires, within 1e-3
    np.testing.assert_allclose([res[f"i(x1.bl{j})"][-1] for j in range(2)], -expect, rtol=1e-3)
    with pytest.raises(UnsafeNetlistError, match="no Landlock \\(test\\)") as info:
        cosimulate(_netlist(tmp_path, control=".control\nset x = 1\nrun\n.endc\n"), progress=False)
    assert "allow_shell=True" in str(info.value)


@needs_cosim
def test_what_the_cosim_worker_prints_is_kept_bounded(tmp_path):
    """ngspice's output in the worker was a list without bound (a netlist printing without end filled the
    worker's memory, then its one result message); it keeps the first and the last 8 Mi characters."""
    from memspice.spice.log import OUTPUT_LIMIT

    loop = ".control\nrun\nlet v = vector(1e5)\nlet k = 0\nwhile k < 6\nprint v v\nlet k = k + 1\nend\n.endc\n"
    res = cosimulate(_netlist(tmp_path, control=loop), progress=False)
    assert len(res.log) < 1.1 * OUTPUT_LIMIT, len(res.log)
    assert any("memspice cut" in w for w in res.warnings), res.warnings[:3]
    assert res["i(x1.bl0)"][-1] == pytest.approx(-(0.3 * 20e-6 + 0.5 * 60e-6), rel=1e-3)


@needs_cosim
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_caller_leaves_no_cosim_folder_and_no_worker(tmp_path, sig):
    """SIGTERM (or SIGINT to the Python process only) during a co-simulation: folder and worker are gone."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    path = _netlist(tmp_path, stop="1 0 1n")  # a second of simulated time in steps of at most 1 ns: endless
    script = tmp_path / "endless.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import signal, tempfile
            signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal, even if started ignoring it
            tempfile.tempdir = {str(temp)!r}
            from memspice.cosim import cosimulate
            cosimulate({path!r}, progress=False, timeout=600)
            """
        )
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), MEMSPICE_PROGRESS="0")
    proc = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None and not processes_inside(temp):
        time.sleep(0.1)
    assert processes_inside(temp), f"the co-simulation did not start: {proc.communicate()[1][-2000:]!r}"
    time.sleep(0.5)
    os.kill(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0, err[-2000:]
    if sig == signal.SIGINT:
        assert proc.returncode == -signal.SIGINT or "KeyboardInterrupt" in err, err[-2000:]
    assert [p.name for p in temp.iterdir() if p.name.startswith("memspice-")] == [], err[-2000:]
    time.sleep(0.2)
    assert processes_inside(temp) == []
    if sig == signal.SIGTERM:
        assert proc.returncode == 128 + signal.SIGTERM
