"""Human-centred outcomes: completion, abandonment (a funnel), escalation, time on task, equity."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from civiclab import (
    OVERALL,
    GroupKey,
    GroupTally,
    Metric,
    QuantileSketch,
    RunData,
    SegmentValues,
    equity,
    evaluator,
    group_keys,
    group_name,
    metric_from,
    proportion,
)
from evaluators.workload import workload_metrics


class FunnelStep(BaseModel):
    id: str
    next: str | None = None


class FunnelGraph(BaseModel):
    start: str
    steps: list[FunnelStep]


class FunnelFacts(BaseModel):
    """What this evaluator reads of a pilot's facts: the journey graph, to order the funnel's steps."""

    journey: FunnelGraph | None = None
    synthetic: str | None = None


DIM = "human_centered"
NON_DIGITAL = frozenset({"phone", "counter", "mail", "video"})
"""Channels where a person, not a screen, serves the citizen (journey channels and assistance points)."""


class HumanCenteredParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resamples: int = Field(
        default=1000, ge=100, le=20000, description="kept for older specs: no interval here resamples"
    )
    equity_metric: str = Field(default="completion_rate", description="rate whose segment gap is reported")
    funnel_plot: bool = Field(
        default=False,
        description="also write plots/funnel.png with the run (reports draw the funnel from the "
        "funnel_reached metrics anyway; drawing it costs about a second per run)",
    )


def _properties(row: dict[str, Any]) -> list[str]:
    """The populations and properties one session counts towards (see `human_centered`)."""
    outcome = row["outcome"]
    props = ["session", outcome]
    if outcome in ("completed", "escalated_to_human"):
        props.append("resolved")
    data = row.get("data") or {}
    if data.get("fallback_used"):
        props.append("fallback")
    if data.get("failed_online"):
        reachable = data.get("human_reachable_on_failure")
        # Defined only for sessions that failed on a digital channel and say whether a human was
        # in reach; a session where it does not apply is left out, never counted as "not reachable".
        if reachable is not None:
            props.append("reach_known")
            if reachable:
                props.append("reach_yes")
        human = NON_DIGITAL.intersection(row.get("channel_path") or ())
        if not (outcome == "completed" and not human):  # the digital journey did not serve them
            props.append("needed_other")
            if outcome == "escalated_to_human" or (outcome == "completed" and human):
                props.append("resolved_offline")
    return props


Signature = tuple[tuple[tuple[str, str], ...], tuple[str, ...]]
"""A session's segment and properties: sessions that share one count towards the same groups."""


@dataclass
class JourneyTally:
    """What this evaluator keeps of a run, filled in one streaming pass: counts, never records.

    Per group (segment and intersection): sessions with each property; per segment: the times of
    completed sessions (a quantile sketch, exact up to 200,000 values); per step: sessions reaching
    it and sessions giving up there. Sessions are first counted by signature (segment, properties)
    and spread over their groups once at the end. Memory grows with the number of distinct
    segments, not of sessions.
    """

    signatures: Counter[Signature] = field(default_factory=Counter)
    segment_times: dict[tuple[tuple[str, str], ...], QuantileSketch] = field(default_factory=dict)
    reached: Counter[str] = field(default_factory=Counter)
    stopped: Counter[str] = field(default_factory=Counter)
    _groups: GroupTally | None = None
    _times: SegmentValues | None = None

    def add(self, row: dict[str, Any]) -> None:
        segment = tuple(row["segment"].items())
        self.signatures[(segment, tuple(_properties(row)))] += 1
        if row["outcome"] == "completed":
            sketch = self.segment_times.get(segment)
            if sketch is None:
                sketch = self.segment_times[segment] = QuantileSketch()
            sketch.add(float(row["duration_s"]))
        steps = row.get("steps")
        if steps:
            seen = [s["step"] for s in steps]
            self.reached.update(set(seen))
            if row["outcome"] == "abandoned":
                self.stopped[seen[-1]] += 1

    @property
    def groups(self) -> GroupTally:
        """Sessions with each property, per group."""
        if self._groups is None:
            self._groups = GroupTally()
            for (segment, props), n in self.signatures.items():
                self._groups.add(group_keys(dict(segment)), props, n)
        return self._groups

    @property
    def times(self) -> SegmentValues:
        """Times of completed sessions, overall and per segment."""
        if self._times is None:
            self._times = SegmentValues()
            for segment, sketch in self.segment_times.items():
                self._times.merge_segment(dict(segment), sketch)
        return self._times

    @property
    def total(self) -> int:
        return self.groups.count("session")

    def funnel(self, order: list[str]) -> list[str]:
        return [s for s in order if s in self.reached] + sorted(s for s in self.reached if s not in order)

    def rates(
        self, name: str, hit: str, of: str, keys: list[GroupKey], *, higher_is_better: bool | None
    ) -> list[Metric]:
        """`hit` out of `of`, overall and for each group in `keys`, with Wilson intervals."""
        return [
            metric_from(
                name,
                proportion(self.groups.count(hit, key), self.groups.count(of, key)),
                dimension=DIM,
                unit_of_replication="session",
                unit="share",
                higher_is_better=higher_is_better,
                segment=group_name(key),
            )
            for key in (OVERALL, *keys)
        ]


