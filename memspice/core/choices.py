"""String enums for a user's choice among named options (faces, dialects, backends, run modes, ...).

:class:`Choice` is the one place for the rule: a member, or its name in any case (dashes and underscores
ignored), or one of the enum's aliases, is accepted; anything else raises a ``ValueError`` naming the choices.

This module imports nothing from memspice: every layer may use it.
"""

from __future__ import annotations

from enum import Enum
from typing import Self


def _normal(text: str) -> str:
    return text.strip().lower().replace("-", "").replace("_", "")


class Choice(str, Enum):
    """Base of memspice's option enums; a ``str`` enum, so ``Face.BEHAVIOURAL == "behavioural"`` holds.

    Subclasses list their members and may override :meth:`aliases`.
    """

    @classmethod
    def aliases(cls) -> dict[str, str]:
        """Other accepted names (normalised: lower case, no dashes or underscores) -> member value."""
        return {}

    @classmethod
    def parse(cls, value) -> Self:
        """The member for ``value``: a member, its value in any case, or an alias.

        Raises
        ------
        ValueError
            ``value`` names none of them; the message lists the choices.
        """
        if isinstance(value, cls):
            return value
        key = _normal(str(value))
        for member in cls:
            if _normal(member.value) == key:
                return member
        if key in cls.aliases():
            return cls(cls.aliases()[key])
        raise ValueError(f"{cls.__name__.lower()} must be one of {[m.value for m in cls]}, got {value!r}")

    def __str__(self) -> str:
        return self.value
