"""A minimal cffi binding of libngspice for the co-simulation worker (one circuit, synchronous runs).

Only what co-simulation needs (ngspice's shared-library interface, ``sharedspice.h``): the init call with
memspice's callbacks (output lines, status, exit), commands, loading a circuit from lines, and reading every
vector of every plot afterwards.  Runs happen in
the calling thread (``run``, not ``bg_run``): the worker process has nothing else to do, and the parent
enforces the time limit by ending the worker.
"""

from __future__ import annotations

import numpy as np

from ..spice.log import OutputCapture
from ..spice.shared_vectors import c_strings, read_vectors

_CDEF = """
typedef struct ngcomplex { double cx_real; double cx_imag; } ngcomplex_t;
typedef struct vector_info { char *v_name; int v_type; short v_flags; double *v_realdata;
                             ngcomplex_t *v_compdata; int v_length; } vector_info, *pvector_info;
typedef int (SendChar) (char *, int, void *);
typedef int (SendStat) (char *, int, void *);
typedef int (ControlledExit) (int, bool, bool, int, void *);
typedef int (SendData) (void *, int, int, void *);
typedef int (SendInitData) (void *, int, void *);
typedef int (BGThreadRunning) (bool, int, void *);
int ngSpice_Init (SendChar *, SendStat *, ControlledExit *, SendData *, SendInitData *, BGThreadRunning *, void *);
int ngSpice_Command (char *);
pvector_info ngGet_Vec_Info (char *);
int ngSpice_Circ (char **);
char *ngSpice_CurPlot (void);
char **ngSpice_AllPlots (void);
char **ngSpice_AllVecs (char *);
"""


class Ngspice:
    """libngspice (at path ``library``) loaded once in this process, its output collected."""

    def __init__(self, library: str):
        from cffi import FFI

        self.ffi = ffi = FFI()
        ffi.cdef(_CDEF)
        self.lib = ffi.dlopen(library)
        #: everything ngspice printed, bounded (a netlist printing without end filled the worker's memory)
        self.output = OutputCapture()
        self.exited: tuple[int, bool] | None = None
        self.status = ""

        def send_char(message, ident, user):
            text = ffi.string(message).decode("utf8", errors="replace")
            self.output.add(text.partition(" ")[2])  # without libngspice's "stdout "/"stderr " prefix
            return 0

        def send_stat(message, ident, user):
            self.status = ffi.string(message).decode("utf8", errors="replace")
            return 0

        def controlled_exit(status, unload, quit_, ident, user):
            self.exited = (int(status), bool(quit_))
            return 0

        def bg_running(running, ident, user):
            return 0

        # the callbacks must live as long as the library may call them
        self._callbacks = [
            ffi.callback("SendChar", send_char),
            ffi.callback("SendStat", send_stat),
            ffi.callback("ControlledExit", controlled_exit),
            ffi.callback("BGThreadRunning", bg_running),
        ]
        self.lib.ngSpice_Init(
            self._callbacks[0], self._callbacks[1], self._callbacks[2], ffi.NULL, ffi.NULL, self._callbacks[3], ffi.NULL
        )

    def command(self, text: str) -> int:
        """Run one ngspice command (in this thread)."""
        return int(self.lib.ngSpice_Command(text.encode()))

    def load(self, text: str) -> int:
        """Load a circuit (its ``.control`` block, if any, runs now)."""
        ffi = self.ffi
        lines = [ffi.new("char[]", ln.encode()) for ln in text.splitlines()]
        array = ffi.new("char *[]", lines + [ffi.NULL])
        return int(self.lib.ngSpice_Circ(array))

    @property
    def log(self) -> str:
        """What ngspice printed, one line per message (the first and the last part when it printed a lot)."""
        return self.output.text("\n")

    def plots(self) -> list[str]:
        """Plot names, oldest first (without ``const``)."""
        return [p for p in reversed(c_strings(self.ffi, self.lib.ngSpice_AllPlots())) if p != "const"]

    def vectors(self, plot: str) -> dict[str, np.ndarray]:
        """Every vector of ``plot``, named as in raw files (``v(node)``, ``i(source)``)."""
        return read_vectors(self.ffi, self.lib, plot)
