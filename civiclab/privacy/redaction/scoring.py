"""Recall and precision of the redaction on a labelled set, per entity type.

A labelled value is recalled when one finding covers it whole (whatever kind the finding says: what
matters is that it is not logged). A finding is a false positive when it overlaps no labelled value.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from civiclab.privacy.redaction import Finding, find_personal_data


class LabelledEntity(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str
    start: int
    end: int
    value: str


class LabelledText(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    lang: str
    category: str
    text: str
    entities: list[LabelledEntity]


class TypeScore(BaseModel):
    model_config = ConfigDict(extra="forbid")
    labelled: int = 0
    recalled: int = 0
    findings: int = 0
    false_positives: int = 0

    @property
    def recall(self) -> float | None:
        return self.recalled / self.labelled if self.labelled else None

    @property
    def precision(self) -> float | None:
        return (self.findings - self.false_positives) / self.findings if self.findings else None


def load_labelled(path: Path) -> list[LabelledText]:
    """A labelled JSONL set; each label's span is checked against its value."""
    items = [LabelledText.model_validate_json(line) for line in path.read_text("utf-8").splitlines() if line]
    for item in items:
        for e in item.entities:
            if item.text[e.start : e.end] != e.value:
                raise ValueError(f"{path}: {item.id}: span {e.start}-{e.end} is not {e.value!r}")
    return items


def score(
    items: list[LabelledText], find: Callable[[str], list[Finding]] = find_personal_data
) -> tuple[dict[str, TypeScore], list[dict[str, Any]]]:
    """Per-type scores (and "ALL"), and the misses and false positives for a reader to look at."""
    scores: dict[str, TypeScore] = {"ALL": TypeScore()}
    mistakes: list[dict[str, Any]] = []
    for item in items:
        findings = find(item.text)
        for e in item.entities:
            hit = any(f.start <= e.start and f.end >= e.end for f in findings)
            for key in (e.type, "ALL"):
                s = scores.setdefault(key, TypeScore())
                s.labelled += 1
                s.recalled += hit
            if not hit:
                mistakes.append({"id": item.id, "miss": e.type, "value": e.value, "text": item.text})
        for f in findings:
            false = not any(f.start < e.end and e.start < f.end for e in item.entities)
            for key in (f.kind, "ALL"):
                s = scores.setdefault(key, TypeScore())
                s.findings += 1
                s.false_positives += false
            if false:
                mistakes.append(
                    {"id": item.id, "false_positive": f.kind, "value": f.value, "text": item.text}
                )
    return scores, mistakes


def as_table(scores: dict[str, TypeScore]) -> str:
    """The scores as aligned text: type, labelled, recall, findings, precision."""

    def fmt(x: float | None) -> str:
        return "-" if x is None else f"{x:.3f}"

    lines = [f"{'type':15} {'labelled':>8} {'recall':>7} {'found':>6} {'precision':>9}"]
    for kind in sorted(scores, key=lambda k: (k == "ALL", k)):
        s = scores[kind]
        lines.append(f"{kind:15} {s.labelled:8d} {fmt(s.recall):>7} {s.findings:6d} {fmt(s.precision):>9}")
    return "\n".join(lines)


def dump(mistakes: list[dict[str, Any]]) -> str:
    return "\n".join(json.dumps(m, ensure_ascii=False) for m in mistakes)
