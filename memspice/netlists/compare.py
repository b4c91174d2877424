"""Number-aware comparison of netlist text.

Two netlists are the same circuit when their tokens match and every pair of
numeric tokens agrees within a relative tolerance: a value written as
``1.0928e-4`` in one and ``109.28u`` in the other, or differing in the last
digit because another numpy rounded differently, is the same value.  Used by
the tests that keep the shipped example netlists up to date.
"""

from __future__ import annotations

import re

from ..core.units import parse_spice_number

#: split on whitespace and on the punctuation of SPICE expressions, keeping numbers whole
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*|[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[A-Za-z]*|\S")


def _tokens(line: str) -> list[str]:
    return _TOKEN.findall(line)


def _number(token: str):
    try:
        return parse_spice_number(token)
    except ValueError:
        return None


def netlist_differences(
    expected: str, actual: str, rtol: float = 1e-9, atol: float = 1e-30, limit: int = 5
) -> list[str]:
    """Lines where ``actual`` differs from ``expected`` beyond ``rtol`` in numbers or in any other token.

    Returns at most ``limit`` human-readable differences (an empty list means equivalent).
    Comment lines (``*``) are compared as numbers and words too, so a stale header shows.
    """
    exp_lines, act_lines = expected.splitlines(), actual.splitlines()
    diffs = []
    if len(exp_lines) != len(act_lines):
        diffs.append(f"line count {len(act_lines)} != expected {len(exp_lines)}")
    for k, (a, b) in enumerate(zip(exp_lines, act_lines), start=1):
        ta, tb = _tokens(a), _tokens(b)
        same = len(ta) == len(tb)
        if same:
            for x, y in zip(ta, tb):
                if x == y:
                    continue
                nx, ny = _number(x), _number(y)
                if nx is None or ny is None or abs(nx - ny) > atol + rtol * max(abs(nx), abs(ny)):
                    same = False
                    break
        if not same:
            diffs.append(f"line {k}: expected {a!r}, got {b!r}")
        if len(diffs) >= limit:
            break
    return diffs
