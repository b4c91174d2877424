"""Data-only messages from a sandboxed worker: what the unconfined parent may safely read.

A confined worker (:class:`memspice.spice.sandbox.Worker`) runs code an
untrusted netlist may have taken over: a library it loaded (``codemodel``),
or a fault in libngspice.  The kernel keeps that code from writing files,
running programs or reaching the network, but it can still write anything
to the socket that leads back to the parent.  ``pickle`` (what
:mod:`multiprocessing` connections use) runs code while it reads, so one
forged message would run the attacker's code in the unconfined parent: the
sandbox's one way out.  So messages from a worker are this format instead,
which only ever builds data:

``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``, ``bytes``,
``list``, ``tuple`` and ``dict`` of those, NumPy arrays of numbers
(boolean, integer, floating or complex dtypes; no objects), and exceptions
(the class is looked up among exception classes the parent has already
imported from :data:`EXCEPTION_MODULES` and the modules the caller adds, and
built without running its ``__init__``; any other class, and any class that
is not an :class:`Exception` (``SystemExit``, ``KeyboardInterrupt``: a forged
one would end or interrupt the parent), becomes a :class:`RuntimeError` that
names it).

Messages from the parent to the worker stay pickles: the worker trusts its
parent, not the other way round.

Standard library only (NumPy is imported to read an array): the worker
loads this file before it is confined, by path, from ``sandbox.py`` run as
a script.
"""

from __future__ import annotations

import builtins
import pickle
import re
import struct
import sys
from typing import Any

#: modules whose exception classes a worker may name (already imported in the parent; never imported here)
EXCEPTION_MODULES = frozenset({"builtins", "memspice.spice.errors", "memspice.core.osdi"})
#: deepest nesting of containers a message may have (assumed: results are a few levels deep)
MAX_DEPTH = 32
#: largest message the parent reads from a worker, bytes (assumed: 4 GiB holds the results of the largest
#: runs memspice makes, a 64x64 array with hundreds of input vectors, many times over; more is refused
#: with an error instead of exhausting the parent's memory)
MAX_MESSAGE = 1 << 32
_MAGIC = b"MW1"
_DTYPE = re.compile(r"^[<>|=]?[biufc][0-9]{1,2}$")
_I64 = struct.Struct("<q")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_F64 = struct.Struct("<d")
_C128 = struct.Struct("<dd")


class WireError(ValueError):
    """A message from a worker is not in the data-only format (a forged or broken message)."""


# --- writing (the worker's side) -----------------------------------------------------------------------
def dumps(obj) -> bytes:
    """``obj`` as a data-only message (see the module docstring); raises TypeError for anything else."""
    out = bytearray(_MAGIC)
    _put(out, obj, 0)
    return bytes(out)


def _put_bytes(out: bytearray, tag: bytes, data: bytes) -> None:
    out += tag + _U64.pack(len(data))
    out += data


def _put(out: bytearray, obj, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise TypeError(f"data nested more than {MAX_DEPTH} deep")
    if obj is None:
        out += b"N"
    elif obj is True or obj is False:
        out += b"T" if obj else b"F"
    elif isinstance(obj, int):
        if -(1 << 63) <= obj < (1 << 63):
            out += b"i" + _I64.pack(obj)
        else:
            _put_bytes(out, b"I", str(int(obj)).encode())
    elif isinstance(obj, float):
        out += b"f" + _F64.pack(obj)
    elif isinstance(obj, complex):
        out += b"c" + _C128.pack(obj.real, obj.imag)
    elif isinstance(obj, str):
        _put_bytes(out, b"s", obj.encode("utf-8", "surrogatepass"))
    elif isinstance(obj, (bytes, bytearray, memoryview)):
        _put_bytes(out, b"b", bytes(obj))
    elif isinstance(obj, (list, tuple)):
        out += (b"l" if isinstance(obj, list) else b"t") + _U64.pack(len(obj))
        for item in obj:
            _put(out, item, depth + 1)
    elif isinstance(obj, dict):
        out += b"d" + _U64.pack(len(obj))
        for key, value in obj.items():
            _put(out, key, depth + 1)
            _put(out, value, depth + 1)
    elif isinstance(obj, BaseException):
        cls = type(obj)
        args = tuple(a if isinstance(a, (str, int, float)) else repr(a) for a in obj.args)
        attrs = {k: v for k, v in vars(obj).items() if _plain_attribute(v)}
        out += b"E"
        _put(out, (cls.__module__, cls.__qualname__, args, attrs), depth + 1)
    elif type(obj).__module__ == "numpy" and hasattr(obj, "dtype"):
        _put_array(out, obj)
    else:
        raise TypeError(f"a worker message cannot hold {type(obj).__name__}")


def _plain_attribute(value) -> bool:
    if isinstance(value, (str, int, float)) or value is None:
        return True
    return isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) for v in value)


