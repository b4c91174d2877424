"""memspice reproduce: a source paper's figure or system, from a run of the simulation."""

import argparse
from pathlib import Path

from ._common import INDEX, add_threads

HELP = "reproduce a source-paper figure or system (png, csv, json)"
#: options after the name belong to the reproduction (its keyword parameters): passed on as args.options
ACCEPTS_EXTRA = True
#: the parser is made without argparse's -h/--help: configure adds one that also describes NAME's options
OWN_HELP = True


def _names() -> list[str]:
    from ..reproduce import REGISTRY

    return list(REGISTRY)


DESCRIPTION = (
    "Writes NAME.png, NAME.csv where a table fits and NAME.json with the headline numbers, all computed by "
    "running the simulation. Options after the name (--frames FILE, --dataset NAME ...) are the reproduction's "
    "own; an unknown one is an error that lists them, and 'memspice reproduce NAME --help' describes them."
)


class _Help(argparse.Action):
    """``--help``: the command's help, and after a name (``memspice reproduce rpca --help``) that
    reproduction's own options with their types and defaults, and its docstring."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from ..reproduce import describe

        parser.print_help()
        name = getattr(namespace, "name", None)
        if name and name != "all":
            print("\n" + describe(name))
        parser.exit()


def reference() -> list[str]:
    """Markdown lines for ``docs/cli.md``: every reproduction's own options (types, defaults)."""
    from ..reproduce import option_lines

    lines = ["*options of each reproduction* (after the name; `memspice reproduce NAME --help` explains them)", ""]
    for name in _names():
        found = option_lines(name)
        lines.append(f"- `{name}`: " + (", ".join(f"`{line}`" for line in found) if found else "none"))
    return lines


def configure(parser) -> None:
    parser.add_argument("-h", "--help", action=_Help, help="show this help (after NAME: also NAME's own options)")
    parser.add_argument("name", choices=[*_names(), "all"], help="which reproduction (all: every one)")
    parser.add_argument("-o", "--output", default="reproductions", help="folder for figures and tables")
    parser.add_argument("--quick", action="store_true", help="a smaller, faster run (for tests and previews)")
    parser.add_argument("--seed", type=INDEX, default=0, help="seed of every random draw (default 0)")
    add_threads(parser)


def run(args) -> int:
    from ..reproduce import available, parse_options, reproduce

    out = Path(args.output)
    options = getattr(args, "options", [])
    if args.name == "all" and options:
        raise ValueError("options such as " + options[0] + " need one reproduction name, not all")
    names = available() if args.name == "all" else [args.name]
    for name in names:
        opts = parse_options(name, options)
        result = reproduce(name, quick=args.quick, seed=args.seed, **opts)
        paths = result.save(name, out)
        print(f"{name}: wrote " + ", ".join(str(p) for p in paths))
        for key, value in result.headline.items():
            if not isinstance(value, (dict, list)):
                print(f"  {key} = {value}")
    return 0
