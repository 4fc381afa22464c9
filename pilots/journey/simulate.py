"""Simulate one citizen walking a journey under the behavioural model (see `behaviour`)."""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

from civiclab import EventLog, SessionPlan, SessionRecord
from pilots.journey import behaviour
from pilots.journey.model import HUMAN_CHANNELS, Journey
from pilots.journey.record import journey_record

MAX_STEPS = 200


class _Unrecorded(EventLog):
    """The log of a walk made only to learn when a session asks a human: it keeps nothing."""

    def add(self, kind: str, actor: str, at_s: float, **payload: Any) -> Any:
        return None


class AsksHuman(Exception):
    """Raised by a walk that is not recorded when the person joins a queue (see `request_of`)."""

    def __init__(self, point: str, at_s: float, service_s: float, patience_s: float, returns: float) -> None:
        self.point, self.at_s, self.service_s, self.patience_s = point, at_s, service_s, patience_s
        self.returns = returns  # when closed: how far into the next open day the person comes back (0-1)


def request_of(journey: Journey, plan: SessionPlan) -> AsksHuman | None:
    """Walk the session without recording it: where and when it joins a queue, or None."""
    try:
        _walk(journey, plan, _Unrecorded(plan.session_id, dt.datetime.min), queue=None)
    except AsksHuman as asks:
        return asks
    return None


def simulate_session(
    journey: Journey, plan: SessionPlan, start: dt.datetime, queue: dict[str, Any] | None = None
) -> SessionRecord:
    """Walk the journey for the plan's persona; deterministic given the plan's seed.

    `queue` is this session's outcome at a point with capacity (`queueing`), when it asks one.
    """
    record = _walk(journey, plan, EventLog(plan.session_id, start), queue)
    assert record is not None
    return record