def _put_array(out: bytearray, arr) -> None:
    import numpy as np

    if not isinstance(arr, np.ndarray):  # a NumPy scalar
        _put(out, arr.item(), 1)
        return
    dtype = arr.dtype.str
    if not _DTYPE.match(dtype):
        raise TypeError(f"a worker message cannot hold arrays of dtype {arr.dtype}")
    data = np.ascontiguousarray(arr).tobytes()
    out += b"A"
    _put(out, (dtype, [int(n) for n in arr.shape]), 1)
    _put_bytes(out, b"b", data)


# --- reading (the parent's side) -----------------------------------------------------------------------
def loads(data, exception_modules=EXCEPTION_MODULES) -> object:
    """The object a data-only message holds; :class:`WireError` for anything that is not one.

    ``exception_modules``: the modules whose (already imported) exception classes an error may name.
    """
    view = memoryview(data)
    if bytes(view[:3]) != _MAGIC:
        raise WireError("not a data-only message from a memspice worker")
    reader = _Reader(view, 3, frozenset(exception_modules))
    obj = reader.value(0)
    if reader.pos != len(view):
        raise WireError("trailing bytes after the message")
    return obj


class _Reader:
    def __init__(self, view: memoryview, pos: int, exception_modules: frozenset = EXCEPTION_MODULES):
        self.view = view
        self.pos = pos
        self.exception_modules = exception_modules

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.view):
            raise WireError("message cut short")
        chunk = self.view[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def count(self) -> int:
        (n,) = _U64.unpack(self.take(8))
        if n > len(self.view) - self.pos:  # every item takes at least one byte
            raise WireError("length larger than the message")
        return n

    def value(self, depth: int):
        if depth > MAX_DEPTH:
            raise WireError(f"data nested more than {MAX_DEPTH} deep")
        tag = bytes(self.take(1))
        if tag == b"N":
            return None
        if tag in (b"T", b"F"):
            return tag == b"T"
        if tag == b"i":
            return _I64.unpack(self.take(8))[0]
        if tag == b"I":
            digits = bytes(self.take(self.count()))
            if not re.fullmatch(rb"-?[0-9]{1,5000}", digits):
                raise WireError("malformed integer")
            return int(digits)
        if tag == b"f":
            return _F64.unpack(self.take(8))[0]
        if tag == b"c":
            re_, im = _C128.unpack(self.take(16))
            return complex(re_, im)
        if tag == b"s":
            try:
                return str(self.take(self.count()), "utf-8", "surrogatepass")
            except UnicodeDecodeError as exc:
                raise WireError(f"malformed text: {exc}") from None
        if tag == b"b":
            return bytes(self.take(self.count()))
        if tag in (b"l", b"t"):
            items = [self.value(depth + 1) for _ in range(self.count())]
            return items if tag == b"l" else tuple(items)
        if tag == b"d":
            out = {}
            for _ in range(self.count()):
                key = self.value(depth + 1)
                try:
                    out[key] = self.value(depth + 1)
                except TypeError:
                    raise WireError("unhashable dictionary key") from None
            return out
        if tag == b"A":
            return self.array()
        if tag == b"E":
            return self.exception(depth)
        raise WireError(f"unknown item {tag!r}")

    def array(self):
        head = self.value(1)
        if not (isinstance(head, tuple) and len(head) == 2 and isinstance(head[0], str) and isinstance(head[1], list)):
            raise WireError("malformed array header")
        dtype, shape = head
        if not _DTYPE.match(dtype) or not all(isinstance(n, int) and n >= 0 for n in shape) or len(shape) > 32:
            raise WireError(f"array of dtype {dtype!r} and shape {shape!r} refused")
        if bytes(self.take(1)) != b"b":
            raise WireError("malformed array data")
        raw = self.take(self.count())
        import numpy as np

        dt = np.dtype(dtype)
        size = 1
        for n in shape:
            size *= n
        if dt.kind not in "biufc" or size * dt.itemsize != len(raw):
            raise WireError("array data does not match its dtype and shape")
        return np.frombuffer(bytearray(raw), dtype=dt).reshape(shape)

    def exception(self, depth: int):
        spec = self.value(depth + 1)
        if not (isinstance(spec, tuple) and len(spec) == 4):
            raise WireError("malformed exception")
        module, name, args, attrs = spec
        if not (isinstance(module, str) and isinstance(name, str) and isinstance(args, tuple)):
            raise WireError("malformed exception")
        cls = _exception_class(module, name, self.exception_modules)
        if cls is None:
            return RuntimeError(f"the worker raised {module}.{name}: {', '.join(map(str, args))}")
        exc = cls.__new__(cls)
        BaseException.__init__(exc, *args)
        if isinstance(attrs, dict):
            for key, value in attrs.items():
                if isinstance(key, str) and key.isidentifier() and not key.startswith("_") and _plain_attribute(value):
                    try:
                        setattr(exc, key, list(value) if isinstance(value, tuple) else value)
                    except AttributeError:
                        pass
        return exc


def _exception_class(module: str, name: str, allowed=EXCEPTION_MODULES):
    """An :class:`Exception` class the parent has already imported from an ``allowed`` module, or None."""
    if module not in allowed or not name.isidentifier():
        return None
    owner = builtins if module == "builtins" else sys.modules.get(module)
    cls = getattr(owner, name, None) if owner is not None else None
    return cls if isinstance(cls, type) and issubclass(cls, Exception) else None


# --- the two ends of a worker's connection ------------------------------------------------------------
class _End:
    """What both ends of a worker connection pass straight to the wrapped Connection."""

    _conn: Any

    def poll(self, timeout: float | None = 0.0) -> bool:
        return self._conn.poll(timeout)

    def fileno(self) -> int:
        return self._conn.fileno()

    @property
    def closed(self) -> bool:
        return self._conn.closed

    def close(self) -> None:
        self._conn.close()


class ParentEnd(_End):
    """The parent's end of a worker connection: sends pickles (the worker trusts its parent), reads only data.

    Wraps a :class:`multiprocessing.connection.Connection`; :meth:`recv`
    raises :class:`WireError` for a message that is not data-only or is larger
    than ``max_message`` (:data:`MAX_MESSAGE`; :func:`~memspice.spice.worker_run.run_in_worker` lowers it
    to the worker's memory limit).
    """

    def __init__(self, conn, max_message: int = MAX_MESSAGE, exception_modules=EXCEPTION_MODULES):
        self._conn = conn
        self.max_message = max_message
        self.exception_modules = frozenset(exception_modules)

    def send(self, obj) -> None:
        self._conn.send_bytes(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))

    def recv(self):
        try:
            data = self._conn.recv_bytes(self.max_message)
        except OSError as exc:
            if "bad message length" in str(exc):  # multiprocessing's word for a header over ``max_message``
                raise WireError(f"a message over the {self.max_message:,}-byte limit") from exc
            raise
        return loads(data, self.exception_modules)


class WorkerEnd(_End):
    """The worker's end: reads its parent's pickles, sends data-only messages (:func:`dumps`)."""

    def __init__(self, conn):
        self._conn = conn

    def send(self, obj) -> None:
        self._conn.send_bytes(dumps(obj))

    def recv(self):
        return pickle.loads(self._conn.recv_bytes())
