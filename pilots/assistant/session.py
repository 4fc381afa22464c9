"""One assistant session as a record: the same for the built-in pipeline and an external system."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from civiclab import EventLog, HarnessFault, Outcome, SessionPlan, SessionRecord

TURN_SECONDS = 60.0  # each turn starts one simulated minute after the previous one
HARNESS_TRIES = 3
T = TypeVar("T")
logger = logging.getLogger(__name__)


def harness_step(step: str, work: Callable[[], T]) -> T:
    """civiclab's own part of a turn (redaction, serialisation), tried again when it fails.

    A failure that persists is civiclab's, not the system's: `HarnessFault` stops the run (marked
    FAILED, one line) instead of becoming a failed turn that the scorecard would blame on the system.
    """
    for attempt in range(1, HARNESS_TRIES + 1):
        try:
            return work()
        except HarnessFault:
            raise
        except Exception as exc:
            if attempt == HARNESS_TRIES:
                raise HarnessFault(
                    f"assistant: civiclab's {step} failed {HARNESS_TRIES} times, not the system: "
                    f"{type(exc).__name__}: {exc}"[:400]
                ) from None
            logger.info("civiclab's %s failed (attempt %d), trying again: %s", step, attempt, exc)
    raise AssertionError("unreachable")  # pragma: no cover


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
