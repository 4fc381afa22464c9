"""The packaged instruments and a lab's own instrument, loaded from YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from civiclab.errors import SurveyError
from civiclab.spec.instruments import builtin_names, load_instrument
from civiclab.spec.survey import SurveySpec


def test_builtin_instruments_have_their_published_structure() -> None:
    assert builtin_names() == [
        "agent_work",
        "feedback",
        "ipq",
        "ssq_after",
        "ssq_before",
        "sus",
        "tlx",
        "trust",
        "utaut",
    ]
    sus = load_instrument("sus")
    assert [i.code for i in sus.items] == [f"SQ{n:03d}" for n in range(1, 11)]
    # Brooke's SUS: odd items positive, even items negative (reverse-scored).
    assert [i.reverse for i in sus.items] == [n % 2 == 0 for n in range(1, 11)]
    assert (sus.scale.min, sus.scale.max) == (1, 5)  # type: ignore[union-attr]
    assert sus.grade(85).grade == "A+" and sus.grade(68).grade == "C" and sus.grade(40).grade == "F"  # type: ignore[union-attr]

    trust = load_instrument("trust")
    assert len(trust.items) == 12 and trust.scale.max == 7  # type: ignore[union-attr]
    assert [i.construct_code for i in trust.items] == ["distrust"] * 5 + ["trust"] * 7

    utaut = load_instrument("utaut")
    assert {c.code for c in utaut.constructs} == {
        "performance_expectancy",
        "effort_expectancy",
        "social_influence",
        "facilitating_conditions",
        "behavioural_intention",
    }
    assert {i.code for i in utaut.items if i.reverse} == {"EE3", "FC3"}

    tlx = load_instrument("tlx")  # NASA-TLX: six subscales on the paper form's 21 marks, nothing reversed
    assert [i.code for i in tlx.items] == ["MD", "PD", "TD", "OP", "EF", "FR"]
    assert (tlx.scale.min, tlx.scale.max) == (0, 20) and not any(i.reverse for i in tlx.items)  # type: ignore[union-attr]

    feedback = load_instrument("feedback")
    assert all(i.type == "text" and not i.is_required for i in feedback.items)
    for inst in (sus, trust, utaut, feedback):
        for item in inst.items:
            assert item.text.fr and item.text.en and item.text.fr != item.text.en


def test_a_lab_adds_its_own_instrument_by_path(tmp_path: Path) -> None:
    path = tmp_path / "fairness.yaml"
    path.write_text(
        """
name: fairness
code: FAIR
title: {fr: "Équité", en: "Fairness"}
scale: {min: 1, max: 4, labels: {fr: [a, b, c, d], en: [a, b, c, d]}}
constructs: [{code: fairness, label: {fr: "Équité perçue", en: "Perceived fairness"}}]
items:
  - {code: F1, construct: fairness, text: {fr: "Traité équitablement", en: "Treated fairly"}}
  - {code: F2, construct: fairness, reverse: true, text: {fr: "Désavantagé", en: "Disadvantaged"}}
""",
        encoding="utf-8",
    )
    spec = SurveySpec.model_validate(
        {"instruments": ["sus", "fairness.yaml"]}, context={"base_dir": tmp_path}
    )
    names = [i.name for i in spec.load_instruments()]
    assert names == ["sus", "fairness"]
    assert spec.load_instruments()[1].column(spec.load_instruments()[1].items[1]) == "FAIR[F2]"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("name: x\ncode: X\ntitle: {fr: a, en: b}\nitems: []\n", "items"),
        (
            "name: x\ncode: X\ntitle: {fr: a, en: b}\nbogus: 1\nitems: [{code: A, type: text, text: {fr: a, en: b}}]\n",
            "bogus: unknown field",
        ),
        (
            "name: x\ncode: X\ntitle: {fr: a, en: b}\nscale: {max: 5, labels: {fr: [a], en: [a]}}\n"
            "constructs: [{code: c, label: {fr: a, en: b}}]\n"
            "items: [{code: A, construct: c, text: {fr: a, en: b}}]\n",
            "one label for each of the 5 points",
        ),
        (
            "name: x\ncode: X\ntitle: {fr: a, en: b}\n"
            "items: [{code: A, construct: nope, text: {fr: a, en: b}}]\n",
            "needs the instrument's `scale`",
        ),
        ("name: x\ncode: X\n  title: [\n", "malformed YAML"),
    ],
)
def test_a_bad_instrument_is_refused_naming_file_and_field(tmp_path: Path, body: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(SurveyError, match=expected) as info:
        load_instrument(path)
    assert str(path) in str(info.value)


def test_survey_spec_is_strict() -> None:
    with pytest.raises(ValidationError, match="unknown instrument 'nope'"):
        SurveySpec.model_validate({"instruments": ["sus", "nope"]})
    with pytest.raises(ValidationError, match="appears twice"):
        SurveySpec.model_validate({"instruments": ["sus", "sus"]})
    with pytest.raises(ValidationError, match="Extra inputs"):
        SurveySpec.model_validate({"instrumnets": ["sus"]})
    with pytest.raises(ValidationError, match="file not found"):
        SurveySpec.model_validate({"responses": [{"path": "missing.csv"}]}, context={"base_dir": Path("/")})
