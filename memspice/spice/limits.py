"""How much memory and disk an untrusted ngspice run may take, so that one netlist cannot take down the machine.

The kernel sandbox (:mod:`memspice.spice.sandbox`) keeps an untrusted
netlist inside its run folder, but inside it ngspice can still allocate
memory and write files as fast as it likes: a few plain lines (``write
big.raw`` in a ``while`` loop with ``set appendwrite``) wrote 110 MB/s,
which fills a disk within the default 10-minute timeout.  So an untrusted
run (any run without ``allow_shell=True``) gets two limits:

* **memory**: the address space of the sandboxed ngspice (``RLIMIT_AS``);
  ngspice's own allocations then fail cleanly ("can't allocate") instead of
  waking the out-of-memory killer.  Default: half the machine's physical
  memory; ``MEMSPICE_MEMORY_LIMIT`` sets it (``8G``, ``512M``, bytes, or
  ``0`` for none).
* **disk**: the size of everything in the run folder, checked four times a
  second (:class:`FolderGuard`); past it the run is stopped with a
  :class:`~memspice.spice.errors.SpiceOutputError`.  Default: half the free
  space of the run folder's file system when the run starts;
  ``MEMSPICE_DISK_LIMIT`` sets it the same way.

Both defaults are assumptions (no paper gives them): half leaves the other
half to everything else on the machine, and is far above what memspice's
own largest runs need.
"""

from __future__ import annotations

import os
import re
import threading

#: share of physical memory / of free disk space an untrusted run may use by default (module docstring)
SHARE = 0.5
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?)\s*([kmgt]?)i?b?\s*$", re.I)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(text: str, name: str) -> int | None:
    """Bytes from ``8G``, ``512M``, ``1.5g``, ``1000000``; None for ``0``/``none``/``off`` (no limit)."""
    if text.strip().lower() in ("0", "none", "off", "no"):
        return None
    m = _SIZE.match(text)
    if m is None:
        raise ValueError(f"{name}={text!r}: give a size such as 8G, 512M or a number of bytes (0 for no limit)")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()]) or None


def memory_limit() -> int | None:
    """Bytes of address space a sandboxed ngspice may use (``MEMSPICE_MEMORY_LIMIT``, default half the RAM)."""
    text = os.environ.get("MEMSPICE_MEMORY_LIMIT")
    if text is not None:
        return parse_size(text, "MEMSPICE_MEMORY_LIMIT")
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return int(total * SHARE) if total > 0 else None


def disk_limit(folder) -> int | None:
    """Bytes an untrusted run may write into ``folder`` (``MEMSPICE_DISK_LIMIT``, default half the free space)."""
    text = os.environ.get("MEMSPICE_DISK_LIMIT")
    if text is not None:
        return parse_size(text, "MEMSPICE_DISK_LIMIT")
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):
        return None
    return int(st.f_bavail * st.f_frsize * SHARE)


def limit_memory(pid: int, limit: int | None) -> None:
    """Lower process ``pid``'s address-space limit to ``limit`` bytes (never raises it; None: leave it)."""
    if limit is None:
        return
    try:
        import resource

        soft, hard = resource.prlimit(pid, resource.RLIMIT_AS)
        new = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.prlimit(pid, resource.RLIMIT_AS, (new, new))
    except (ImportError, OSError, ValueError):  # not Linux, or the process has ended already
        pass


def folder_size(folder) -> int:
    """Bytes the files beneath ``folder`` occupy on disk (allocated blocks: sparse files count what they use)."""
    total = 0
    stack = [os.fspath(folder)]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    total += getattr(st, "st_blocks", 0) * 512 or st.st_size
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue
    return total


class FolderGuard:
    """Calls ``stop()`` once when the files beneath ``folder`` grow past ``limit`` bytes (checked every ``interval`` s).

    Use as a context manager around a run; :attr:`exceeded` is the size found
    when it fired, else None.  ``limit`` None: no guard.
    """

    def __init__(self, folder, limit: int | None, stop, interval: float = 0.25):
        self.folder = os.fspath(folder)
        self.limit = limit
        self.exceeded: int | None = None
        self._stop = stop
        self._done = threading.Event()
        self._interval = interval
        self._thread: threading.Thread | None = None

    def __enter__(self) -> FolderGuard:
        if self.limit is not None:
            self._thread = threading.Thread(target=self._watch, name="memspice-disk-guard", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()

    def _watch(self) -> None:
        assert self.limit is not None
        while not self._done.wait(self._interval):
            size = folder_size(self.folder)
            if size > self.limit:
                self.exceeded = size
                self._stop()
                return

    def message(self) -> str:
        return (
            f"the netlist wrote {self.exceeded} bytes into its run folder, more than memspice allows an untrusted "
            f"run ({self.limit} bytes: half the free disk space, or MEMSPICE_DISK_LIMIT); the run was stopped. "
            "Set MEMSPICE_DISK_LIMIT (e.g. 50G, or 0 for no limit) if the netlist needs more"
        )


def out_of_memory(log: str) -> bool:
    """Whether ngspice's ``log`` says an allocation failed."""
    return "can't allocate" in log.lower() or "not enough memory" in log.lower()


def memory_message(limit: int | None) -> str:
    return (
        f"ngspice ran out of memory: memspice limits an untrusted run to {limit} bytes of address space (half the "
        "machine's memory, or MEMSPICE_MEMORY_LIMIT); set MEMSPICE_MEMORY_LIMIT (e.g. 32G, or 0 for no limit) if "
        "the netlist needs more"
    )
