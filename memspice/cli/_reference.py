"""The command-line reference page (``docs/cli.md``), generated from the parser.

``python -m memspice.cli._reference docs/cli.md`` writes it; ``tests/test_docs.py`` checks that the
committed page equals what the parser gives today, so the page cannot drift from the options.
"""

from __future__ import annotations

import argparse
import sys

HEADER = """# Command line

Generated from the parser by `python -m memspice.cli._reference docs/cli.md` (a test checks it is
current); `memspice COMMAND --help` prints the same text.  Table columns carry their unit as a suffix
(`i0_A`, `r_word_ohm`); vectors and rows are numbered from 0; every command that runs ngspice has
`--timeout` with the Python API's default (`memspice.spice.DEFAULT_TIMEOUT`).

"""


def _md(text: str) -> str:
    """Help text as Markdown: ``<i>`` in ``v(in<i>)`` is text, not an HTML tag."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _usage(parser: argparse.ArgumentParser) -> str:
    return " ".join(parser.format_usage().split()).removeprefix("usage: ")


def _options(parser: argparse.ArgumentParser) -> list[str]:
    """One Markdown list item per option (and positional), in the order of ``--help``."""
    lines = []
    for group in parser._action_groups:
        actions = [
            a
            for a in group._group_actions
            if a.help is not argparse.SUPPRESS and not isinstance(a, (argparse._SubParsersAction, argparse._HelpAction))
        ]
        if not actions:
            continue
        title = group.title if group.title not in ("options", "optional arguments", "positional arguments") else None
        if title:
            lines.append(f"\n*{title}*" + (f": {_md(group.description)}" if group.description else "") + "\n")
        for a in actions:
            names = ", ".join(f"`{s}`" for s in a.option_strings) or f"`{a.dest}`"
            meta = ""
            if a.option_strings and a.nargs != 0:
                label = a.metavar if isinstance(a.metavar, str) else a.dest.upper()
                meta = " " + ("{" + ",".join(map(str, a.choices)) + "}" if a.choices else label)
                if a.nargs in ("+", "*"):
                    meta += " ..."
            text = (a.help or "").replace("%(default)s", str(a.default))
            lines.append(f"- {names}{_md(meta)}: {_md(text)}")
    return lines


def _section(path: tuple[str, ...], parser: argparse.ArgumentParser, level: int) -> list[str]:
    out = [f"{'#' * level} memspice {' '.join(path)}", "", _md(parser.description or ""), "", f"`{_usage(parser)}`", ""]
    out += _options(parser)
    out.append("")
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out += _section((*path, name), sub, min(level + 1, 4))
    return out


def reference() -> str:
    """The whole page, Markdown."""
    from . import build_parser, commands

    parser = build_parser()
    lines = [HEADER.rstrip("\n"), "", parser.description or "", ""]
    modules = commands()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                lines += _section((name,), sub, 2)
                extra = getattr(modules.get(name), "reference", None)  # a command's own generated lines
                if extra is not None:
                    lines += ["", *(_md(line) for line in extra()), ""]
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.rstrip("\n") + "\n"


if __name__ == "__main__":
    page = reference()
    if len(sys.argv) > 1:
        from ..core.files import write_atomic

        write_atomic(sys.argv[1], page)
    else:
        sys.stdout.write(page)
