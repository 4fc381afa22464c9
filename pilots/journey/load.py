"""The load the run's sessions put on human channels with capacity, before the sessions are recorded.

Every session is walked once without recording (`simulate.request_of`) to learn when it asks which
point; the queues then run over those arrivals (`queueing`), and each plan carries its own outcome in
`plan.source["queue"]`, so that the recorded session, wherever it runs, tells the same story. Plans are
drawn as they are walked, and given again as they run (`QueuedPlans`) from two numbers kept a session (its
persona and seed: 8 bytes, 8 MB at a million sessions) and one small outcome per request, never the plans.
"""

from __future__ import annotations

import math
from array import array
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any, overload

from civiclab import PilotContext, SessionPlan, iter_plans, replay_plans
from pilots.journey.model import Journey
from pilots.journey.queueing import DAY_S, Request, day_zero, simulate_queue, staffed_frame
from pilots.journey.simulate import request_of


class QueuedPlans(Sequence[SessionPlan]):
    """The run's plans, drawn lazily from the personas (as the runner would), each queued one with its
    outcome. Supports what the runner does with listed plans: `len`, iteration, and a tail `[start:]`."""

    def __init__(
        self,
        context: PilotContext,
        drawn: tuple[array[int], array[int]],
        outcomes: dict[str, dict[str, Any]],
        start: int = 0,
    ) -> None:
        self.context, self.drawn, self.outcomes, self.start = context, drawn, outcomes, start

    def __len__(self) -> int:
        return len(self.drawn[0]) - self.start

    def __iter__(self) -> Iterator[SessionPlan]:
        picks, seeds = self.drawn
        for plan in replay_plans(self.context.personas, picks, seeds, start=self.start):
            outcome = self.outcomes.get(plan.session_id)
            if outcome is not None:
                plan.source = {"queue": outcome}
            yield plan

    @overload
    def __getitem__(self, index: int) -> SessionPlan: ...
    @overload
    def __getitem__(self, index: slice) -> QueuedPlans: ...
    def __getitem__(self, index: int | slice) -> SessionPlan | QueuedPlans:
        if isinstance(index, slice):
            begin, stop, step = index.indices(len(self))
            if step != 1 or stop != len(self):
                raise IndexError("queued plans are read from an index to the end")
            return QueuedPlans(self.context, self.drawn, self.outcomes, self.start + begin)
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError(index)
        for i, plan in enumerate(self):
            if i == position:
                return plan
        raise IndexError(index)


def plans_with_queues(
    journey: Journey, context: PilotContext, sessions: int, seed: int, spacing_s: float = 60.0
) -> tuple[QueuedPlans, dict[str, Any]]:
    """The run's plans with each queued session's outcome, and the frame of staffed time per point."""
    zero = day_zero(context.start)
    offset = (context.start - zero).total_seconds()
    capacities = {a.id: a.capacity for a in journey.assistance_points if a.capacity is not None}
    requests: dict[str, list[Request]] = defaultdict(list)
    persona_index = {p.id: i for i, p in enumerate(context.personas)}
    picks, seeds = array("I"), array("I")
    for plan in iter_plans(context.personas, sessions, seed):
        picks.append(persona_index[plan.persona_id])
        seeds.append(plan.seed)
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
    outcomes: dict[str, dict[str, Any]] = {}
    for point, capacity in capacities.items():
        outcomes.update(simulate_queue(capacity, requests.get(point, []), zero))
    last = max(
        (o["arrival_s"] + o["deferred_s"] + o["wait_s"] + o["service_s"] for o in outcomes.values()),
        default=offset,
    )
    days = max(1, math.ceil(max(last, offset + sessions * spacing_s) / DAY_S))
    frames = {point: staffed_frame(capacity, zero, days) for point, capacity in capacities.items()}
    workload = {"day_zero": zero.isoformat(), "days": days, "points": frames}
    return QueuedPlans(context, (picks, seeds), outcomes), workload
