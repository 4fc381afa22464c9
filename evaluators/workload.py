"""The agents' side of a journey: the load that human channels with capacity carry, and who waits.

Read from the sessions' `data.queue` (a session's turn at a point with capacity: arrival, wait, service,
`served | lost | closed`) and from the pilot's facts `workload` (per point, per day and hour of day, the
seconds open and the agent-seconds on duty). Times of day count from midnight of the run's day 0.

Per point, overall and per hour of the day (suffix `.hHH`):
- `requests_handled`, `agent_minutes`: totals over the simulated horizon (no interval: counts);
- `utilisation`: agent time serving / agent time on duty; `queue_length_mean`: people waiting on
  average while open (Little's law: waiting seconds / open seconds). Both are ratios of sums with a
  BCa bootstrap interval over days (days are the unit that repeats);
- `wait_median_s`, `wait_p90_s`: waits of the people served, with order-statistic intervals;
- `lost_to_patience`: of those who queued, the share who gave up (Wilson); `turned_away`: of those who
  asked, the share who found the channel closed.
Per group (k-anonymous): `waited_for_human` (of all sessions, the share that queued for a person) and
`human_reached_under_load` (of the sessions that asked a point with capacity, the share an agent served).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from civiclab import (
    OVERALL,
    Estimate,
    GroupTally,
    Metric,
    RunData,
    group_keys,
    group_name,
    metric_from,
    proportion,
    quantile,
    statistic,
)

DIM = "human_centered"
DAY_S = 86_400


class WorkloadFacts(BaseModel):
    """What this module reads of a pilot's facts."""

    workload: dict[str, Any] | None = None


@dataclass
class PointTally:
    """One point's requests, kept as small tuples (only sessions that asked a point with capacity)."""

    waits: list[tuple[int, float]] = field(default_factory=list)  # (hour of joining, wait) of those served
    statuses: list[tuple[int, str]] = field(default_factory=list)  # (hour of asking, status)
    busy: dict[tuple[int, int], float] = field(default_factory=lambda: defaultdict(float))  # (day, hour)
    waiting: dict[tuple[int, int], float] = field(default_factory=lambda: defaultdict(float))

    def add(self, queue: dict[str, Any]) -> None:
        arrival = float(queue["arrival_s"])
        joined = arrival + float(queue.get("deferred_s", 0.0))
        wait = float(queue["wait_s"])
        status = str(queue["status"])
        self.statuses.append((_hour(arrival), status))
        if status == "closed":
            return
        _spread(self.waiting, joined, joined + wait)
        if status == "served":
            self.waits.append((_hour(joined), wait))
            _spread(self.busy, joined + wait, joined + wait + float(queue["service_s"]))


def _hour(at_s: float) -> int:
    return int(at_s % DAY_S // 3600)


def _spread(into: dict[tuple[int, int], float], start: float, end: float) -> None:
    """Add the seconds from start to end to each (day, hour) they cover."""
    cursor = start
    while cursor < end:
        edge = min(end, (cursor // 3600 + 1) * 3600)
        day, hour = divmod(int(cursor // 3600), 24)
        into[(day, hour)] += edge - cursor
        cursor = edge


def _ratio_over_days(
    top: dict[tuple[int, int], float], bottom: list[list[float]], hour: int | None, seed: int
) -> Estimate:
    """Sum of `top` / sum of `bottom` over the days with some `bottom`, BCa-bootstrapped over days."""
    rows = []
    for day, hours in enumerate(bottom):
        picked = range(24) if hour is None else (hour,)
        below = sum(hours[h] for h in picked)
        if below > 0:
            rows.append((sum(top.get((day, h), 0.0) for h in picked), below))
    if not rows:
        return Estimate(None, None, None, 0)
    return statistic(rows, lambda a: a[..., 0].sum(axis=-1) / a[..., 1].sum(axis=-1), seed=seed)


def workload_metrics(run: RunData) -> list[Metric]:
    """The agents' workload per point and hour, and who waits per group (see the module docstring)."""
    facts = run.facts_as(WorkloadFacts)
    frame = (facts.workload if facts is not None else None) or {}
    points: dict[str, dict[str, Any]] = frame.get("points") or {}
    if not points:
        return []
    tallies: dict[str, PointTally] = {p: PointTally() for p in points}
    groups = GroupTally()
    for row in run.rows():
        queue = (row.get("data") or {}).get("queue")
        props = ["session"]
        if queue is not None and queue.get("point") in tallies:
            tallies[queue["point"]].add(queue)
            props.append("asked")
            props += ["queued"] if queue["status"] != "closed" else []
            props += ["reached"] if queue["status"] == "served" else []
        groups.add(group_keys(row["segment"]), props)
    out: list[Metric] = []
    for point, tally in tallies.items():
        out += _point_metrics(point, tally, points[point], run.seed)
    everyone = groups.shown("session", run.k, crossed=False)
    asked = groups.shown("asked", run.k, crossed=False, within=everyone)
    for name, hit, of, keys, better in (
        ("waited_for_human", "queued", "session", everyone, None),
        ("human_reached_under_load", "reached", "asked", asked, True),
    ):
        for key in (OVERALL, *keys):
            out.append(
                metric_from(
                    f"{DIM}.{name}",
                    proportion(groups.count(hit, key), groups.count(of, key)),
                    dimension=DIM,
                    unit="share",
                    higher_is_better=better,
                    segment=group_name(key),
                )
            )
    return out


def _point_metrics(point: str, tally: PointTally, frame: dict[str, Any], seed: int) -> list[Metric]:
    out: list[Metric] = []
    open_s, staffed_s = frame["open_s"], frame["staffed_s"]
    open_hours = sorted({h for day in open_s for h in range(24) if day[h] > 0})
    for hour in (None, *open_hours):
        suffix = f".{point}" + ("" if hour is None else f".h{hour:02d}")
        in_slot = [w for h, w in tally.waits if hour is None or h == hour]
        statuses = [s for h, s in tally.statuses if hour is None or h == hour]
        busy = {k: v for k, v in tally.busy.items() if hour is None or k[1] == hour}
        served = [s == "served" for s in statuses]
        queued = [s for s in statuses if s != "closed"]
        figures: list[tuple[str, Estimate, str, bool | None]] = [
            ("requests_handled", Estimate(float(sum(served)), None, None, len(statuses)), "requests", None),
            (
                "agent_minutes",
                Estimate(round(sum(busy.values()) / 60, 3), None, None, len(in_slot)),
                "min",
                None,
            ),
            ("utilisation", _ratio_over_days(tally.busy, staffed_s, hour, seed), "share", None),
            ("queue_length_mean", _ratio_over_days(tally.waiting, open_s, hour, seed), "people", False),
            ("wait_median_s", quantile(in_slot, 0.5), "s", False),
            ("wait_p90_s", quantile(in_slot, 0.9), "s", False),
            ("lost_to_patience", proportion(sum(s == "lost" for s in queued), len(queued)), "share", False),
            ("turned_away", proportion(sum(s == "closed" for s in statuses), len(statuses)), "share", False),
        ]
        for name, estimate, unit, better in figures:
            out.append(
                metric_from(
                    f"{DIM}.{name}{suffix}", estimate, dimension=DIM, unit=unit, higher_is_better=better
                )
            )
    return out
