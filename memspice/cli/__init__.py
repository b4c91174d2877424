"""The ``memspice`` command line: a thin layer over the library, one module per subcommand.

``memspice <command> --help`` explains each command; ``docs/cli.md`` is the whole reference,
generated from this parser (``python -m memspice.cli._reference docs/cli.md``; a test checks it is
current).  ``python -m memspice`` and the ``memspice`` console script both call :func:`main`.

Layout
------
``memspice/cli/<command>.py``
    One subcommand each (``info``, ``demo``, ``models``, ``netlist``, ``run``, ``read``, ``sweep``,
    ``validate``, ``reproduce``): its options and a ``run(args) -> int`` that calls the library and
    prints or saves the result.  No library logic lives here.
``memspice/cli/_common.py``
    What several subcommands share: option types (``COUNT``, ``POSITIVE`` ...), option groups with one
    name per quantity (``add_array_options``: ``--r-word``/``--r-bit`` ...; ``add_ngspice_options``:
    ``--mode``, ``--timeout`` with the library's one default), atomic output and figures.

How to add a subcommand (a one-module job)
------------------------------------------
Write ``memspice/cli/<name>.py`` (modules whose name starts with ``_`` are not subcommands)::

    \"\"\"memspice fit: fit a device model to measured pulses.\"\"\"   # the module docstring is --help's text

    HELP = "fit a device model to measured pulses"               # the line in 'memspice --help'


    def configure(parser):                                       # an argparse parser of its own
        parser.add_argument("data", help="CSV of pulses")
        parser.add_argument("-o", "--output", default="fit.json")


    def run(args) -> int:                                        # 0 on success
        from ..analysis.fit import fit_device                    # import the library lazily

        result = fit_device(args.data)
        print(result.summary())
        return 0

It is found by name (listed alphabetically in ``memspice --help``) and its options appear in
``docs/cli.md`` once that page is regenerated.  Optional module attributes: ``ACCEPTS_EXTRA = True``
to receive unknown ``--options`` as ``args.options`` (``memspice reproduce``), ``OWN_HELP = True``
when ``configure`` adds its own ``-h/--help`` (``memspice reproduce NAME --help``), and
``add_threads(parser)`` from ``_common`` for commands that run the sparse solver.  Errors: raise
``ValueError`` (or ``RuntimeError``, ``OSError``) with a message naming the option; :func:`main`
prints ``memspice <name>: error: ...`` and returns 2.  Warnings print as one line,
``memspice <name>: warning: ...``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import warnings
from types import ModuleType


def _version() -> str:
    """memspice's version from the installed package's metadata (the source tree's if not installed)."""
    from .. import __version__

    return __version__


def commands() -> dict[str, ModuleType]:
    """Subcommand name -> its module, alphabetically: every module of this package not starting with ``_``."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    return {name: importlib.import_module(f"{__name__}.{name}") for name in names}


def build_parser() -> argparse.ArgumentParser:
    """The whole parser: one subparser per module of :func:`commands`."""
    p = argparse.ArgumentParser(
        prog="memspice",
        description="SPICE-coupled simulation of memristive in-memory-computing circuits.",
        epilog="Run 'memspice demo' for the built-in example; 'memspice info' tells what ngspice can do here.",
    )
    p.add_argument("--version", action="version", version=f"memspice {_version()}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in commands().items():
        s = sub.add_parser(
            name,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", None) or module.HELP,
            add_help=not getattr(module, "OWN_HELP", False),
        )
        module.configure(s)
        s.set_defaults(func=module.run, command=name)
    return p


def _subparsers(parser: argparse.ArgumentParser, path=()):
    """(command path, parser) of every subparser, nested ones (``netlist crossbar``) included."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name), sub
                yield from _subparsers(sub, (*path, name))


def _owner(parser: argparse.ArgumentParser, argv: list[str]):
    """The deepest subparser ``argv`` selects, and its command path."""
    path: tuple[str, ...] = ()
    found = parser
    for names, sub in _subparsers(parser):
        if len(names) > len(path) and all(n in argv for n in names) and names[: len(path)] == path:
            path, found = names, sub
    return path, found


def _refuse_extra(parser: argparse.ArgumentParser, argv: list[str], extra: list[str]) -> None:
    """An option the chosen (sub)command does not take: say which commands take it (argparse exits 2)."""
    path, owner = _owner(parser, argv)
    option = next((w.split("=", 1)[0] for w in extra if w.startswith("-")), extra[0])
    takers = [
        " ".join(names) for names, sub in _subparsers(parser) if option in sub._option_string_actions and names != path
    ]
    where = " ".join(path) or "memspice"
    text = f"{option} does not apply to '{where}'"
    if takers:
        text += f" (it is an option of: {', '.join(takers[:6])})"
    owner.error(text + f"; 'memspice {where} --help' lists its options" if path else text)


class _OneLine:
    """Show Python warnings as one line on stderr, ``memspice <command>: warning: ...``, not as a traceback-
    like two lines pointing into memspice's source."""

    def __init__(self, command: str):
        self.command = command

    def __call__(self, message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        print(f"memspice {self.command}: warning: {text}", file=sys.stderr)


def _stdout_closed() -> int:
    """The reader of stdout went away (``memspice run ... | head``): stop quietly, as the shell's tools do."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass
    return 141  # 128 + SIGPIPE, what a shell reports for a tool stopped by a closed pipe


def main(argv=None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    from ._common import apply_threads

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    module = commands()[args.command]
    if getattr(module, "ACCEPTS_EXTRA", False):
        args.options = extra
    elif extra:
        _refuse_extra(parser, argv, extra)
    with warnings.catch_warnings():
        warnings.showwarning = _OneLine(args.command)
        try:
            apply_threads(getattr(args, "threads", None))
            return args.func(args)
        except BrokenPipeError:
            return _stdout_closed()
        except (ValueError, RuntimeError, OSError) as exc:
            print(f"memspice {args.command}: error: {exc}", file=sys.stderr)
            return 2


__all__ = ["build_parser", "commands", "main"]
