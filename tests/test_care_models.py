"""Care models: one order, one label and one colour per model, from config."""

from __future__ import annotations

import pandas as pd

from optimal_analysis.care_models import (
    PALETTE,
    CareModels,
    care_model_colours,
    care_model_label,
    care_model_levels,
    care_model_order,
)


def test_configured_order_first_then_the_others_sorted():
    present = ["usual_care", "zeta", "dedicated_team", "alpha", "usual_care"]
    assert care_model_order(present, ["usual_care", "dedicated_team", "absent"]) == [
        "usual_care", "dedicated_team", "alpha", "zeta"]
    assert care_model_order(present) == ["alpha", "dedicated_team", "usual_care", "zeta"]
    cohort = pd.DataFrame({"care_model": ["b", "a", "c", "a"]})
    assert care_model_levels(cohort, ["c"]) == ["c", "a", "b"]


def test_labels_from_config_else_a_readable_default():
    labels = {"enhanced_practice": "Enhanced GP practice"}
    assert care_model_label("enhanced_practice", labels) == "Enhanced GP practice"
    assert care_model_label("dedicated_team", labels) == "Dedicated team"
    assert care_model_label("usual_care") == "Usual care"


def test_colours_follow_the_position_in_the_configured_order_whatever_is_drawn():
    configured = ["dedicated_team", "paid_gp", "usual_care"]
    everything = care_model_colours(configured, configured)
    assert list(everything.values()) == list(PALETTE[:3])
    # a figure without paid_gp keeps usual_care's colour; an unconfigured model comes after
    assert care_model_colours(["usual_care", "dedicated_team"], configured) == {
        "usual_care": PALETTE[2], "dedicated_team": PALETTE[0]}
    assert care_model_colours(["other"], configured) == {"other": PALETTE[3]}


def test_care_models_object_gathers_order_and_labels():
    cm = CareModels.of(["usual_care", "dedicated_team"], {"usual_care": "Usual GP care"})
    assert cm.ordered(["dedicated_team", "usual_care", "x"]) == ["usual_care", "dedicated_team",
                                                                 "x"]
    assert [cm.label(m) for m in cm.order] == ["Usual GP care", "Dedicated team"]
    assert CareModels.of(cm) is cm and CareModels.of(None).order == ()
    assert CareModels.of(cm, {"x": "X"}).labels == {"x": "X"}
    assert cm.colours(["dedicated_team"]) == {"dedicated_team": PALETTE[1]}
