"""One parsing rule for every option enum (memspice.core.choices.Choice)."""

import pytest

from memspice.core.faces import Face
from memspice.core.units import SI_PREFIXES, parse_spice_number, spice_number
from memspice.netlists.dialects import Dialect, Save
from memspice.simulate import Backend
from memspice.spice import Mode


@pytest.mark.parametrize("enum", [Face, Dialect, Save, Backend, Mode])
def test_every_option_enum_parses_members_and_names_in_any_case(enum):
    for member in enum:
        assert enum.parse(member) is member
        assert enum.parse(f"  {member.value.upper()} ") is member
        assert str(member) == member.value == member
    with pytest.raises(ValueError, match=rf"{enum.__name__.lower()} must be one of .*got 'nonsense'"):
        enum.parse("nonsense")


def test_face_aliases():
    assert Face.parse("Verilog-A") is Face.parse("va") is Face.parse("OSDI") is Face.VERILOG_A
    assert Face.parse("behavioral") is Face.parse("B_source") is Face.BEHAVIOURAL


def test_one_prefix_table_serves_netlists_and_plots():
    from memspice.core.waveforms import engineering_scale

    for scale, symbol, suffix in SI_PREFIXES:
        assert spice_number(2.5 * scale) == "2.5" + suffix
        assert parse_spice_number(spice_number(2.5 * scale)) == pytest.approx(2.5 * scale)
        if 1e-15 <= scale <= 1e9:
            assert engineering_scale([2.5 * scale], "A") == pytest.approx((1.0 / scale, symbol + "A"))
    assert spice_number(2.5e6).endswith("Meg") and engineering_scale([2.5e6], "V")[1] == "MV"
