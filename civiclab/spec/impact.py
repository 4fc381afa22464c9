"""Impact assessment: a questionnaire scored as Canada's Algorithmic Impact Assessment scores it.

(The map of a run's evidence against the EU's ALTAI requirements is `civiclab.scoring.altai`.)

AIA scoring (Directive on Automated Decision-Making, tool `aia-eia-js`): the raw impact score is the
sum of the points of the risk answers; when the mitigation score reaches 80% of half the maximum
mitigation score (the tool halves it because its mitigation questions are asked twice, for design and
for implementation), the current score is the raw score less 15%, rounded; the impact level is I to IV
by quarters of the maximum raw score (≤25%, ≤50%, ≤75%, above). A bank that asks its mitigation
questions once (`mitigation_forked: false`, the bundled French bank) needs 80% of the whole maximum.

A lab rarely writes its own questions: it answers a versioned bank (`bank:` and `answers:`, see
`civiclab.spec.impact_bank`), the bundled one for French public services, or Canada's questionnaire
file imported as is. Writing the questions inline, as below, stays possible.

In an experiment (points per choice; `multiple: true` lets several choices add up; an unanswered
question scores 0 and is listed as unanswered):

```yaml
impact_assessment:
  assessed_by: Belleval data protection officer
  risk:
    - id: reversibility
      question: Can a citizen have the outcome reversed?
      choices: {"easily": 0, "with effort": 2, "no": 4}
      answer: with effort
    - id: data
      question: Which data does the system use?
      multiple: true
      choices: {"personal": 1, "sensitive": 3}
      answer: [personal]
  mitigation:
    - id: human_reachable
      question: Can every citizen reach a human at any step?
      choices: {"yes": 2, "no": 0}
      answer: "yes"
```
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MITIGATION_SHARE = 0.8
DEDUCTION = 0.15
LEVELS = ("I", "II", "III", "IV")


class ImpactQuestion(BaseModel):
    """One question: its choices and their points, and the answer given (one choice, or several)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    question: str = Field(min_length=3)
    choices: dict[str, int] = Field(min_length=1, description="choice -> points (≥ 0)")
    multiple: bool = Field(default=False, description="several choices may be ticked; their points add up")
    answer: str | list[str] | None = None
    area: str | None = Field(default=None, description="the area of a bank (decision, rights, data...)")
    question_fr: str | None = None
    choice_labels: dict[str, str] = Field(default_factory=dict, description="choice id -> words shown")

    @model_validator(mode="after")
    def _answer_is_a_choice(self) -> ImpactQuestion:
        if any(points < 0 for points in self.choices.values()):
            raise ValueError("choices: points must be ≥ 0")
        answers = self.answers
        if isinstance(self.answer, list) and not self.multiple:
            raise ValueError("answer: a list is only allowed when `multiple: true`")
        unknown = [a for a in answers if a not in self.choices]
        if unknown:
            raise ValueError(f"answer: {unknown[0]!r} is not one of {', '.join(map(repr, self.choices))}")
        return self

    @property
    def answers(self) -> list[str]:
        if self.answer is None:
            return []
        return [self.answer] if isinstance(self.answer, str) else list(self.answer)

    @property
    def points(self) -> int:
        return sum(self.choices[a] for a in self.answers)

    @property
    def max_points(self) -> int:
        return sum(self.choices.values()) if self.multiple else max(self.choices.values())


