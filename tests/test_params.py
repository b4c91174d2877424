"""Bad parameters raise ValueError naming the parameter."""

import math

import pytest

from memspice.models import DriftDiffusion, Selector, ThresholdSwitch, TiOx


@pytest.mark.parametrize(
    "model, name, value",
    [
        (DriftDiffusion, "r_on", math.nan),
        (DriftDiffusion, "r_off", -5.0),
        (DriftDiffusion, "r_on", 3000.0),  # r_on >= r_off
        (DriftDiffusion, "mobility", math.inf),
        (DriftDiffusion, "x0", 1.5),
        (TiOx, "r_on", -1.0),
        (TiOx, "rectification_ratio", 0.5),
        (TiOx, "on_off_ratio", math.nan),
        (TiOx, "v_set", 0.5),  # below the read voltage
        (ThresholdSwitch, "r_on", 1e9),  # r_on >= r_off
        (ThresholdSwitch, "r_off", math.nan),
        (ThresholdSwitch, "v_hold", 1.0),  # v_hold >= v_th
        (ThresholdSwitch, "tau_off", 0.0),
        (Selector, "i0", -1e-9),
        (Selector, "v0", math.nan),
    ],
)
def test_bad_parameter_is_named(model, name, value):
    with pytest.raises(ValueError, match=name):
        model(**{name: value})


def test_non_numeric_parameter_is_named():
    with pytest.raises(ValueError, match="r_on"):
        DriftDiffusion(r_on="100")


def test_unknown_override_in_instance_is_named():
    with pytest.raises(ValueError, match="nonsense"):
        DriftDiffusion().spice_instance("1", "a", "0", nonsense=1.0)


def test_parameter_table_has_units_and_sources():
    for cls in (DriftDiffusion, TiOx, ThresholdSwitch, Selector):
        for row in cls().describe():
            assert row["unit"] and row["source"], (cls.__name__, row["name"])


def test_models_doc_is_up_to_date():
    from pathlib import Path

    from memspice.models.doc import models_markdown

    doc = Path(__file__).resolve().parents[1] / "docs" / "models.md"
    assert doc.read_text() == models_markdown(), "regenerate: python -m memspice.models.doc > docs/models.md"
