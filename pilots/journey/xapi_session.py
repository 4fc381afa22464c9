"""One observed session's record, from its statements already mapped to steps (see xapi.py).

What each verb does is the table in the pilot README: `completed`, `passed`, `satisfied` and
`waived` (or `result.completion: true`) succeed a step, or the journey when their object is the
journey activity; `failed` (or `result.success: false`) fails it; `result.duration` is the time
spent when given. A statement on an unmapped activity (a video, say) is an event, never an outcome.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from civiclab import EventLog, SessionPlan, SessionRecord
from pilots.journey.immersion import Immersion
from pilots.journey.model import HUMAN_CHANNELS, Access, Journey
from pilots.journey.record import journey_record

SUCCEEDS = frozenset({"passed", "completed", "satisfied", "waived"})


def _at(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def succeeded(st: dict[str, Any]) -> bool | None:
    """True (done), False (failed) or None (no verdict) for one statement."""
    if st["success"] is False or st["verb"] == "failed":
        return False
    if st["completion"] is False:
        return None  # e.g. `completed` with completion false: contradictory, so no verdict
    if st["verb"] in SUCCEEDS or st["completion"] is True or st["success"] is True:
        return True
    return None


class _Session:
    def __init__(self, journey: Journey, plan: SessionPlan) -> None:
        self.journey = journey
        self.access = Access.of(plan.segment)
        sts = plan.source["statements"]
        self.start = _at(next(s for s in sts if s["kind"] != "voiding")["timestamp"])
        self.log = EventLog(plan.session_id, self.start)
        self.steps: dict[str, dict[str, Any]] = {}
        self.order: list[str] = []
        self.channels: list[str] = []
        self.outcome = "abandoned"  # a session that never says how it ended counts as abandoned
        self.failed_online = False
        self.human_reachable: bool | None = None
        self.clock = 0.0
        self.journey_duration: float | None = None
        self.flags: dict[str, Any] = {"waived": False, "journey_failed": False, "voided": 0, "unmapped": 0}
        self.immersion = Immersion()

    def step(self, st: dict[str, Any], at: float) -> None:
        step_id = st["target"]
        step = self.journey.step(step_id)
        entry = self.steps.get(step_id)
        if entry is None:
            entry = self.steps[step_id] = {
                "step": step_id,
                "channel": step.channel,
                "attempts": 0,
                "success": False,
                "time_s": 0.0,
                "usable": True,
                "_since": at,
            }
            self.order.append(step_id)
            if not self.channels or self.channels[-1] != step.channel:
                self.channels.append(step.channel)
            self.log.add("step.enter", "citizen", at, step=step_id, channel=step.channel)
        verb = st["verb"]
        verdict = succeeded(st)
        if verb == "attempted":
            entry["attempts"] += 1
        elif verb in ("suspended", "resumed"):
            self.log.add(f"step.{verb}", "citizen", at, step=step_id)
        elif verb == "asked_human":
            self.handover(step.assistance or "unknown", at)
        elif verb == "abandoned":
            self.abandon(at)
        if verdict is None:
            return
        entry["attempts"] = max(1, entry["attempts"])
        spent = st["duration_s"] if st["duration_s"] is not None else at - entry["_since"]
        entry["time_s"] = round(spent, 3)
        if verdict:
            entry["success"] = True
            if verb == "waived":
                entry["waived"] = True
            self.log.add("step.complete", "citizen", at, step=step_id, verb=verb)
            return
        self.log.add("step.fail", "citizen", at, step=step_id, reason="observed")
        if step.channel not in HUMAN_CHANNELS:
            self.failed_online = True
            reachable = self.journey.human_in_reach(step_id, self.access)
            self.human_reachable = reachable and self.human_reachable is not False

    def handover(self, point: str, at: float) -> None:
        self.log.add("human.handover", "mediator", at, point=point)
        self.outcome = "escalated_to_human"

    def abandon(self, at: float) -> None:
        self.log.add("journey.abandon", "citizen", at)
        if self.outcome not in ("escalated_to_human", "completed"):
            self.outcome = "abandoned"

    def whole_journey(self, st: dict[str, Any], at: float) -> None:
        verb = st["verb"]
        verdict = succeeded(st)
        if verb in ("launched", "initialized"):
            self.log.add(
                "journey.launch" if verb == "launched" else "journey.start",
                "citizen",
                at,
                journey=self.journey.id,
            )
        elif verb == "abandoned":
            self.abandon(at)
        elif verb == "terminated":
            self.log.add("journey.terminate", "citizen", at)
        elif verb == "asked_human":
            self.handover("unknown", at)
        elif verb in ("suspended", "resumed"):
            self.log.add(f"journey.{verb}", "citizen", at)
        if st["duration_s"] is not None and verb in (
            "completed",
            "passed",
            "failed",
            "terminated",
            "abandoned",
        ):
            self.journey_duration = st["duration_s"]
        if verdict is True:
            self.flags["waived"] = self.flags["waived"] or verb == "waived"
            self.log.add("journey.complete", "citizen", at, verb=verb)
            if self.outcome != "escalated_to_human":
                self.outcome = "completed"
        elif verdict is False:
            self.flags["journey_failed"] = True
            self.log.add("journey.fail", "citizen", at)

    def read(self, st: dict[str, Any]) -> None:
        at = max(0.0, (_at(st["timestamp"]) - self.start).total_seconds())
        kind = st["kind"]
        if kind == "voiding":
            # Administrative: recorded, but it says nothing of the citizen's time.
            self.flags["voided"] += 1
            self.log.add("xapi.voided", "lrs", at, statement=st["target"])
            return
        self.clock = max(self.clock, at)
        noted = self.immersion.read(st)
        if noted == "channel.switch":
            self.log.add(noted, "citizen", at, to="accessible_twin", step=self.immersion.switched_at)
        elif noted == "comfort.setting":
            detail = st.get("detail") or {}
            self.log.add(
                noted, "citizen", at, setting=detail.get("comfort-setting"), value=detail.get("comfort-value")
            )
        if kind == "step":
            self.step(st, at)
        elif kind == "assistance":
            self.handover(st["target"], at)
        elif kind == "journey":
            self.whole_journey(st, at)
        else:
            self.flags["unmapped"] += 1
            self.log.add("activity.unmapped", "citizen", at, activity=st["target"], verb=st["verb"])
            if st["verb"] == "abandoned":
                self.abandon(at)


def session_from_statements(journey: Journey, plan: SessionPlan) -> SessionRecord:
    """The record of one observed session: steps, channels and outcome read from its statements."""
    session = _Session(journey, plan)
    for st in plan.source["statements"]:
        session.read(st)
    if session.failed_online and session.outcome == "escalated_to_human":
        session.human_reachable = True  # observed: this person did get to a human
    steps = [{k: v for k, v in session.steps[s].items() if k != "_since"} for s in session.order]
    duration = session.journey_duration if session.journey_duration is not None else session.clock
    immersive = session.immersion.record()
    extra = {"immersive": immersive} if immersive is not None else {}
    return journey_record(
        journey,
        plan,
        session.log,
        outcome=session.outcome,
        clock=duration,
        steps=steps,
        channels=session.channels,
        fallback_used=len({journey.step(s).channel for s in session.order}) > 1,
        failed_online=session.failed_online,
        human_reachable_on_failure=session.human_reachable,
        registration=plan.source.get("registration_hash"),
        observed=True,
        actor_kind=plan.source.get("actor_kind", "agent"),
        group_members=plan.source.get("group_members"),
        waived=session.flags["waived"],
        journey_failed=session.flags["journey_failed"],
        voided_statements=session.flags["voided"],
        unmapped_statements=session.flags["unmapped"],
        **extra,
    )
