"""Reading libngspice's vectors from memory (``sharedspice.h``), for every cffi binding of the library.

One place for the rules both bindings follow: PySpice's (:mod:`memspice.spice.shared`) and the
co-simulation worker's own minimal one (:mod:`memspice.cosim.ngspice`).  ``ffi`` is the binding's
``cffi.FFI`` and ``lib`` its loaded library; both only need ``ngSpice_AllVecs`` and ``ngGet_Vec_Info``.
"""

from __future__ import annotations

import numpy as np

_SV_VOLTAGE, _SV_CURRENT = 3, 4  # ngspice sharedspice.h simulation_types


def spice_name(name: str, v_type: int) -> str:
    """Name vectors as the raw file does: ``v(node)``, ``i(source)``."""
    low = name.lower()
    if "(" in low or low in ("time", "frequency") or low.endswith("-sweep"):
        return low
    if low.endswith("#branch"):
        return f"i({low[:-7]})"
    if v_type == _SV_VOLTAGE:
        return f"v({low})"
    return low


def c_strings(ffi, pointer) -> list[str]:
    """The strings of a NULL-terminated ``char **`` array (none for a NULL pointer)."""
    out, k = [], 0
    while pointer != ffi.NULL and pointer[k] != ffi.NULL:
        out.append(ffi.string(pointer[k]).decode())
        k += 1
    return out


def read_vectors(ffi, lib, plot: str) -> dict[str, np.ndarray]:
    """Every vector of ``plot``, copied out of libngspice and named as in raw files (``v(node)``, ``i(source)``).

    Real vectors are float64, complex ones (AC) complex128; a vector libngspice cannot describe is left out.
    """
    out = {}
    for name in c_strings(ffi, lib.ngSpice_AllVecs(plot.encode())):
        info = lib.ngGet_Vec_Info(f"{plot}.{name}".encode())
        if info == ffi.NULL:
            continue
        n = info.v_length
        arr: np.ndarray
        if n == 0:
            arr = np.zeros(0)
        elif info.v_compdata == ffi.NULL:
            arr = np.frombuffer(ffi.buffer(info.v_realdata, n * 8), dtype=np.float64).copy()
        else:
            arr = np.frombuffer(ffi.buffer(info.v_compdata, n * 16), dtype=np.complex128).copy()
        out[spice_name(name, info.v_type)] = arr
    return out
