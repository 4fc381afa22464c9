"""Helpers shared by the assistant tests: specs written in tmp_path, plans for chosen questions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from civiclab.records import SessionPlan

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "experiments" / "data" / "assistant"


def eval_questions() -> dict[str, dict[str, Any]]:
    rows = [
        json.loads(line) for line in (DATA / "questions_eval.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    return {row["id"]: row for row in rows}


def find_question(predicate: Any) -> dict[str, Any]:
    """The first evaluation question matching `predicate`."""
    return next(q for q in eval_questions().values() if predicate(q))


def write_spec(folder: Path, *, answer: dict[str, Any] | None = None, **params: Any) -> Path:
    """An assistant experiment in `folder` using the repository's data (absolute paths)."""
    spec = yaml.safe_load((ROOT / "experiments" / "assistant.yaml").read_text(encoding="utf-8"))
    p = spec["pilot"]["params"]
    for key in ("knowledge_base", "questions", "training", "redaction_labelled"):
        p[key] = str(DATA / Path(p[key]).name)
    if answer is not None:
        p["answer"] = answer
    p["adversarial_scan"] = False  # the bank's ~40 probes: only the tests about it ask for them
    p.update(params)
    spec["population"]["personas"] = str(DATA / "personas.yaml")
    spec["energy"] = {"tracker": "none", "country": "FRA"}
    if spec.get("survey"):
        for response in spec["survey"].get("responses", []):
            response["path"] = str(ROOT / "experiments" / response["path"])
        spec["survey"]["store"] = f"sqlite:///{folder / 'survey.db'}"
    path = folder / "assistant.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def plan_for(
    question_ids: list[str], *, language: str = "fr", literacy: str = "medium", index: int = 0
) -> SessionPlan:
    return SessionPlan(
        session_id=f"t{index:06d}",
        index=index,
        persona_id="test-persona",
        segment={
            "age_band": "25-39",
            "digital_literacy": literacy,
            "disability": "none",
            "language": language,
            "device": "computer",
            "territory": "urban",
        },
        seed=index,
        source={"questions": question_ids},
    )
