"""Private run folders that are removed on every way out: return, error, Ctrl-C, SIGTERM, and even SIGKILL.

Every ngspice run works in a folder of its own (``memspice-run-*`` for
batch, ``memspice-shared-*`` for the shared-mode worker, ``memspice-cosim-*``
for a co-simulation's worker, ``memspice-cli-*`` for ``memspice run``'s
files).  :func:`run_folder`
removes it when the run ends, however it ends:

* exceptions and Ctrl-C (``KeyboardInterrupt``): ``finally``;
* SIGTERM and SIGHUP, whose default action would end Python without running
  ``finally``: while a run is under way in the main thread, and only if the
  program has not installed its own handler, they raise ``SystemExit(128 +
  signal)`` instead, so the folder is removed and the child stopped, and the
  program still ends with the status a shell expects (143 for SIGTERM);
* SIGKILL (or a power cut), which nothing can catch: each folder holds a
  lock (``flock``) for as long as its run lives, and the next run removes the
  folders in the temporary directory whose lock nobody holds any more.

Folders inside a caller's ``workdir`` and kept folders (``keep_files``) are
never removed by that sweep.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: no locks, so no sweep
    fcntl = None  # type: ignore[assignment]

PREFIXES = ("memspice-run-", "memspice-shared-", "memspice-cosim-", "memspice-cli-")
LOCK_NAME = ".memspice-lock"
#: a folder younger than this is never swept (its run may not hold the lock yet), s; assumed, ample for mkdtemp
_GRACE = 60.0
_CAUGHT = (signal.SIGTERM, signal.SIGHUP) if hasattr(signal, "SIGHUP") else (signal.SIGTERM,)


def sweep_stale(folder=None) -> list[Path]:
    """Remove run folders in ``folder`` (default: the temporary directory) left by runs that died; returns them."""
    root = Path(folder or tempfile.gettempdir())
    removed: list[Path] = []
    if fcntl is None:
        return removed
    try:
        entries = [p for p in root.iterdir() if p.name.startswith(PREFIXES)]
    except OSError:
        return removed
    now = time.time()
    for path in entries:
        lock = path / LOCK_NAME
        try:
            if now - path.stat().st_mtime < _GRACE or not lock.is_file():
                continue
            fd = os.open(lock, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live run holds it
        finally:
            os.close(fd)
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


@contextlib.contextmanager
def _signals_end_the_run() -> Iterator[None]:
    """SIGTERM/SIGHUP raise SystemExit(128 + signal) while the block runs (main thread, default handlers only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for sig in _CAUGHT:
        try:
            if signal.getsignal(sig) is signal.SIG_DFL:
                previous[sig] = signal.signal(sig, _raise_exit)
        except (ValueError, OSError):
            pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            try:
                signal.signal(sig, handler)
            except (ValueError, OSError):
                pass


def _raise_exit(signum, frame):
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def run_folder(prefix: str, parent=None, keep: bool = False) -> Iterator[Path]:
    """A fresh private folder for one run, removed when the block ends unless ``keep``.

    Parameters
    ----------
    prefix : str
        One of :data:`PREFIXES`.
    parent : path, optional
        Folder to create it in (a caller's ``workdir``); default the temporary
        directory, where folders of dead runs are swept first.
    keep : bool
        Keep the folder (its lock is removed, so no sweep touches it).
    """
    if parent is None:
        sweep_stale()
    else:
        Path(parent).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    lock = os.open(work / LOCK_NAME, os.O_CREAT | os.O_RDWR | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        with _signals_end_the_run():
            yield work
    finally:
        if keep:
            with contextlib.suppress(OSError):
                os.unlink(work / LOCK_NAME)
        os.close(lock)
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
