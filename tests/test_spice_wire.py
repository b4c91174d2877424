"""Data-only messages from a sandboxed worker (memspice.spice.wire): data round-trips, nothing else is built."""

import contextlib
import pickle
import struct
import threading
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from memspice.spice import SandboxViolation, SpiceNetlistError, SpiceTimeoutError, UnsafeNetlistError
from memspice.spice.wire import MAX_DEPTH, WireError, dumps, loads
from memspice.spice.worker_run import run_in_worker

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.complex_numbers(allow_nan=False)
    | st.text()
    | st.binary()
)
arrays = hnp.arrays(
    st.sampled_from([np.float64, np.complex128, np.int64, np.bool_, np.float32]),
    hnp.array_shapes(min_dims=0, max_dims=3, max_side=5),
)
data = st.recursive(
    scalars | arrays,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=4)
    ),
    max_leaves=20,
)


def _equal_arrays(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal element by element, NaN equal to NaN (bool and int arrays have none)."""
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and a.shape == b.shape and _equal_arrays(a, b)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@settings(max_examples=150, deadline=None)
@given(data)
def test_data_round_trips(value):
    assert _same(loads(dumps(value)), value)


def test_a_result_message_round_trips_with_errors_rebuilt_without_their_init():
    plots = {"tran1": {"time": np.linspace(0, 1, 5), "v(b)": np.arange(5) + 1j}}
    back = loads(dumps(("ok", (plots, "log text"))))
    assert back[0] == "ok" and np.array_equal(back[1][0]["tran1"]["v(b)"], plots["tran1"]["v(b)"])
    err = loads(dumps(("error", SpiceNetlistError("bad line", "the log"))))[1]
    assert type(err) is SpiceNetlistError and err.log == "the log" and str(err).startswith("bad line")
    err = loads(dumps(SandboxViolation("stopped", "log", ["/bin/sh -c x"], ["/etc/x"])))
    assert err.programs == ["/bin/sh -c x"] and err.writes == ["/etc/x"]


class Sneaky(Exception):
    """An exception class of a module the parent does not trust."""


def test_an_exception_of_another_module_becomes_a_runtime_error_naming_it():
    back = loads(dumps(Sneaky("boo")))
    assert type(back) is RuntimeError and "Sneaky" in str(back) and "boo" in str(back)


def test_a_pickle_is_not_read(tmp_path):
    marker = tmp_path / "ran"
    forged = f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()
    for message in (forged, pickle.dumps(("ok", 1)), b"MW1" + forged):
        with pytest.raises(WireError):
            loads(message)
    assert not marker.exists()


@pytest.mark.parametrize(
    "message",
    [
        b"MW1A" + dumps(("|O8", [1]))[3:] + b"b" + struct.pack("<Q", 8) + b"\0" * 8,  # an object array
        b"MW1A" + dumps(("<f8", [4]))[3:] + b"b" + struct.pack("<Q", 8) + b"\0" * 8,  # shape larger than its data
        b"MW1" + b"l" + struct.pack("<Q", 1) * (MAX_DEPTH + 2),  # nested too deep
        b"MW1s" + struct.pack("<Q", 1 << 60),  # a length beyond the message
        b"MW1N" + b"junk",  # trailing bytes
        b"MW1d" + struct.pack("<Q", 1) + dumps([1])[3:] + b"N",  # an unhashable key
        b"MW1?",  # an unknown item
    ],
)
def test_forged_messages_are_refused(message):
    with pytest.raises(WireError):
        loads(message)


def test_what_is_not_data_is_not_sent():
    for value in (object(), {1, 2}, np.array([object()]), lambda: 0):
        with pytest.raises(TypeError):
            dumps(value)


class _ScriptedWorker:
    """What :func:`run_in_worker` needs of a worker, answering with ``messages`` (a worker taken over)."""

    def __init__(self, folder, messages):
        self.run_dir, self.confined, self.output = str(folder), False, ""
        self.proc = types.SimpleNamespace(pid=-1, returncode=0)
        self.conn = types.SimpleNamespace(
            send=lambda obj: None, poll=lambda timeout: bool(messages), recv=lambda: messages.pop(0)
        )
        self.killed = False

    def kill(self):
        self.killed = True

    def close(self):
        return [], []

    def setup_failure(self):
        return None


def _shape(message):
    return message


def test_a_worker_cannot_move_its_deadline_by_saying_started_again(tmp_path):
    messages = [("started", ""), ("progress", "1"), ("started", ""), ("ok", ({}, "log"))]
    worker = _ScriptedWorker(tmp_path, messages)
    with pytest.raises(UnsafeNetlistError, match="second 'started'"):
        run_in_worker(worker, None, _shape, timeout=10, trusted=True, what="the test worker")
    assert worker.killed
    ok = run_in_worker(
        _ScriptedWorker(tmp_path, [("started", ""), ("ok", ({}, "log"))]),
        None, _shape, timeout=10, trusted=True, what="the test worker",
    )  # fmt: skip
    assert ok == ("ok", ({}, "log"))
    with pytest.raises(SpiceTimeoutError, match="the test worker exceeded the 10 s"):
        run_in_worker(_ScriptedWorker(tmp_path, []), None, _shape, timeout=10, trusted=True, what="the test worker")


def test_a_worker_message_larger_than_its_memory_limit_is_not_read(tmp_path, monkeypatch):
    """A worker under a memory limit cannot legitimately build a message larger than it, so the parent
    reads no more than that: a taken-over worker cannot make the parent allocate the 4 GiB wire cap."""
    from multiprocessing import Pipe

    from memspice.spice.wire import MAX_MESSAGE, ParentEnd, dumps

    monkeypatch.setenv("MEMSPICE_MEMORY_LIMIT", "1M")
    ours, theirs = Pipe()
    worker = _ScriptedWorker(tmp_path, [])
    worker.conn = ParentEnd(ours)
    big = dumps(("ok", ({"x": np.zeros(300_000)}, "log")))  # 2.4 MB of data

    def send():
        theirs.send_bytes(dumps(("started", "")))
        with contextlib.suppress(OSError):  # the parent stops reading and closes its end
            theirs.send_bytes(big)

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    with pytest.raises(UnsafeNetlistError, match="a message over the 1,048,576-byte limit"):
        run_in_worker(worker, None, _shape, timeout=10, trusted=False, what="the test worker")
    ours.close()
    sender.join(10)
    assert worker.conn.max_message == 1 << 20 < MAX_MESSAGE
    assert worker.killed
