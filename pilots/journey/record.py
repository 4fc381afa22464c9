"""The one shape of a journey session's record, whether simulated or observed."""

from __future__ import annotations

from typing import Any

from civiclab import EventLog, SessionPlan, SessionRecord
from pilots.journey.model import Journey


def journey_record(
    journey: Journey,
    plan: SessionPlan,
    log: EventLog,
    *,
    outcome: str,
    clock: float,
    steps: list[dict[str, Any]],
    channels: list[str],
    fallback_used: bool,
    failed_online: bool,
    human_reachable_on_failure: bool | None,
    **extra: Any,
) -> SessionRecord:
    """A session record with the pilot fields the human-centred evaluator reads."""
    return SessionRecord(
        session_id=plan.session_id,
        persona_id=plan.persona_id,
        segment=plan.segment,
        channel_path=channels,
        events=log.events,
        outcome=outcome,  # type: ignore[arg-type]
        duration_s=round(clock, 3),
        steps=steps,
        data={
            "journey": journey.id,
            "last_step": steps[-1]["step"] if steps else None,
            "fallback_used": fallback_used,
            "failed_online": failed_online,
            "human_reachable_on_failure": human_reachable_on_failure,
            **extra,
        },
    )
