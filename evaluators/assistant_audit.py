"""The AI-assistant pilot's auditability and privacy: explanations, redaction quality, leaks; and energy.

- SHAP coverage: every automated routing decision must carry its SHAP values and a plain-language
  explanation in the citizen's language. Every decision of the run is checked: a census, exact.
- Redaction recall and precision, measured on a labelled set of texts with the spans of personal values.
- Leaks: the known personal values of the scenarios, searched in every text artifact the run wrote. It
  must be 0.
- Energy per answer: the run's single energy reading divided by the turns the assistant answered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from civiclab import (
    DataFile,
    Estimate,
    Metric,
    RunData,
    SessionRecord,
    census,
    evaluator,
    metric_from,
    per_segment,
    rate,
)
from civiclab.privacy.redaction import find_personal_data, redact_text
from civiclab.text import load_questions
from evaluators.assistant import answered, turns_of

DIM = "auditability"
TEXT_SUFFIXES = (".jsonl", ".json", ".md", ".yaml", ".yml", ".txt", ".csv", ".html")


class AssistantAuditParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resamples: int = Field(default=1000, ge=100, le=20000)
    redaction_labelled: DataFile | None = Field(
        default=None, description="labelled redaction set; default: the pilot's `redaction_labelled`"
    )


def explained(turn: dict[str, Any], features: Sequence[str]) -> bool:
    """The decision carries a SHAP value for every router feature and an explanation in the turn's language.

    `features` are the ones the pilot declares it routes on (its `assistant.features` fact): with none
    declared, no decision counts as explained.
    """
    shap = turn.get("shap") or {}
    note = str(turn.get("explanation") or "")
    in_language = (
        note.startswith("Automated processing notice")
        if turn.get("language") == "en"
        else (note.startswith("Information sur le traitement automatisé"))
    )
    return bool(features) and all(f in shap for f in features) and in_language


def redaction_scores(items: list[dict[str, Any]]) -> dict[str, int]:
    """Entity recall, finding precision and leaked values of `find_personal_data` on a labelled set."""
    found = covered = false_positives = leaks = entities = 0
    for item in items:
        text = item["text"]
        findings = find_personal_data(text)
        redacted = redact_text(text)
        for entity in item["entities"]:
            entities += 1
            covered += any(f.start <= entity["start"] and f.end >= entity["end"] for f in findings)
            leaks += entity["value"] in redacted
        for f in findings:
            found += 1
            false_positives += not any(f.start < e["end"] and e["start"] < f.end for e in item["entities"])
    return {
        "entities": entities,
        "covered": covered,
        "findings": found,
        "false_positives": false_positives,
        "leaks": leaks,
    }


def known_values(questions_path: Path) -> list[str]:
    """Every personal value written in the scenarios, with compact forms of numbers (no separators)."""
    values: set[str] = set()
    for question in load_questions(questions_path, "eval"):
        for item in question.personal_data:
            values.add(item.value)
            if item.kind in ("PHONE", "NIR", "IBAN"):
                values.add("".join(ch for ch in item.value if ch.isalnum()))
    return sorted(v for v in values if len(v) >= 4)


def count_leaks(artifact_dir: Path, values: list[str]) -> tuple[int, int]:
    """(occurrences of known personal values, text files scanned) in the run's artifact folder.

    A value counts as a whole word (so a surname is not found inside a longer word), as written or as
    JSON escapes it (`\\u00e9`), since some artifacts are written with ASCII-only JSON.
    """
    if not values:
        return 0, 0
    forms = sorted({form for v in values for form in (v, json.dumps(v)[1:-1])}, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w@.])(?:" + "|".join(re.escape(f) for f in forms) + r")(?![\w@])")
    occurrences = scanned = 0
    for path in sorted(artifact_dir.rglob("*")):
        if path.is_file() and path.suffix.lower() in TEXT_SUFFIXES:
            scanned += 1
            occurrences += len(pattern.findall(path.read_text(encoding="utf-8", errors="replace")))
    return occurrences, scanned


def _labelled_items(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class AuditFacts(BaseModel):
    """What this evaluator reads of a pilot's facts: the labelled redaction set and the questions asked."""

    redaction_labelled: Path | None = None
    questions: Path | None = None
    features: list[str] = Field(
        default_factory=list, description="the router's features, as the pilot declares"
    )
    system: dict[str, Any] = Field(default_factory=lambda: {"kind": "builtin"})


