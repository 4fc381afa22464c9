"""The assistant evaluator's grade of each turn, shown on the session's MLflow trace as assessments.

Per turn: whether the hand-over decision was the expected one, how much of an answer a passage supports
(lexically, as `human_centered.groundedness`), and, for a failed turn, whose failure it was. Each grade
carries its rationale in words a committee member can check against the trace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from civiclab import RunData
from civiclab.text import sentences

SOURCE = "civiclab.evaluators.assistant"


def grade_turns(
    run: RunData,
    answered: Callable[[dict[str, Any]], bool],
    supported: Callable[[dict[str, Any], str], bool],
) -> None:
    """Add the per-turn grades of every session to `run` (attached to the traces by the runner)."""
    for record in run.records:
        for index, turn in enumerate(record.data.get("turns", [])):
            span = f"turn {index}"

            def grade(
                name: str, value: Any, rationale: str, span: str = span, session: str = record.session_id
            ) -> None:
                run.assess(session, name, value, rationale=rationale, span=span, source=SOURCE)

            if turn.get("status") == "failed":
                side = turn.get("failed_by", "endpoint")
                grade("failed_by", side, f"{turn.get('failure') or 'error'}: {turn.get('error') or ''}"[:300])
                continue
            expected, decision = turn.get("expected"), turn.get("decision")
            if expected in ("answer", "handover"):
                grade(
                    "handover_correct",
                    decision == expected,
                    f"the question called for {'a person' if expected == 'handover' else 'an answer'}; "
                    f"the assistant {'handed over' if decision == 'handover' else 'answered'}",
                )
            if answered(turn):
                parts = sentences(str(turn["answer"]).replace("\n", " "))
                held = [s for s in parts if supported(turn, s)]
                grade(
                    "groundedness",
                    len(held) / len(parts) if parts else 0.0,
                    f"{len(held)} of {len(parts)} answer sentences have their words in a "
                    + ("retrieved passage" if "retrieved" in turn else "knowledge-base passage"),
                )
