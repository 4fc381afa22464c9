"""Helpers for the bring-your-own-assistant tests: a lean spec around an external system, artifact grep."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tests.pilots.assistant_support import DATA, write_spec


def byo_spec(
    folder: Path,
    system: dict[str, Any],
    *,
    sessions: int = 24,
    evaluators: list[Any] | None = None,
    **params: Any,
) -> Path:
    """An assistant experiment evaluating `system`, with the assistant evaluators only (fast)."""
    path = write_spec(folder, system=system, **params)
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["population"]["sessions"] = sessions
    spec["evaluators"] = evaluators or ["assistant", "assistant_audit", "auditability"]
    spec.pop("survey", None)
    keep = ("human_centered.", "auditability.", "energy.")
    spec["scorecard"]["criteria"] = [c for c in spec["scorecard"]["criteria"] if c["metric"].startswith(keep)]
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def http_system(url: str, **calls: Any) -> dict[str, Any]:
    return {
        "kind": "http",
        "url": f"{url}/answer",
        "request": {"question": "{question}", "lang": "{language}"},
        "response": {"answer": "data.answer", "sources": "data.sources", "handed_over": "data.handed_over"},
        "calls": {"concurrency": 8, "timeout_s": 5, "retries": 1, "backoff_s": 0.01, **calls},
    }


def scenario_values() -> list[str]:
    """Every personal value written in the evaluation scenarios (the ones that must never be logged)."""
    from civiclab.text.knowledge import load_questions

    values = {p.value for q in load_questions(DATA / "questions_eval.jsonl", "eval") for p in q.personal_data}
    return sorted(v for v in values if len(v) >= 4)


def values_in_artifacts(folder: Path, values: list[str]) -> list[tuple[str, str]]:
    """(file, value) for every scenario value found as a whole word in any file of `folder`."""
    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        for value in values:
            if re.search(rf"(?<![\w@.]){re.escape(value)}(?![\w@])", text):
                found.append((path.name, value))
    return found
