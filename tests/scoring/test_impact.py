"""Impact assessment scored as Canada's AIA scores it (dimensions and ALTAI: tests/scoring/test_dimensions.py)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from civiclab.spec.experiment import ExperimentSpec
from civiclab.spec.impact import ImpactAssessment, score_impact


def assessment(risk_answers: list[Any], mitigation_answers: list[Any]) -> ImpactAssessment:
    """Risk questions worth 0..4 each, one checkbox worth 1+2; mitigation yes/no worth 2 each."""
    risk: list[dict[str, Any]] = [
        {
            "id": f"r{i}",
            "question": "How severe?",
            "choices": {"none": 0, "low": 1, "mid": 2, "high": 4},
            "answer": a,
        }
        for i, a in enumerate(risk_answers[:-1])
    ]
    risk.append(
        {
            "id": "data",
            "question": "Which data?",
            "multiple": True,
            "choices": {"personal": 1, "sensitive": 2},
            "answer": risk_answers[-1],
        }
    )
    mitigation = [
        {"id": f"m{i}", "question": "Mitigated?", "choices": {"yes": 2, "no": 0}, "answer": a}
        for i, a in enumerate(mitigation_answers)
    ]
    return ImpactAssessment.model_validate({"risk": risk, "mitigation": mitigation})


def test_raw_score_and_levels_by_quarters_of_the_maximum() -> None:
    # max raw = 4 * 4 + (1 + 2) = 19; quarters at 4.75, 9.5, 14.25
    low = score_impact(assessment(["low", "low", "none", "none", None], ["no"] * 5))
    assert (low.raw_risk, low.max_raw_risk, low.current, low.level_name) == (2, 19, 2, "I")
    assert low.unanswered == ["data"]
    two = score_impact(assessment(["high", "low", "none", "none", ["personal"]], ["no"] * 5))
    assert (two.raw_risk, two.level) == (6, 2)
    three = score_impact(assessment(["high", "high", "low", "none", ["personal", "sensitive"]], ["no"] * 5))
    assert (three.raw_risk, three.level) == (12, 3)
    four = score_impact(assessment(["high", "high", "high", "mid", ["personal"]], ["no"] * 5))
    assert (four.raw_risk, four.level_name) == (15, "IV")


def test_mitigation_deducts_15_percent_at_80_percent_of_half_the_maximum() -> None:
    # max mitigation = 10, half = 5, 80% of it = 4: two "yes" (4 points) are enough.
    base = ["high", "high", "high", "mid", ["personal"]]  # raw 15 -> level IV
    below = score_impact(assessment(base, ["yes", "no", "no", "no", "no"]))
    assert not below.mitigation_applied and below.current == 15
    at = score_impact(assessment(base, ["yes", "yes", "no", "no", "no"]))
    assert at.mitigation == 4 and at.mitigation_applied
    assert at.current == 13  # round(0.85 * 15 = 12.75)
    assert at.level_name == "III"  # 13 <= 14.25
    # Halves round up as the AIA tool's Math.round does: 0.85 * 10 = 8.5 -> 9.
    ten = score_impact(assessment(["high", "high", "mid", "none", None], ["yes", "yes"]))
    assert (ten.raw_risk, ten.current) == (10, 9)


def test_questionnaire_is_strict() -> None:
    with pytest.raises(ValidationError, match="'maybe' is not one of"):
        assessment(["maybe", None], [])
    with pytest.raises(ValidationError, match="only allowed when `multiple: true`"):
        assessment([["low"], None], [])
    spec = {
        "name": "x1",
        "pilot": {"kind": "k"},
        "evaluators": ["e"],
        "population": {
            "personas": [{"id": "p", "age_band": "80+", "digital_literacy": "low"}],
            "sessions": 1,
        },
        "impact_assessment": {"risk": [{"id": "a", "question": "Is it?", "choices": {"y": 1}, "bogus": 1}]},
    }
    with pytest.raises(ValidationError, match="bogus"):
        ExperimentSpec.model_validate(spec)
    spec["impact_assessment"]["risk"][0].pop("bogus")  # type: ignore[index]
    assert ExperimentSpec.model_validate(spec).impact_assessment is not None


def test_the_documented_example_validates() -> None:
    import re

    import yaml

    import civiclab.spec.impact

    doc = civiclab.spec.impact.__doc__ or ""
    block = re.search(r"```yaml\n(.*?)```", doc, re.DOTALL)
    assert block is not None
    example = ImpactAssessment.model_validate(yaml.safe_load(block.group(1))["impact_assessment"])
    score = score_impact(example)
    assert (score.raw_risk, score.max_raw_risk, score.mitigation_applied, score.current) == (3, 8, True, 3)
    assert score.level_name == "II"
