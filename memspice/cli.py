"""Command line: ``memspice <command> --help`` explains each command."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _cmd_info(args) -> int:
    from .spice.capabilities import ngspice_info

    print(ngspice_info().summary())
    return 0


def _cmd_models(args) -> int:
    from .models import MODELS

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    for key, cls in MODELS.items():
        m = cls()
        (out / f"{m.name}.sub").write_text(m.spice_subckt())
        (out / f"{m.va_module}.va").write_text(m.verilog_a())
        print(f"{key:18s} -> {out / (m.name + '.sub')}, {out / (m.va_module + '.va')}")
    return 0


def _cmd_demo(args) -> int:
    from .demo import main_job

    return main_job(verbose=True)


def _cmd_figure(args) -> int:
    from .analysis.plots import drift_diffusion_hysteresis_figure

    fig = drift_diffusion_hysteresis_figure()
    fig.savefig(args.output, dpi=150)
    print(f"wrote {args.output}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="memspice",
        description="SPICE-coupled simulation of memristive in-memory-computing circuits.",
        epilog="Run 'memspice demo' for the built-in example; 'memspice info' tells what ngspice can do here.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("info", help="show the ngspice found here: version, KLU, Verilog-A/OSDI, shared library")
    s.set_defaults(func=_cmd_info)
    s = sub.add_parser("demo", help="main job: check every device model's three faces and solve a small "
                                    "crossbar in ngspice and the sparse solver")
    s.set_defaults(func=_cmd_demo)
    s = sub.add_parser("models", help="write every model's behavioural .subckt and Verilog-A module to a folder")
    s.add_argument("-o", "--output", default="models_out", help="folder to write into (default: models_out)")
    s.set_defaults(func=_cmd_models)
    s = sub.add_parser("figure", help="save the drift-diffusion pinched-hysteresis figure (SEEDS Fig. 1b/c style)")
    s.add_argument("-o", "--output", default="hysteresis.png", help="image file (default: hysteresis.png)")
    s.set_defaults(func=_cmd_figure)
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, RuntimeError, OSError) as exc:
        print(f"memspice {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
