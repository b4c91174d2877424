"""Parameter dataclass helpers: units, sources and validation in one place.

Every model parameter is declared with :func:`param`, which records its SI
unit, where its default comes from, and the check it must pass.  Validation
raises ``ValueError`` naming the offending parameter, so a bad value never
reaches a simulator.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

_CHECKS = {
    "positive": (lambda v: v > 0, "must be > 0"),
    "nonnegative": (lambda v: v >= 0, "must be >= 0"),
    "fraction": (lambda v: 0 <= v <= 1, "must lie in [0, 1]"),
    "ratio": (lambda v: v > 1, "must be > 1"),
    "any": (lambda v: True, ""),
}


def param(default: float, unit: str, source: str, check: str = "positive", doc: str = "") -> Any:
    """Declare a model parameter (SI ``unit``; ``source`` of the default)."""
    if check not in _CHECKS:
        raise ValueError(f"unknown check {check!r}")
    return dataclasses.field(default=default, metadata={"unit": unit, "source": source, "check": check, "doc": doc})


def validate_fields(obj) -> None:
    """Check every declared field of ``obj``; raise ValueError naming the first bad one."""
    cls = type(obj).__name__
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{cls}.{f.name} must be a real number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"{cls}.{f.name} must be finite, got {value!r}")
        ok, why = _CHECKS[f.metadata.get("check", "any")]
        if not ok(value):
            raise ValueError(f"{cls}.{f.name} {why}, got {value!r}")


def require(condition: bool, obj, name: str, message: str) -> None:
    """Raise ValueError about parameter ``name`` of ``obj`` unless ``condition``."""
    if not condition:
        raise ValueError(f"{type(obj).__name__}.{name} {message}")


def describe(obj) -> list[dict[str, Any]]:
    """Rows (name, value, unit, source, doc) documenting a parameter set."""
    return [
        {
            "name": f.name,
            "value": getattr(obj, f.name),
            "unit": f.metadata.get("unit", ""),
            "source": f.metadata.get("source", ""),
            "doc": f.metadata.get("doc", ""),
        }
        for f in dataclasses.fields(obj)
    ]
