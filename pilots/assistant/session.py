"""One assistant session as a record: the same for the built-in pipeline and an external system."""

from __future__ import annotations

from typing import Any

from civiclab import EventLog, Outcome, SessionPlan, SessionRecord

TURN_SECONDS = 60.0  # each turn starts one simulated minute after the previous one


def assistant_record(
    plan: SessionPlan,
    log: EventLog,
    turns: list[dict[str, Any]],
    timings: dict[str, float],
    *,
    model: str | None,
    prompt_version: str | None,
) -> SessionRecord:
    """The session's record: escalated when any turn handed over, failed when every turn failed."""
    handed = any(t["decision"] == "handover" for t in turns)
    failed = sum(t["status"] == "failed" for t in turns)
    outcome: Outcome = (
        "escalated_to_human" if handed else ("failed" if turns and failed == len(turns) else "completed")
    )
    return SessionRecord(
        session_id=plan.session_id,
        persona_id=plan.persona_id,
        segment=plan.segment,
        channel_path=["assistant"] + (["human_agent"] if handed else []),
        events=log.events,
        outcome=outcome,
        duration_s=len(turns) * TURN_SECONDS,
        data={"turns": turns, "model": model, "prompt_version": prompt_version},
        timings=timings,
        error=next((t["error"] for t in turns if t.get("error")), None),
    )
