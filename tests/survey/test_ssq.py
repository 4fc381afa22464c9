"""The SSQ and IPQ instruments: Kennedy et al.'s (1993) weights on a worked example, and strict definitions."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from civiclab.spec.instruments import Instrument, load_instrument
from civiclab.survey.responses import SurveyResponse
from civiclab.survey.scoring import construct_scores

# Kennedy et al. (1993), table 1: which subscales each of the 16 symptoms loads on (written out here
# independently of the instrument file, which the test checks against it).
KENNEDY = {
    "General discomfort": "NO",
    "Fatigue": "O",
    "Headache": "O",
    "Eyestrain": "O",
    "Difficulty focusing": "OD",
    "Increased salivation": "N",
    "Sweating": "N",
    "Nausea": "ND",
    "Difficulty concentrating": "NO",
    "Fullness of head": "D",
    "Blurred vision": "OD",
    "Dizziness (eyes open)": "D",
    "Dizziness (eyes closed)": "D",
    "Vertigo": "D",
    "Stomach awareness": "N",
    "Burping": "N",
}
SUBSCALE = {"nausea": "N", "oculomotor": "O", "disorientation": "D"}


def _response(instrument: Instrument, ratings: dict[str, int]) -> SurveyResponse:
    by_text = {item.text.en: item for item in instrument.items}
    answers = {instrument.column(by_text[text]): value for text, value in ratings.items()}
    return SurveyResponse(uid="r", complete=True, answers=answers)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["ssq_before", "ssq_after"])
def test_each_symptom_loads_on_kennedys_subscales(name: str) -> None:
    ssq = load_instrument(name)
    loads = {
        item.text.en: "".join(sorted(SUBSCALE[c] for c in [item.construct_code, *item.also]))
        for item in ssq.items
    }
    assert loads == {text: "".join(sorted(s)) for text, s in KENNEDY.items()}
    assert [len(ssq.construct_items(s)) for s in SUBSCALE] == [7, 7, 7]


def test_ssq_scores_on_a_worked_example() -> None:
    ssq = load_instrument("ssq_after")
    ratings = dict.fromkeys(KENNEDY, 0)
    ratings.update({"General discomfort": 2, "Nausea": 3, "Blurred vision": 1, "Vertigo": 1})
    # By hand: N raw = 2 (discomfort) + 3 (nausea) = 5; O raw = 2 (discomfort) + 1 (blurred) = 3;
    # D raw = 3 (nausea) + 1 (blurred) + 1 (vertigo) = 5. N = 47.7, O = 22.74, D = 69.6, total = 3.74 x 13 = 48.62.
    expected = {"nausea": 47.7, "oculomotor": 22.74, "disorientation": 69.6, "total": 48.62}
    response = _response(ssq, ratings)
    for construct in ssq.constructs:
        (score,) = construct_scores(ssq, construct, [response])
        assert score == pytest.approx(expected[construct.code]), construct.code
    # The published maxima: every symptom severe.
    severe = _response(ssq, dict.fromkeys(KENNEDY, 3))
    maxima = {c.code: float(construct_scores(ssq, c, [severe])[0]) for c in ssq.constructs}
    assert maxima == pytest.approx(
        {"nausea": 200.34, "oculomotor": 159.18, "disorientation": 292.32, "total": 235.62}
    )
    # A symptom left unrated leaves its subscales and the total unscored, not scored low.
    ratings.pop("Sweating")
    partial = _response(ssq, ratings)
    scores = {c.code: float(construct_scores(ssq, c, [partial])[0]) for c in ssq.constructs}
    assert math.isnan(scores["nausea"]) and math.isnan(scores["total"])
    assert scores["oculomotor"] == pytest.approx(22.74)


def test_a_weighted_sum_needs_its_weight_and_a_total_names_constructs_of_items() -> None:
    base = load_instrument("ssq_before").model_dump(by_alias=True)
    no_weight = {**base, "constructs": [{**base["constructs"][0], "weight": None}, *base["constructs"][1:]]}
    with pytest.raises(ValidationError, match="weight"):
        Instrument.model_validate(no_weight)
    bad_total = {
        **base,
        "constructs": [*base["constructs"][:3], {**base["constructs"][3], "of": ["nausea", "total"]}],
    }
    with pytest.raises(ValidationError, match="not a construct of items"):
        Instrument.model_validate(bad_total)


def test_ipq_reverse_scores_its_negatively_worded_items() -> None:
    ipq = load_instrument("ipq")
    assert ipq.scale is not None and (ipq.scale.min, ipq.scale.max) == (0, 6)
    assert sorted(i.code for i in ipq.items if i.reverse) == ["INV1", "INV3", "REAL1", "SP2", "SP3"]
    spatial = next(c for c in ipq.constructs if c.code == "spatial")
    answers = {ipq.column(i): 6 for i in ipq.construct_items("spatial")}  # agrees with everything
    (score,) = construct_scores(ipq, spatial, [SurveyResponse(uid="r", complete=True, answers=answers)])  # type: ignore[arg-type]
    assert score == pytest.approx((6 + 0 + 0 + 6 + 6) / 5)
