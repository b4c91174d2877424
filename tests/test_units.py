"""Netlist numbers: engineering notation with a fixed number of significant digits."""

import pytest

from memspice.core.units import SIGNIFICANT_DIGITS, parse_spice_number, sci_number, spice_number


@pytest.mark.parametrize(
    "value, text",
    [(6.1e-6, "6.1u"), (12500.0, "12.5k"), (0.0, "0"), (-2.5e-3, "-2.5m"), (2e6, "2Meg"), (1e-3, "1m"), (3.0, "3")],
)
def test_engineering_notation_is_readable(value, text):
    assert spice_number(value) == text


def test_round_trip_keeps_the_stated_digits():
    for value in (1 / 3, 1 / 7e-6, 123456.789012345, 9.99999999999e-10, 0.30000000000000004):
        for fmt in (spice_number, sci_number):
            back = parse_spice_number(fmt(value))
            assert back == pytest.approx(value, rel=0.5 * 10.0 ** (1 - SIGNIFICANT_DIGITS)), (fmt, value)


def test_rounding_into_the_next_decade_moves_the_suffix():
    assert spice_number(999.99999999999) == "1k"


def test_bad_numbers_are_named():
    for bad in (float("nan"), float("inf"), 1 + 2j):
        with pytest.raises(ValueError, match="finite and real|real"):
            spice_number(bad)
    with pytest.raises(ValueError, match="not a SPICE number"):
        parse_spice_number("abc")
    assert parse_spice_number("10pF") == pytest.approx(10e-12)
