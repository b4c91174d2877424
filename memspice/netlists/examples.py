"""The example netlists shipped in ``memspice/netlists/examples/`` and how they are made.

Regenerate with ``python -m memspice.netlists.examples``; a test checks they
are up to date and run in ngspice.  ``*.ltspice.cir`` and ``*.xyce.cir`` are the
same circuits written for LTspice and Xyce (:mod:`memspice.netlists.dialects`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..models import MODELS
from .builders import build_crossbar, build_lif, build_solver, build_write
from .dialects import Dialect

EXAMPLES_DIR = Path(__file__).parent / "examples"

EXAMPLES = {
    "crossbar_8x8_1r_ideal.cir": lambda: build_crossbar(8, 8, "1R", r_word=0.0, r_bit=0.0),
    "crossbar_16x16_1r_wires.cir": lambda: build_crossbar(16, 16, "1R", r_word=2.0, r_bit=2.0, r_source=10.0),
    "crossbar_8x8_1s1r_tia.cir": lambda: build_crossbar(8, 8, "1S1R", v_read=1.0, tia="opamp"),
    "crossbar_8x4_signed_1r.cir": lambda: build_crossbar(8, 4, "1R", signed=True, tia="ideal"),
    "crossbar_8x8_1t1r.cir": lambda: build_crossbar(8, 8, "1T1R", v_read=0.3),
    "crossbar_32x32_tiox_selectorless.cir": lambda: build_crossbar(32, 32, "tiox", v_read=1.0, r_word=1.0, r_bit=1.0),
    "crossbar_16x16_1r_variation_faults.cir": lambda: build_crossbar(
        16, 16, "1R", variation=0.1, stuck_off=0.02, stuck_on=0.02
    ),
    "lif_neuron.cir": build_lif,
    "linear_solver_3x3.cir": build_solver,
    "write_v2_8x8_1s1r.cir": lambda: build_write(scheme="V/2", row=3, col=4),
    "write_v3_8x8_1s1r.cir": lambda: build_write(scheme="V/3", row=3, col=4),
    "crossbar_8x8_1s1r_tia.ltspice.cir": lambda: build_crossbar(
        8, 8, "1S1R", v_read=1.0, tia="opamp", dialect=Dialect.LTSPICE
    ),
    "crossbar_8x8_1s1r_tia.xyce.cir": lambda: build_crossbar(
        8, 8, "1S1R", v_read=1.0, tia="opamp", dialect=Dialect.XYCE
    ),
    "lif_neuron.ltspice.cir": lambda: build_lif(dialect=Dialect.LTSPICE),
    "lif_neuron.xyce.cir": lambda: build_lif(dialect=Dialect.XYCE),
}


def rendered() -> dict[str, str]:
    """File name -> text of every example (netlists, model subcircuits and Verilog-A modules)."""
    out = {name: make() for name, make in EXAMPLES.items()}
    for cls in MODELS.values():
        m = cls()
        out[f"{m.name}.sub"] = m.spice_subckt()
        out[f"{m.va_module}.va"] = m.verilog_a()
    return out


def write_examples(folder: Path = EXAMPLES_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in rendered().items():
        path = folder / name
        path.write_text(text)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for p in write_examples():
        sys.stdout.write(f"{p}\n")
