"""memspice models: every model's behavioural subcircuit and Verilog-A module, as files."""

from pathlib import Path

HELP = "write every model's behavioural .subckt and Verilog-A module to a folder"


def configure(parser) -> None:
    parser.add_argument("-o", "--output", default="models_out", help="folder to write into (default: models_out)")


def run(args) -> int:
    from ..core.files import write_atomic
    from ..models import MODELS

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    for key, cls in MODELS.items():
        m = cls()
        write_atomic(out / f"{m.name}.sub", m.spice_subckt())
        write_atomic(out / f"{m.va_module}.va", m.verilog_a())
        print(f"{key:18s} -> {out / (m.name + '.sub')}, {out / (m.va_module + '.va')}")
    return 0
