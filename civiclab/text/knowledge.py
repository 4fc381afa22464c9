"""A knowledge base (procedure sheets) and citizen question scenarios, read and checked strictly.

The assistant pilot answers from them; its evaluators read them back (groundedness, known personal values).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from civiclab.errors import SpecError
from civiclab.plugins.experiment import read_yaml, validation_to_spec_error

Handling = Literal["answer", "handover"]
Reason = Literal["answer", "complaint", "distress", "legal", "out_of_scope", "human_request", "injection"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Sheet(_Strict):
    """One procedure sheet: a title and named sections of plain text."""

    id: str = Field(pattern=r"^S\d{2,4}$")
    title: str = Field(min_length=3)
    category: str = Field(min_length=2)
    sections: dict[str, str] = Field(min_length=1)


class KnowledgeBase(_Strict):
    municipality: str
    licence: str
    version: str
    sheets: list[Sheet] = Field(min_length=1)


class PersonalValue(_Strict):
    kind: Literal["NAME", "EMAIL", "PHONE", "NIR", "IBAN", "ADDRESS"]
    value: str = Field(min_length=2)


class Question(_Strict):
    """A citizen question, the sheets that answer it and how it should be handled."""

    id: str = Field(min_length=1)
    split: Literal["train", "eval"]
    text: str = Field(min_length=2)
    language: str = Field(pattern=r"^[a-z]{2}$")
    profile: Literal["standard", "low_literacy", "english"]
    sheets: list[str] = Field(default_factory=list)
    expected: Handling
    reason: Reason
    tags: list[str] = Field(default_factory=list)
    personal_data: list[PersonalValue] = Field(default_factory=list)
    injection_marker: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """Names known to be in the question (tagged in the scenario), redacted wherever they appear."""
        return tuple(p.value for p in self.personal_data if p.kind == "NAME")


@dataclass(frozen=True)
class Passage:
    """The unit of retrieval: one section of one sheet."""

    id: str
    sheet: str
    title: str
    section: str
    text: str

    @property
    def content(self) -> str:
        """What is embedded: the title gives the section its context."""
        return f"{self.title}. {self.section} : {self.text}"


def load_knowledge_base(path: Path) -> KnowledgeBase:
    """Read and check a knowledge base file; raises `SpecError` naming the file and field."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise SpecError(path, "(top level)", "a knowledge base must be a YAML mapping with `sheets`")
    if not data.get("sheets"):
        raise SpecError(path, "sheets", "the knowledge base is empty: give at least one procedure sheet")
    try:
        kb = KnowledgeBase.model_validate(data)
    except ValidationError as exc:
        raise validation_to_spec_error(exc, path) from None
    seen: set[str] = set()
    for i, sheet in enumerate(kb.sheets):
        if sheet.id in seen:
            raise SpecError(path, f"sheets[{i}].id", f"duplicate sheet id {sheet.id!r}")
        seen.add(sheet.id)
    return kb


def passages(kb: KnowledgeBase) -> list[Passage]:
    """Every section of every sheet, in file order (the order fixes passage ids)."""
    out: list[Passage] = []
    for sheet in kb.sheets:
        for j, (section, text) in enumerate(sheet.sections.items()):
            out.append(Passage(f"{sheet.id}.{j}", sheet.id, sheet.title, section, " ".join(text.split())))
    return out


def load_questions(path: Path, split: str, sheet_ids: set[str] | None = None) -> list[Question]:
    """Read a JSONL question file of one split; raises `SpecError` naming the file, line and field."""
    questions: list[Question] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(path, "", f"cannot read: {exc}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SpecError(path, f"line {number}", f"malformed JSON: {exc.msg}") from None
        try:
            question = Question.model_validate(raw)
        except ValidationError as exc:
            raise validation_to_spec_error(exc, path, f"line {number}") from None
        if question.split != split:
            raise SpecError(path, f"line {number}.split", f"expected {split!r}, found {question.split!r}")
        for sheet in question.sheets:
            if sheet_ids is not None and sheet not in sheet_ids:
                raise SpecError(path, f"line {number}.sheets", f"unknown sheet {sheet!r}")
        questions.append(question)
    if not questions:
        raise SpecError(path, "", f"no questions in the {split} split")
    return questions
