"""Numbers as netlists write them: engineering notation with a fixed number of significant digits.

Every value memspice writes into a netlist goes through :func:`spice_number`
(element values, source levels, ``.param`` values) or :func:`sci_number`
(constants inside B-source and Verilog-A expressions, where SPICE scale
suffixes are not portable).  Both keep :data:`SIGNIFICANT_DIGITS` digits.

Why 10 digits: rounding then changes a value by at most 5e-10 relative,
below the 1e-9 agreement the tests ask of ngspice against the sparse solver
on the same crossbar, while the text stays readable (``12.5k``, ``6.1u``,
``1.0928e-4``) and no longer carries the last, platform-dependent digits of a
17-digit ``repr``.  :func:`parse_spice_number` reads them back (and the rest
of SPICE's suffixes) for number-aware comparisons of netlists.

This module imports nothing from memspice: every layer may use it.
"""

from __future__ import annotations

import math
import re

#: significant digits of every number written into a netlist (see the module docstring)
SIGNIFICANT_DIGITS = 10

#: SI prefixes tera to femto, largest first: (scale, symbol on figures and in text, SPICE scale suffix).  SPICE
#: reads suffixes case-insensitively, so mega is "Meg" there ("m" is milli); micro is "µ" (U+00B5, the SI symbol)
#: on figures and in text, "u" in netlists (SPICE reads ASCII only).
SI_PREFIXES = (
    (1e12, "T", "T"),
    (1e9, "G", "G"),
    (1e6, "M", "Meg"),
    (1e3, "k", "k"),
    (1.0, "", ""),
    (1e-3, "m", "m"),
    (1e-6, "µ", "u"),
    (1e-9, "n", "n"),
    (1e-12, "p", "p"),
    (1e-15, "f", "f"),
)
_SUFFIXES = [(scale, suffix) for scale, _, suffix in SI_PREFIXES]
_PARSE_SUFFIX = {
    "t": 1e12,
    "g": 1e9,
    "meg": 1e6,
    "k": 1e3,
    "mil": 25.4e-6,
    "m": 1e-3,
    "u": 1e-6,
    "n": 1e-9,
    "p": 1e-12,
    "f": 1e-15,
    "a": 1e-18,
}
_NUMBER = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(meg|mil|[tgkmunpfa])?[a-zA-Z]*$", re.IGNORECASE)


def _finite(value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"netlist numbers must be real, got {value!r}") from None
    if isinstance(value, complex) or not math.isfinite(v):
        raise ValueError(f"netlist numbers must be finite and real, got {value!r}")
    return v


def _strip(mantissa: str) -> str:
    return mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa


def sci_number(value, digits: int = SIGNIFICANT_DIGITS) -> str:
    """``value`` in scientific notation with ``digits`` significant digits, trailing zeros dropped.

    >>> sci_number(1.0928e-4)
    '1.0928e-4'
    >>> sci_number(3.0)
    '3'
    """
    v = _finite(value)
    if v == 0:
        return "0"
    text = f"{v:.{digits - 1}e}"
    mant, exp = text.split("e")
    exp_i = int(exp)
    mant = _strip(mant)
    if -3 <= exp_i <= 5:  # plain decimal reads better near 1 and is exact for the same digits
        plain = f"{v:.{max(digits - 1 - exp_i, 0)}f}"
        return _strip(plain)
    return f"{mant}e{exp_i}"


def spice_number(value, digits: int = SIGNIFICANT_DIGITS) -> str:
    """``value`` in SPICE engineering notation with ``digits`` significant digits.

    >>> spice_number(6.1e-6), spice_number(12500.0), spice_number(0.0), spice_number(-2.5e-3)
    ('6.1u', '12.5k', '0', '-2.5m')
    """
    v = _finite(value)
    if v == 0:
        return "0"
    mag = abs(v)
    for scale, suffix in _SUFFIXES:  # noqa: B007 - the matching pair is used after the loop
        if mag >= scale * (1 - 0.5 * 10.0 ** (1 - digits)):
            break
    else:
        return sci_number(v, digits)
    if mag >= 1e15:
        return sci_number(v, digits)
    scaled = v / scale
    int_digits = len(str(int(round(abs(scaled), digits))))
    text = f"{scaled:.{max(digits - int_digits, 0)}f}"
    if abs(float(text)) >= 1000 and suffix != "T":  # rounding carried into the next decade
        return spice_number(float(text) * scale, digits)
    return _strip(text) + suffix


def parse_spice_number(text: str) -> float:
    """Read a SPICE number with an optional scale suffix (``6.1u``, ``12.5k``, ``2Meg``, ``1e-3``).

    Letters after the suffix are ignored, as in SPICE (``10pF``).  Raises ``ValueError`` for text that
    is not a number.
    """
    match = _NUMBER.match(text.strip())
    if not match:
        raise ValueError(f"not a SPICE number: {text!r}")
    value = float(match.group(1))
    suffix = match.group(2)
    return value * _PARSE_SUFFIX[suffix.lower()] if suffix else value


# --- units in table column names -------------------------------------------------------------------------
#: how a unit is written at the end of a column name (ASCII; the SI symbol otherwise)
_COLUMN_UNITS = {"Ohm": "ohm", "Ω": "ohm", "°": "deg", "1": ""}


def column_name(name: str, unit: str) -> str:
    """A table column name with its unit: ``name_unit`` (``i0_A``, ``r_word_ohm``, ``time_s``), or ``name``.

    One convention for every table memspice writes (CSV files, DataFrames): ``name_unit`` is a valid
    identifier for plain names, so ``df.i0_A`` and ``df.query("r_word_ohm > 1")`` work in pandas,
    and nothing needs quoting in a spreadsheet.  Units are SI symbols in ASCII (``ohm`` for Ohm);
    a dimensionless column (unit ``""`` or ``"1"``) has no suffix.  :func:`split_column` reads one back.

    >>> column_name("i0", "A"), column_name("r_word", "Ohm"), column_name("code0", "")
    ('i0_A', 'r_word_ohm', 'code0')
    """
    suffix = _COLUMN_UNITS.get(unit, unit)
    return f"{name}_{suffix}" if suffix else name


#: unit suffixes :func:`split_column` recognises, longest first (column names memspice writes)
COLUMN_SUFFIXES = ("ohm", "deg", "Hz", "V", "A", "S", "s", "W", "J", "F")


def split_column(column: str) -> tuple[str, str]:
    """``(name, unit)`` of a column written by :func:`column_name` (unit ``""`` where there is none).

    >>> split_column("i0_A"), split_column("r_word_ohm"), split_column("mvm_max_rel_error")
    (('i0', 'A'), ('r_word', 'Ohm'), ('mvm_max_rel_error', ''))
    """
    name, sep, suffix = column.rpartition("_")
    if sep and name and suffix in COLUMN_SUFFIXES:
        return name, {"ohm": "Ohm", "deg": "°"}.get(suffix, suffix)
    return column, ""
