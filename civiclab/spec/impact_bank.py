"""Impact-assessment question banks: versioned questions with weights, answered by an experiment.

A bank is a data file (`civiclab/spec/banks/*.yaml`, or a lab's own file): risk and mitigation questions
with their choices and points, in French and English, grouped in areas, and what each impact level
requires. An experiment answers it by question id:

```yaml
impact_assessment:
  bank: fr-services-publics          # the bundled bank (or a path to a bank file)
  assessed_by: Belleval data protection officer
  answers:
    decision.role: recommends
    data.kinds: [personal]
```

The bank is expanded into the questionnaire `civiclab.spec.impact.ImpactAssessment` scores, so the
scoring is the same whatever wrote the questions. `import_canada_aia` reads the questionnaire file of
Canada's AIA tool (SurveyJS JSON, `survey-enfr.json`) into a bank, so a lab that supplies it can answer
Canada's own questions: a question whose name (or whose panel's name) ends in `-RS` is a risk question,
`-MS` a mitigation one, and a choice's points are the number after the last hyphen of its value.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

BANKS = Path(__file__).parent / "banks"


class Texts(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fr: str
    en: str


class BankChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    points: int = Field(ge=0)
    fr: str
    en: str


class BankQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    area: str
    kind: Literal["risk", "mitigation"]
    multiple: bool = False
    fr: str
    en: str
    choices: list[BankChoice] = Field(min_length=1)


class ImpactBank(BaseModel):
    """A versioned question bank (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    version: int | str
    licence: str | None = None
    title: Texts
    mitigation_forked: bool = Field(
        default=False,
        description="mitigation asked twice (design, implementation) as in Canada's tool: the 80% rule "
        "applies to half the maximum",
    )
    areas: dict[str, Texts] = Field(default_factory=dict)
    levels: dict[str, dict[str, list[str]]] = Field(
        default_factory=dict, description="level I..IV -> language -> what the level requires"
    )
    questions: list[BankQuestion] = Field(min_length=1)

    @property
    def name(self) -> str:
        return f"{self.id} v{self.version}"


def load_bank(ref: str) -> ImpactBank:
    """A bundled bank by id (`fr-services-publics`), or a bank file (YAML or JSON) by path.

    Raises:
        ValueError: no such bank, or a file that is not a bank (pydantic's ValidationError is one).
    """
    import yaml

    bundled = BANKS / f"{ref}.yaml"
    path = bundled if bundled.is_file() else Path(ref)
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in BANKS.glob("*.yaml")))
        raise ValueError(f"bank {ref!r}: neither a bundled bank ({known}) nor a file")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and "pages" in data:
        return import_canada_aia(data, digest=hashlib.sha256(path.read_bytes()).hexdigest()[:12])
    return ImpactBank.model_validate(data)


def expand(bank: ImpactBank, answers: dict[str, Any]) -> dict[str, Any]:
    """The questionnaire (`ImpactAssessment` fields) of `bank` with `answers` by question id."""
    ids = {q.id for q in bank.questions}
    unknown = sorted(set(answers) - ids)
    if unknown:
        raise ValueError(f"answers: {unknown[0]!r} is not a question of the bank {bank.name}")
    parts: dict[str, list[dict[str, Any]]] = {"risk": [], "mitigation": []}
    for q in bank.questions:
        parts[q.kind].append(
            {
                "id": q.id,
                "area": q.area,
                "question": q.en,
                "question_fr": q.fr,
                "multiple": q.multiple,
                "choices": {c.id: c.points for c in q.choices},
                "choice_labels": {c.id: c.en for c in q.choices},
                "answer": answers.get(q.id),
            }
        )
    return {
        "bank": bank.name,
        "mitigation_forked": bank.mitigation_forked,
        "requirements": {level: texts.get("en", []) for level, texts in bank.levels.items()},
        **parts,
    }


def _text(value: Any) -> tuple[str, str]:
    """(English, French) of a SurveyJS text: a string, or {"default": ..., "fr": ...}."""
    if isinstance(value, dict):
        en = str(value.get("default") or value.get("en") or "")
        return en, str(value.get("fr") or en)
    return str(value or ""), str(value or "")


def _points(value: Any) -> int:
    # As the AIA tool reads a choice: the number after the last hyphen of its value, else 0.
    text = str(value)
    tail = text.rsplit("-", 1)[1] if "-" in text else ""
    return int(tail) if tail.isdigit() else 0


def _score_kind(name: str) -> Literal["risk", "mitigation"] | None:
    return "risk" if name.endswith("-RS") else "mitigation" if name.endswith("-MS") else None


def import_canada_aia(survey: dict[str, Any], *, digest: str = "") -> ImpactBank:
    """A bank from the questionnaire file of Canada's AIA tool (SurveyJS JSON: pages, panels, questions)."""
    questions: list[BankQuestion] = []
    areas: dict[str, Texts] = {}

    def walk(
        elements: list[dict[str, Any]], page: str, inherited: Literal["risk", "mitigation"] | None
    ) -> None:
        for element in elements:
            name = str(element.get("name", ""))
            kind = None if name.endswith("-NS") else (_score_kind(name) or inherited)
            if element.get("type") == "panel":
                walk(element.get("elements") or [], page, kind)
                continue
            if element.get("type") not in ("radiogroup", "checkbox", "dropdown") or kind is None:
                continue
            en, fr = _text(element.get("title") or name)
            choices = []
            for choice in element.get("choices") or []:
                value = choice.get("value") if isinstance(choice, dict) else choice
                c_en, c_fr = _text(choice.get("text", value) if isinstance(choice, dict) else value)
                choices.append(BankChoice(id=str(value), points=_points(value), fr=c_fr, en=c_en))
            if choices:
                questions.append(
                    BankQuestion(
                        id=name,
                        area=page,
                        kind=kind,
                        multiple=element.get("type") == "checkbox",
                        fr=fr,
                        en=en,
                        choices=choices,
                    )
                )
                areas.setdefault(page, Texts(fr=page, en=page))

    for page in survey.get("pages") or []:
        walk(page.get("elements") or [], str(page.get("name", "")), None)
    return ImpactBank(
        id="canada-aia",
        version=f"imported {digest}" if digest else "imported",
        title=Texts(
            fr="Évaluation de l'incidence algorithmique (Canada)", en="Algorithmic Impact Assessment (Canada)"
        ),
        mitigation_forked=True,
        areas=areas,
        questions=questions,
    )


def bank_json(bank: ImpactBank) -> str:
    """The bank as JSON (what `civiclab impact import-canada` writes)."""
    return json.dumps(bank.model_dump(mode="json"), ensure_ascii=False, indent=1)
