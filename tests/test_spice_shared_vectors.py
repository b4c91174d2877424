"""libngspice's vectors as both cffi bindings read them (memspice.spice.shared_vectors), and pre_osdi lines."""

import numpy as np
import pytest

from memspice.spice.netlist_text import without_pre_osdi
from memspice.spice.shared_vectors import c_strings, read_vectors, spice_name

cffi = pytest.importorskip("cffi", reason="cffi (a PySpice dependency) is needed to build C arrays")

_CDEF = """
typedef struct ngcomplex { double cx_real; double cx_imag; } ngcomplex_t;
typedef struct vector_info { char *v_name; int v_type; short v_flags; double *v_realdata;
                             ngcomplex_t *v_compdata; int v_length; } vector_info, *pvector_info;
"""


class _FakeLib:
    """``ngSpice_AllVecs`` / ``ngGet_Vec_Info`` over vectors held in cffi memory."""

    def __init__(self, ffi, vectors):
        self.ffi, self.keep, self.infos = ffi, [], {}
        for name, (v_type, data) in vectors.items():
            info = ffi.new("vector_info *")
            info.v_type, info.v_length = v_type, len(data)
            if np.iscomplexobj(data):
                buf = ffi.new("ngcomplex_t[]", [(z.real, z.imag) for z in data])
                info.v_realdata, info.v_compdata = ffi.NULL, buf
            else:
                buf = ffi.new("double[]", list(data))
                info.v_realdata, info.v_compdata = buf, ffi.NULL
            self.keep.append(buf)
            self.infos[name] = info
        self.names = [ffi.new("char[]", n.encode()) for n in [*vectors, "missing"]]
        self.array = ffi.new("char *[]", [*self.names, ffi.NULL])

    def ngSpice_AllVecs(self, plot):
        return self.array

    def ngGet_Vec_Info(self, name):
        return self.infos.get(name.decode().partition(".")[2], self.ffi.NULL)


def test_vectors_are_copied_out_named_as_raw_files_and_complex_stays_complex():
    ffi = cffi.FFI()
    ffi.cdef(_CDEF)
    lib = _FakeLib(
        ffi,
        {
            "frequency": (0, np.array([1.0 + 0j, 10.0 + 0j])),
            "Out": (3, np.array([0.5 + 1j, -2.0 - 0.25j])),
            "V1#branch": (4, np.array([1e-3, 2e-3])),
            "empty": (0, np.zeros(0)),
        },
    )
    out = read_vectors(ffi, lib, "ac1")
    assert list(out) == ["frequency", "v(out)", "i(v1)", "empty"]  # a vector without info is left out
    np.testing.assert_array_equal(out["v(out)"], [0.5 + 1j, -2.0 - 0.25j])
    assert out["v(out)"].dtype == np.complex128 and out["i(v1)"].dtype == np.float64
    np.testing.assert_array_equal(out["i(v1)"], [1e-3, 2e-3])
    lib.keep[2][0] = 99.0  # libngspice reuses its memory: the vectors read are copies
    assert out["i(v1)"][0] == 1e-3
    assert c_strings(ffi, ffi.NULL) == [] and c_strings(ffi, lib.array)[:2] == ["frequency", "Out"]


def test_names_follow_the_raw_file_rule():
    assert spice_name("TIME", 0) == "time" and spice_name("v(a)", 3) == "v(a)"
    assert spice_name("n1", 3) == "v(n1)" and spice_name("VDD#branch", 4) == "i(vdd)"
    assert spice_name("v-sweep", 3) == "v-sweep" and spice_name("gain", 0) == "gain"


def test_without_pre_osdi_drops_only_the_pre_osdi_lines():
    text = "title\nR1 a 0 1k\n.control\npre_osdi /x/a.osdi\nrun\n.endc\n.end"
    assert without_pre_osdi(text) == "title\nR1 a 0 1k\n.control\nrun\n.endc\n.end\n"
