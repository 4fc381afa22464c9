"""The load the run's sessions put on human channels with capacity, before the sessions are recorded.

Every session is walked once without recording (`simulate.request_of`) to learn when it asks which
point; the queues then run over those arrivals (`queueing`), and each plan carries its own outcome in
`plan.source["queue"]`, so that the recorded session, wherever it runs, tells the same story.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from civiclab import PilotContext, SessionPlan, sample_plans
from pilots.journey.model import Journey
from pilots.journey.queueing import DAY_S, Request, day_zero, simulate_queue, staffed_frame
from pilots.journey.simulate import request_of


def plans_with_queues(
    journey: Journey, context: PilotContext, sessions: int, seed: int, spacing_s: float = 60.0
) -> tuple[list[SessionPlan], dict[str, Any]]:
    """The run's plans with each queued session's outcome, and the frame of staffed time per point."""
    plans = sample_plans(context.personas, sessions, seed)
    zero = day_zero(context.start)
    offset = (context.start - zero).total_seconds()
    capacities = {a.id: a.capacity for a in journey.assistance_points if a.capacity is not None}
    requests: dict[str, list[Request]] = defaultdict(list)
    for plan in plans:
        asks = request_of(journey, plan)
        if asks is None:
            continue
        capacity = capacities[asks.point]
        # The session's clock starts `spacing_s` per session after the population's start
        # (`JourneyPilot.session_start`): its arrival, counted from day 0 at midnight.
        requests[asks.point].append(
            Request(
                session_id=plan.session_id,
                index=plan.index,
                point=asks.point,
                arrival_s=offset + plan.index * spacing_s + asks.at_s,
                service_s=asks.service_s,
                patience_s=asks.patience_s,
                returns=asks.returns,
                prioritised=capacity.is_prioritised(plan.segment),
            )
        )
    by_session: dict[str, dict[str, Any]] = {}
    for point, capacity in capacities.items():
        by_session.update(simulate_queue(capacity, requests.get(point, []), zero))
    last = max(
        (o["arrival_s"] + o["deferred_s"] + o["wait_s"] + o["service_s"] for o in by_session.values()),
        default=offset,
    )
    days = max(1, math.ceil(max(last, offset + len(plans) * spacing_s) / DAY_S))
    frames = {point: staffed_frame(capacity, zero, days) for point, capacity in capacities.items()}
    for plan in plans:
        outcome = by_session.get(plan.session_id)
        if outcome is not None:
            plan.source = {"queue": outcome}
    workload = {"day_zero": zero.isoformat(), "days": days, "points": frames}
    return plans, workload
