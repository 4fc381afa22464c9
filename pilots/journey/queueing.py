"""The queues at human channels with capacity: a discrete-event model (SimPy) over the run's requests.

Each session decides on its own (from its own seed) whether and when it asks a human, how long its
request would take an agent and how long the person would wait. Who is served when depends on every
other request at the same point, so the queue cannot be simulated inside a session (sessions run in any
order, in other processes). The pilot therefore walks every session once without recording it, collects
the requests, runs the queues here in time order (ties broken by session index: deterministic), and hands
each session its own outcome through its plan. Serial and pooled runs give the same records.

The model, per assistance point with `capacity`:
- a request arriving while the channel is closed is turned away (`closed`: no one answers), or with
  `when_closed: next_opening` the person comes back on the next open day, at a moment of its opening
  hours drawn by the session (uniform over the first 90%), and queues from then;
- agents on duty are a SimPy `PriorityResource` with as many units as the most agents ever on duty;
  units off duty (a smaller slot, closed hours) are held by placeholders that take the next agent who
  becomes free, so an agent finishes the request in hand before leaving;
- the queue is first come, first served, or with `discipline: priority` the named groups first;
- a person waits up to their patience, then gives up (`lost`); once an agent takes the request,
  they stay until it is done (`served`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from typing import Any

from pilots.journey.capacity import Capacity, clock_s

DAY_S = 86_400
OFF_DUTY = -1  # placeholders for agents off duty go before anyone waiting


@dataclass(frozen=True)
class Request:
    """A person asking a human at a point with capacity; times in seconds since the run's day 0, 00:00."""

    session_id: str
    index: int
    point: str
    arrival_s: float
    service_s: float
    patience_s: float
    returns: float = 0.0
    """With `when_closed: next_opening`: how far into that open day the person comes back (0 to 1)."""
    prioritised: bool = False


def day_zero(origin: dt.datetime) -> dt.datetime:
    """Midnight of the population's start: time slots and opening hours are counted from it."""
    return origin.replace(hour=0, minute=0, second=0, microsecond=0)


def on_duty(capacity: Capacity, zero: dt.datetime, at_s: float) -> int:
    return capacity.staff_at(zero + dt.timedelta(seconds=at_s))