@evaluator(
    "assistant_audit",
    dimension=DIM,
    params=AssistantAuditParams,
    metrics={
        "auditability.shap_coverage": "routing decisions carrying SHAP values and an explanation in the "
        "citizen's language",
        "auditability.redaction_recall": "labelled personal values fully covered by a redaction",
        "auditability.redaction_precision": "redactions that cover a labelled personal value",
        "auditability.redaction_leaks_labelled": "labelled personal values still readable after redaction",
        "auditability.personal_data_leaks": "known personal values of the scenarios found in the run's artifacts",
        "energy.kwh_per_answer": "energy of the run per automatic answer (kWh)",
    },
)
def assistant_audit(run: RunData, params: AssistantAuditParams) -> list[Metric]:
    """SHAP coverage, redaction recall/precision, leaks in the logged artifacts, energy per answer."""
    seed, n = run.seed, params.resamples
    facts = run.facts_as(AuditFacts) or AuditFacts()

    def coverage(records: list[SessionRecord]) -> Estimate:
        # Every routing decision of these sessions is checked: a census of them, not a sample.
        return census(
            [explained(t, facts.features) for t in turns_of(records)],
            population="every routing decision made in these sessions",
        )

    external = facts.system.get("kind", "builtin") != "builtin"
    if external:
        # The system decides its own hand-overs: there is no civiclab decision to explain.
        metrics = [
            Metric(
                name=f"{DIM}.shap_coverage",
                value=None,
                dimension=DIM,
                error=f"{facts.system.get('name')} routes hand-overs itself: no SHAP explanation to check",
            )
        ]
    else:
        metrics = per_segment(run, f"{DIM}.shap_coverage", coverage, dimension=DIM, higher_is_better=True)

    labelled = params.redaction_labelled or facts.redaction_labelled
    if labelled is None:
        metrics += [
            Metric(name=f"{DIM}.{m}", value=None, dimension=DIM, error="no labelled redaction set")
            for m in ("redaction_recall", "redaction_precision", "redaction_leaks_labelled")
        ]
    else:
        items = _labelled_items(labelled)
        scores = redaction_scores(items)
        recall = rate(
            [True] * scores["covered"] + [False] * (scores["entities"] - scores["covered"]),
            seed=seed,
            resamples=n,
        )
        true_found = scores["findings"] - scores["false_positives"]
        precision = rate([True] * true_found + [False] * scores["false_positives"], seed=seed, resamples=n)
        note = f"{len(items)} labelled texts, {scores['entities']} personal values"
        metrics += [
            metric_from(
                f"{DIM}.redaction_recall",
                recall,
                dimension=DIM,
                unit="share",
                higher_is_better=True,
                note=note,
            ),
            metric_from(
                f"{DIM}.redaction_precision",
                precision,
                dimension=DIM,
                unit="share",
                higher_is_better=True,
                note=note,
            ),
            Metric(
                name=f"{DIM}.redaction_leaks_labelled",
                value=float(scores["leaks"]),
                unit="values",
                n=scores["entities"],
                dimension=DIM,
                higher_is_better=False,
                note=note,
            ),
        ]

    if facts.questions is not None:
        values = known_values(facts.questions)
        leaks, scanned = count_leaks(run.artifact_dir, values)
        metrics.append(
            Metric(
                name=f"{DIM}.personal_data_leaks",
                value=float(leaks),
                unit="occurrences",
                n=len(values),
                dimension=DIM,
                higher_is_better=False,
                note=f"{len(values)} known values searched in {scanned} text artifacts",
            )
        )
    else:
        metrics.append(
            Metric(
                name=f"{DIM}.personal_data_leaks",
                value=None,
                dimension=DIM,
                error="the run's facts do not name the scenario file",
            )
        )

    answers = sum(answered(t) for t in turns_of(run.records))
    reading = run.energy
    if facts.system.get("remote"):
        metrics.append(
            Metric(
                name="energy.kwh_per_answer",
                value=None,
                dimension="energy",
                error=f"{facts.system.get('name')} is a remote service: its energy cannot be measured from "
                "here (energy.kwh is the harness's own)",
            )
        )
    elif reading is None or reading.method == "unavailable" or answers == 0:
        why = "no automatic answer" if answers == 0 else (reading.source if reading else "no energy reading")
        metrics.append(Metric(name="energy.kwh_per_answer", value=None, dimension="energy", error=why))
    else:
        metrics.append(
            Metric(
                name="energy.kwh_per_answer",
                value=reading.kwh / answers,
                unit="kWh",
                dimension="energy",
                higher_is_better=False,
                n=answers,
                note=f"{reading.method}: {reading.source}; whole run / automatic answers",
            )
        )
    return metrics