class ImpactAssessment(BaseModel):
    """The optional `impact_assessment` of an experiment: risk and mitigation questions with answers."""

    model_config = ConfigDict(extra="forbid")

    framework: Literal["canada-aia"] = "canada-aia"
    assessed_by: str | None = None
    date: str | None = None
    bank: str | None = Field(
        default=None, description="the question bank and its version, when one was answered"
    )
    mitigation_forked: bool = Field(
        default=True,
        description="mitigation questions asked twice (design and implementation) as in Canada's tool: the "
        "deduction needs 80% of half their maximum; a bank asking them once: 80% of the maximum",
    )
    requirements: dict[str, list[str]] = Field(
        default_factory=dict, description="impact level (I..IV) -> what it requires, from the bank"
    )
    risk: list[ImpactQuestion] = Field(min_length=1)
    mitigation: list[ImpactQuestion] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _answers_to_a_bank(cls, data: Any) -> Any:
        # `bank` + `answers`: the bank's questions with these answers (civiclab.spec.impact_bank).
        if not isinstance(data, dict) or "answers" not in data:
            return data
        from civiclab.spec.impact_bank import expand, load_bank

        rest = {k: v for k, v in data.items() if k not in ("bank", "answers")}
        if not isinstance(data.get("bank"), str):
            raise ValueError(
                "bank: name the question bank the answers answer (fr-services-publics, or a file)"
            )
        if not isinstance(data["answers"], dict):
            raise ValueError("answers: a mapping of question id to the chosen choice id(s)")
        return {**rest, **expand(load_bank(data["bank"]), data["answers"])}

    @model_validator(mode="after")
    def _unique_ids(self) -> ImpactAssessment:
        seen: set[str] = set()
        for part in ("risk", "mitigation"):
            for i, q in enumerate(getattr(self, part)):
                if q.id in seen:
                    raise ValueError(f"{part}[{i}].id: duplicate question id {q.id!r}")
                seen.add(q.id)
        return self


class ImpactScore(BaseModel):
    """The scored questionnaire, with every number the AIA tool shows."""

    model_config = ConfigDict(extra="forbid")

    raw_risk: int
    max_raw_risk: int
    mitigation: int
    max_mitigation: int
    mitigation_applied: bool
    current: int
    level: int = Field(ge=1, le=4)
    level_name: str
    unanswered: list[str] = Field(default_factory=list)
    bank: str | None = None
    requires: list[str] = Field(default_factory=list, description="what the level requires (from the bank)")
    answers: list[dict[str, Any]] = Field(
        default_factory=list, description="each question: id, area, kind, question, answer words, points, max"
    )


def _round_half_up(x: float) -> int:
    # The AIA tool uses JavaScript's Math.round, which rounds halves up (Python's round() does not).
    return int(math.floor(x + 0.5))


def score_impact(assessment: ImpactAssessment) -> ImpactScore:
    """Score a questionnaire as the AIA does: raw risk, mitigation deduction, impact level I–IV."""
    raw = sum(q.points for q in assessment.risk)
    max_raw = sum(q.max_points for q in assessment.risk)
    mitigation = sum(q.points for q in assessment.mitigation)
    max_mitigation = sum(q.max_points for q in assessment.mitigation)
    # Canada's tool halves the maximum because it asks its mitigation questions twice; a bank asking
    # them once compares with the whole maximum.
    reference = max_mitigation / 2 if assessment.mitigation_forked else max_mitigation
    applied = bool(assessment.mitigation) and mitigation >= MITIGATION_SHARE * reference
    current = _round_half_up((1 - DEDUCTION) * raw) if applied else raw
    level = 4
    for i, share in enumerate((0.25, 0.5, 0.75), start=1):
        if current <= max_raw * share:
            level = i
            break
    unanswered = [q.id for q in (*assessment.risk, *assessment.mitigation) if q.answer is None]
    return ImpactScore(
        raw_risk=raw,
        max_raw_risk=max_raw,
        mitigation=mitigation,
        max_mitigation=max_mitigation,
        mitigation_applied=applied,
        current=current,
        level=level,
        level_name=LEVELS[level - 1],
        unanswered=unanswered,
        bank=assessment.bank,
        requires=assessment.requirements.get(LEVELS[level - 1], []),
        answers=[_answer_row(q, kind) for kind in ("risk", "mitigation") for q in getattr(assessment, kind)],
    )


def _answer_row(q: ImpactQuestion, kind: str) -> dict[str, Any]:
    words = [q.choice_labels.get(a, a) for a in q.answers]
    return {
        "id": q.id,
        "area": q.area,
        "kind": kind,
        "question": q.question,
        "answer": "; ".join(words) if words else None,
        "points": q.points,
        "max": q.max_points,
    }