@evaluator(
    "human_centered",
    dimension=DIM,
    params=HumanCenteredParams,
    metrics={
        "human_centered.completion_rate": "share of sessions completed without help",
        "human_centered.resolution_rate": "share completed, or handed to a human",
        "human_centered.abandonment_rate": "share of sessions given up",
        "human_centered.escalation_rate": "share handed over to a human",
        "human_centered.fallback_rate": "share that switched to another channel",
        "human_centered.human_reachable_on_failure": "of sessions failing online, share with a human in reach",
        "human_centered.offline_resolution_rate": "of sessions that failed online and did not finish "
        "online, share resolved through a phone, a counter or a human",
        "human_centered.time_on_task_median_s": "median time of completed sessions",
        "human_centered.time_on_task_p90_s": "90th percentile time of completed sessions",
        "human_centered.step_abandonment.<step>": "share of sessions reaching a step that gave up there",
        "human_centered.equity_gap": "worst-off vs best-off segment of one attribute on the equity metric (widest)",
        "human_centered.equity_ratio": "worst-off / best-off segment of one attribute (smallest)",
        "human_centered.equity_gap.<attribute>": "worst-off vs best-off within this attribute (or pair a_x_b)",
        "human_centered.equity_ratio.<attribute>": "worst-off / best-off within this attribute (or pair a_x_b)",
        "human_centered.<figure>.<point>[.hHH]": "human channels with capacity, per point and hour: "
        "requests_handled, agent_minutes, utilisation, queue_length_mean, wait_median_s, wait_p90_s, "
        "lost_to_patience, turned_away (evaluators/workload.py)",
        "human_centered.waited_for_human": "share of sessions that queued for a person (per group)",
        "human_centered.human_reached_under_load": "of sessions asking a channel with capacity, share served",
    },
)
def human_centered(run: RunData, params: HumanCenteredParams) -> list[Metric]:
    """Completion, abandonment funnel, escalation and time on task, overall and per segment.

    One streaming pass over the records fills a `JourneyTally`; every figure comes from its counts.
    """
    tally = JourneyTally()
    for row in run.rows():
        tally.add(row)
    k = run.k
    everyone = tally.groups.shown("session", k, crossed=False)
    everyone_crossed = tally.groups.shown("session", k, crossed=True)
    out: list[Metric] = []
    for name, what, better, crossed in (
        ("completion_rate", "completed", True, True),
        ("resolution_rate", "resolved", True, True),
        ("abandonment_rate", "abandoned", False, True),
        ("escalation_rate", "escalated_to_human", None, False),
        ("fallback_rate", "fallback", None, False),
        ("failure_rate", "failed", False, False),
    ):
        keys = everyone_crossed if crossed else everyone
        out += tally.rates(f"{DIM}.{name}", what, "session", keys, higher_is_better=better)

    reach = tally.rates(
        f"{DIM}.human_reachable_on_failure",
        "reach_yes",
        "reach_known",
        tally.groups.shown("reach_known", k, crossed=True, within=everyone_crossed),
        higher_is_better=True,
    )
    if reach[0].n == 0:
        reach[0].note = "no session failed on a digital channel"
    out += reach
    # Whether other channels are really open: of the people the digital journey did not serve (it
    # failed them and they did not finish online), how many a non-digital channel resolved.
    out += tally.rates(
        f"{DIM}.offline_resolution_rate",
        "resolved_offline",
        "needed_other",
        tally.groups.shown("needed_other", k, crossed=True, within=everyone_crossed),
        higher_is_better=True,
    )

    # Times of completed sessions only: the others did not finish, their time is not a time on task.
    timed = tally.groups.shown("completed", k, crossed=False, within=everyone)
    for name, q in (("time_on_task_median_s", 0.5), ("time_on_task_p90_s", 0.9)):
        for key in (OVERALL, *timed):
            segment = group_name(key)
            out.append(
                metric_from(
                    f"{DIM}.{name}",
                    tally.times.get(segment).estimate(q),
                    dimension=DIM,
                    unit_of_replication="session",
                    unit="s",
                    higher_is_better=False,
                    segment=segment,
                )
            )

    order: list[str] = []
    facts = run.facts_as(FunnelFacts)
    if facts is not None and facts.journey is not None:
        next_of = {step.id: step.next for step in facts.journey.steps}
        cursor: str | None = facts.journey.start
        while cursor is not None and cursor not in order:
            order.append(cursor)
            cursor = next_of.get(cursor)
    steps, reached, stopped, total = tally.funnel(order), tally.reached, tally.stopped, tally.total
    for step in steps:
        # Of the sessions that reached the step (the others are not in the denominator).
        est = proportion(stopped.get(step, 0), reached[step])
        out.append(
            metric_from(
                f"{DIM}.step_abandonment.{step}",
                est,
                dimension=DIM,
                unit="share",
                higher_is_better=False,
                unit_of_replication="session",
            )
        )
        out.append(
            metric_from(
                f"{DIM}.funnel_reached.{step}",
                proportion(reached[step], total),
                dimension=DIM,
                unit_of_replication="session",
                unit="share",
            )
        )
    if steps and params.funnel_plot and total:
        from civiclab import funnel_plot

        plot = funnel_plot(out)
        if plot is not None:
            path = run.artifact_dir / "plots" / "funnel.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(plot.png)
            run.add_artifact(path)

    out += equity(out, f"{DIM}.{params.equity_metric}", k)
    out += workload_metrics(run)  # human channels with capacity: the agents' side
    if facts is not None and facts.synthetic:
        for m in out:  # a simulation says how a model behaves, not how citizens fared
            m.synthetic = facts.synthetic
    return out
