"""The bundled question bank for French public services, scored end to end, and Canada's file imported."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from civiclab.spec.impact import ImpactAssessment, score_impact
from civiclab.spec.impact_bank import BANKS, load_bank

CANADA = Path(__file__).resolve().parents[1] / "fixtures" / "aia" / "canada_aia_survey.json"

# The worked example: Belleval's procedures assistant, as experiments/assistant.yaml answers it.
ANSWERS = {
    "decision.role": "information",  # 0
    "decision.domain": ["social_benefits", "housing"],  # 3 + 2
    "decision.reversibility": "immediately",  # 0
    "decision.volume": "under_100000",  # 1
    "rights.access": "delay",  # 2
    "rights.vulnerable": ["elderly", "low_digital", "non_french_speakers"],  # 1 + 1 + 1
    "rights.non_take_up": "possibly",  # 2
    "data.kinds": ["personal"],  # 1
    "data.quality": "unknown",  # 2
    "data.opacity": "explained_model",  # 1
    "fairness.recourse": "yes_easy",  # 0
    "fairness.notice": "yes",  # 0
    "consultation.agents": "yes",  # 2
    "consultation.citizens": "no",  # 0
    "consultation.dpo": "yes",  # 1
    "mitigation.human": "yes",  # 2
    "mitigation.old_channel": "yes",  # 2
    "mitigation.group_monitoring": "yes",  # 2
    "mitigation.audit_log": "yes",  # 1
    "mitigation.dpia": "yes",  # 2
    "mitigation.stop_plan": "yes",  # 1
}


def bank_assessment(answers: dict[str, object]) -> ImpactAssessment:
    return ImpactAssessment.model_validate({"bank": "fr-services-publics", "answers": answers})


def test_the_bank_covers_the_aia_areas_in_french_and_english() -> None:
    bank = load_bank("fr-services-publics")
    assert bank.name == "fr-services-publics v1" and not bank.mitigation_forked
    assert set(bank.areas) == {"decision", "rights", "data", "fairness", "consultation", "mitigation"}
    assert {q.area for q in bank.questions} == set(bank.areas)
    assert {q.kind for q in bank.questions} == {"risk", "mitigation"}
    assert all(q.fr and q.en and all(c.fr and c.en for c in q.choices) for q in bank.questions)
    assert set(bank.levels) == {"I", "II", "III", "IV"}
    assert all(texts["fr"] and texts["en"] for texts in bank.levels.values())


def test_the_bank_scored_end_to_end_on_a_worked_example() -> None:
    # Max raw risk, summed by hand from the bank: 4 + 16 + 4 + 2 + 4 + 6 + 3 + 7 + 3 + 3 + 3 + 2 = 57;
    # max mitigation 2 + 2 + 1 + 2 + 2 + 2 + 1 + 2 + 1 = 15.
    score = score_impact(bank_assessment(ANSWERS))
    assert (score.raw_risk, score.max_raw_risk) == (17, 57)
    assert (score.mitigation, score.max_mitigation) == (13, 15)
    # 13 >= 0.8 × 15 = 12 (asked once: the whole maximum): 17 × 0.85 = 14.45 -> 14; 14 <= 57/4 = 14.25: level I.
    assert score.mitigation_applied and (score.current, score.level_name) == (14, "I")
    assert score.bank == "fr-services-publics v1"
    assert score.requires[0].startswith("Explicit notice on the decision")
    rows = {a["id"]: a for a in score.answers}
    assert rows["decision.domain"] == {
        "id": "decision.domain",
        "area": "decision",
        "kind": "risk",
        "question": "In which area is the decision or the service?",
        "answer": "Social benefits or grants; Housing",
        "points": 5,
        "max": 16,
    }
    # Without the data protection officer and the audit log, mitigation is 11 < 12: no deduction, level II.
    weaker = score_impact(
        bank_assessment({**ANSWERS, "consultation.dpo": "no", "mitigation.audit_log": "no"})
    )
    assert (weaker.mitigation, weaker.mitigation_applied, weaker.current, weaker.level_name) == (
        11,
        False,
        17,
        "II",
    )
    assert weaker.requires[1].startswith("A review of the system by a qualified person")


def test_the_bundled_assistant_experiment_answers_the_bank() -> None:
    spec = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "experiments" / "assistant.yaml").read_text()
    )
    assert spec["impact_assessment"]["answers"] == ANSWERS
    assert score_impact(ImpactAssessment.model_validate(spec["impact_assessment"])).level_name == "I"


def test_bank_answers_are_checked() -> None:
    with pytest.raises(ValidationError, match="'decision.colour' is not a question of the bank"):
        bank_assessment({"decision.colour": "blue"})
    with pytest.raises(ValidationError, match="'sometimes' is not one of"):
        bank_assessment({"decision.role": "sometimes"})
    with pytest.raises(ValidationError, match="neither a bundled bank"):
        ImpactAssessment.model_validate({"bank": "no-such-bank", "answers": {}})
    assert sorted(p.stem for p in BANKS.glob("*.yaml")) == ["fr-services-publics"]


def test_canadas_questionnaire_file_is_imported_and_scored_as_the_aia_tool_scores_it() -> None:
    bank = load_bank(str(CANADA))
    kinds = {q.id: (q.kind, q.area, q.multiple) for q in bank.questions}
    assert kinds == {
        "riskProfile1-RS": ("risk", "impactRisk", False),
        "dataSources": ("risk", "impactRisk", True),  # risk through its panel's name
        "impactDuration-RS": ("risk", "impactRisk", False),
        "consultationDesign-MS": ("mitigation", "mitigation", False),
        "consultationImplementation-MS": ("mitigation", "mitigation", False),
    }
    assert bank.questions[0].fr == "Le projet relève-t-il d'un domaine d'intérêt public intense ?"
    assert bank.mitigation_forked  # design and implementation: the tool halves the maximum
    assessment = ImpactAssessment.model_validate(
        {
            "bank": str(CANADA),
            "answers": {
                "riskProfile1-RS": "item1-3",
                "dataSources": ["item1-2", "item2-1"],
                "impactDuration-RS": "item2-2",
                "consultationDesign-MS": "item1-1",
            },
        }
    )
    score = score_impact(assessment)
    # Raw 3 + 3 + 2 = 8 of 3 + 3 + 4 = 10; mitigation 1 >= 0.8 × (2 / 2), so round(0.85 × 8 = 6.8) = 7;
    # 5 < 7 <= 7.5 (quarters of 10): level III.
    assert (score.raw_risk, score.max_raw_risk, score.mitigation, score.max_mitigation) == (8, 10, 1, 2)
    assert score.mitigation_applied and (score.current, score.level_name) == (7, "III")
    assert score.unanswered == ["consultationImplementation-MS"]