def _walk(
    journey: Journey, plan: SessionPlan, log: EventLog, queue: dict[str, Any] | None
) -> SessionRecord | None:
    rng = random.Random(plan.seed)
    profile = behaviour.Profile.from_plan(plan.segment, plan.traits)
    access = profile.access
    memo = journey.memo
    patience = behaviour.patience_budget(rng, profile)
    clock = 0.0
    steps: list[dict[str, Any]] = []
    channels: list[str] = []
    failed_online = False
    human_reachable_on_failure: bool | None = None
    fallback_used = False
    queued: dict[str, Any] | None = None
    outcome = "completed"
    log.add("journey.start", "citizen", clock, journey=journey.id, persona=plan.persona_id)
    cursor: str | None = journey.start
    for _ in range(MAX_STEPS):
        if cursor is None:
            break
        step = journey.step(cursor)
        if not channels or channels[-1] != step.channel:
            channels.append(step.channel)
        log.add("step.enter", "citizen", clock, step=step.id, channel=step.channel)
        odds = memo.get((profile, step.id))
        if odds is None:
            odds = memo[(profile, step.id)] = behaviour.step_odds(profile, step)
        usable, p = odds.usable, odds.success
        attempts = 0
        succeeded = False
        step_time = 0.0
        while usable and attempts < profile.persistence:
            attempts += 1
            spent = rng.lognormvariate(odds.log_median_s, odds.sigma) * (1.0 if attempts == 1 else 0.7)
            clock += spent
            step_time += spent
            ok = rng.random() < p
            log.add(
                "step.attempt",
                "citizen",
                clock,
                step=step.id,
                attempt=attempts,
                success=ok,
                time_s=round(spent, 1),
            )
            if ok:
                succeeded = True
                break
            if clock > patience:
                log.add("patience.exhausted", "citizen", clock, step=step.id)
                break
        steps.append(
            {
                "step": step.id,
                "channel": step.channel,
                "attempts": attempts,
                "success": succeeded,
                "time_s": round(step_time, 3),
                "usable": usable,
            }
        )
        if succeeded:
            log.add("step.complete", "citizen", clock, step=step.id)
            cursor = step.next
            continue

        reason = "device" if not usable else ("patience" if clock > patience else "attempts")
        log.add("step.fail", "citizen", clock, step=step.id, reason=reason)
        if step.channel not in HUMAN_CHANNELS:
            # Every digital dead end must leave a person within reach, not only the first one.
            failed_online = True
            reachable = journey.human_in_reach(step.id, access)
            human_reachable_on_failure = reachable and human_reachable_on_failure is not False
        if step.fallback is not None and access.can_switch_to(journey.step(step.fallback)):
            target = journey.step(step.fallback)
            fallback_used = True
            log.add(
                "channel.fallback",
                "civiclab",
                clock,
                step=step.id,
                to_step=target.id,
                to_channel=target.channel,
            )
            cursor = target.id
            continue
        point = None if step.assistance is None else journey.assistance(step.assistance)
        # A help point is seen only from a step the persona could open, and used only if its line suits
        # them; the draw is made either way so that other sessions keep their random stream.
        asks = point is not None and rng.random() < profile.seek_help
        if point is not None and asks and usable and access.can_reach(point):
            log.add("assistance.request", "citizen", clock, point=point.id, channel=point.channel)
            # A session walked alone, outside a run's queue (`queue` None), keeps the fixed-wait model.
            if point.capacity is not None and (queue is not None or isinstance(log, _Unrecorded)):
                service_s = point.capacity.service_for(step.id).draw(rng)
                scale = (
                    float(plan.traits.get("queue_patience_s", 0)) / _centre(point.capacity.patience) or 1.0
                )
                patience_s = point.capacity.patience.draw(rng, scale)
                returns = rng.random()
                if isinstance(log, _Unrecorded):
                    raise AsksHuman(point.id, clock, service_s, patience_s, returns)
                assert queue is not None
                clock, served = _queued(log, clock, point.id, point.channel, queue)
                queued = queue
                if served:
                    if not channels or channels[-1] != point.channel:
                        channels.append(point.channel)
                    outcome = "escalated_to_human"
                    break
                # Asked and not answered (closed, or gave up waiting): no human was within reach.
                human_reachable_on_failure = False
            elif rng.random() < point.availability:
                wait = rng.lognormvariate(math.log(point.wait_median_s), 0.5)
                clock += wait
                log.add(
                    "human.handover",
                    "mediator",
                    clock,
                    point=point.id,
                    channel=point.channel,
                    wait_s=round(wait, 1),
                )
                if not channels or channels[-1] != point.channel:
                    channels.append(point.channel)
                outcome = "escalated_to_human"
                break
            else:
                log.add("assistance.unavailable", "civiclab", clock, point=point.id)
        outcome = "abandoned"
        log.add("journey.abandon", "citizen", clock, step=step.id)
        break
    else:
        outcome = "failed"
        log.add("journey.error", "civiclab", clock, reason="too many steps")
    if outcome == "completed":
        log.add("journey.complete", "citizen", clock)
    if isinstance(log, _Unrecorded):
        return None  # walked only to learn whether it queues: it did not
    return journey_record(
        journey,
        plan,
        log,
        outcome=outcome,
        clock=clock,
        steps=steps,
        channels=channels,
        fallback_used=fallback_used,
        failed_online=failed_online,
        human_reachable_on_failure=human_reachable_on_failure,
        **({"queue": queued} if queued is not None else {}),
    )


def _centre(duration: Any) -> float:
    return float(duration.median_s or duration.mean_s)


def _queued(
    log: EventLog, clock: float, point: str, channel: str, queue: dict[str, Any]
) -> tuple[float, bool]:
    """The events of this session's turn in the queue; the clock after it and whether an agent served it."""
    status, wait = queue["status"], float(queue["wait_s"])
    if status == "closed":
        log.add("assistance.closed", "civiclab", clock, point=point)
        return clock, False
    deferred = float(queue.get("deferred_s", 0.0))
    if deferred:
        log.add("assistance.closed", "civiclab", clock, point=point, comes_back_s=round(deferred, 1))
        clock += deferred
    log.add("queue.join", "citizen", clock, point=point)
    clock += wait
    if status == "lost":
        log.add("queue.gave_up", "citizen", clock, point=point, wait_s=round(wait, 1))
        return clock, False
    log.add("human.handover", "mediator", clock, point=point, channel=channel, wait_s=round(wait, 1))
    clock += float(queue["service_s"])
    log.add("human.done", "mediator", clock, point=point, service_s=round(float(queue["service_s"]), 1))
    return clock, True