def change_points(capacity: Capacity, horizon_s: float) -> list[int]:
    """Seconds since day 0 where the number on duty may change, up to the horizon."""
    marks = capacity.boundaries()
    days = int(horizon_s // DAY_S) + 1
    return [day * DAY_S + mark for day in range(days) for mark in marks if day * DAY_S + mark <= horizon_s]


def off_duty_spans(capacity: Capacity, zero: dt.datetime, horizon_s: float) -> list[list[tuple[int, int]]]:
    """For each unit of the resource, the spans (start, end) when it is off duty."""
    points = change_points(capacity, horizon_s)
    units = max(1, capacity.max_staff)
    spans: list[list[tuple[int, int]]] = [[] for _ in range(units)]
    ends = [*points[1:], int(horizon_s) + 1]
    for start, end in zip(points, ends, strict=True):
        staff = on_duty(capacity, zero, start)
        for unit in range(staff, units):
            mine = spans[unit]
            if mine and mine[-1][1] == start:
                mine[-1] = (mine[-1][0], end)  # one placeholder across adjacent spans: no gap to slip in
            else:
                mine.append((start, end))
    return spans


def simulate_queue(
    capacity: Capacity, requests: Iterable[Request], zero: dt.datetime
) -> dict[str, dict[str, Any]]:
    """Run one point's queue; the outcome of each request, by session id."""
    import simpy

    ordered = sorted(requests, key=lambda r: (r.arrival_s, r.index))
    outcomes: dict[str, dict[str, Any]] = {}
    if not ordered:
        return outcomes
    joins_at = {r.session_id: _joins_at(capacity, zero, r) for r in ordered}
    latest = max((j for j in joins_at.values() if j is not None), default=ordered[-1].arrival_s)
    horizon = max(latest, ordered[-1].arrival_s) + max(r.patience_s for r in ordered) + 1
    env = simpy.Environment()
    agents = simpy.PriorityResource(env, capacity=max(1, capacity.max_staff))

    def placeholder(start: int, end: int) -> Generator[Any, Any, None]:
        yield env.timeout(start)
        claim = agents.request(priority=OFF_DUTY)
        got = yield claim | env.timeout(end - start)
        if claim not in got:
            claim.cancel()
            return
        yield env.timeout(max(0.0, end - env.now))
        agents.release(claim)

    def person(req: Request) -> Generator[Any, Any, None]:
        joins = joins_at[req.session_id]
        if joins is None:
            outcomes[req.session_id] = _outcome(req, "closed", 0.0)
            return
        if joins > env.now:  # closed: the person comes back at the opening
            yield env.timeout(joins - env.now)
        claim = agents.request(priority=0 if req.prioritised else 1)
        got = yield claim | env.timeout(req.patience_s)
        if claim not in got:
            claim.cancel()
            outcomes[req.session_id] = _outcome(req, "lost", req.patience_s, joins - req.arrival_s)
            return
        outcomes[req.session_id] = _outcome(req, "served", env.now - joins, joins - req.arrival_s)
        yield env.timeout(req.service_s)
        agents.release(claim)

    def arrivals() -> Generator[Any, Any, None]:
        for req in ordered:
            yield env.timeout(max(0.0, req.arrival_s - env.now))
            env.process(person(req))

    for unit_spans in off_duty_spans(capacity, zero, horizon):
        for start, end in unit_spans:
            env.process(placeholder(start, end))
    env.process(arrivals())
    env.run()
    return outcomes


def _joins_at(capacity: Capacity, zero: dt.datetime, req: Request) -> float | None:
    """When the person joins the queue: on arrival if open; else, when the channel sends people to its
    next opening, at a moment of that open day drawn by the session (`returns`); or never."""
    at = zero + dt.timedelta(seconds=req.arrival_s)
    if capacity.is_open(at):
        return req.arrival_s
    if capacity.when_closed == "turn_away":
        return None
    opening = capacity.next_opening(at)
    if opening is None:
        return None
    day_open = clock_s(capacity.hours.close) - clock_s(capacity.hours.open)
    back = opening + dt.timedelta(seconds=req.returns * day_open * 0.9)  # not in the last minutes
    return (back - zero).total_seconds()


def _outcome(req: Request, status: str, wait_s: float, deferred_s: float = 0.0) -> dict[str, Any]:
    """What the session is told: `wait_s` in the queue, after `deferred_s` until the channel opened."""
    return {
        "point": req.point,
        "status": status,
        "arrival_s": round(req.arrival_s, 3),
        "deferred_s": round(deferred_s, 3),
        "wait_s": round(wait_s, 3),
        "service_s": round(req.service_s, 3) if status == "served" else 0.0,
    }


def staffed_frame(capacity: Capacity, zero: dt.datetime, days: int) -> dict[str, list[list[float]]]:
    """Per day and hour of day, the seconds the point was open and the agent-seconds on duty.

    What utilisation and the mean queue length are divided by; evaluators read it from the pilot's
    facts (they never import this module).
    """
    open_s = [[0.0] * 24 for _ in range(days)]
    staffed_s = [[0.0] * 24 for _ in range(days)]
    points = change_points(capacity, days * DAY_S)
    ends = [*points[1:], days * DAY_S]
    for start, end in zip(points, ends, strict=True):
        staff = on_duty(capacity, zero, start)
        is_open = capacity.is_open(zero + dt.timedelta(seconds=start))
        cursor = start
        while cursor < end:  # spread the span over the hours it covers
            hour_end = min(end, (cursor // 3600 + 1) * 3600)
            day, hour = divmod(cursor // 3600, 24)
            if day < days:
                open_s[day][hour] += (hour_end - cursor) * is_open
                staffed_s[day][hour] += (hour_end - cursor) * staff
            cursor = hour_end
    return {"open_s": open_s, "staffed_s": staffed_s}
