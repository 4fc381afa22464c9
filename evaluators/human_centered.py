"""Human-centred outcomes: completion, abandonment (a funnel), escalation, time on task, equity."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from civiclab import stats
from civiclab.equity import equity
from civiclab.evaluation import RunData, metric_from, per_segment, per_segment_rate
from civiclab.records import Metric, SessionRecord
from civiclab.registry import evaluator


class FunnelStep(BaseModel):
    id: str
    next: str | None = None


class FunnelGraph(BaseModel):
    start: str
    steps: list[FunnelStep]


class FunnelFacts(BaseModel):
    """What this evaluator reads of a pilot's facts: the journey graph, to order the funnel's steps."""

    journey: FunnelGraph | None = None


DIM = "human_centered"
NON_DIGITAL = frozenset({"phone", "counter", "mail", "video"})
"""Channels where a person, not a screen, serves the citizen (journey channels and assistance points)."""


class HumanCenteredParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resamples: int = Field(default=1000, ge=100, le=20000, description="bootstrap resamples")
    equity_metric: str = Field(default="completion_rate", description="rate whose segment gap is reported")
    funnel_plot: bool = True


def _outcome_is(record: SessionRecord, what: str) -> bool:
    if what == "resolved":
        return record.outcome in ("completed", "escalated_to_human")
    if what == "fallback":
        return bool(record.data.get("fallback_used"))
    return record.outcome == what


def _finished_online(record: SessionRecord) -> bool:
    return record.outcome == "completed" and not NON_DIGITAL.intersection(record.channel_path)


def _resolved_offline(record: SessionRecord) -> bool:
    if record.outcome == "escalated_to_human":
        return True
    return record.outcome == "completed" and bool(NON_DIGITAL.intersection(record.channel_path))


def _funnel(
    records: list[SessionRecord], order: list[str]
) -> tuple[list[str], dict[str, int], dict[str, int]]:
    reached: Counter[str] = Counter()
    stopped: Counter[str] = Counter()
    for r in records:
        seen = [s["step"] for s in r.steps]
        reached.update(set(seen))
        if r.outcome == "abandoned" and seen:
            stopped[seen[-1]] += 1
    steps = [s for s in order if s in reached] + sorted(s for s in reached if s not in order)
    return steps, dict(reached), dict(stopped)


def _plot_funnel(path: Path, steps: list[str], reached: dict[str, int], total: int, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shares = [reached.get(s, 0) / total for s in steps]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(steps) + 1.5))
    ax.barh(range(len(steps)), shares, color="#1f5aa6")
    ax.set_yticks(range(len(steps)), labels=steps)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of sessions reaching the step")
    ax.set_title(title)
    for i, share in enumerate(shares):
        ax.text(min(share + 0.01, 0.93), i, f"{share:.0%}", va="center")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
    },
)
def human_centered(run: RunData, params: HumanCenteredParams) -> list[Metric]:
    """Completion, abandonment funnel, escalation and time on task, overall and per segment."""
    seed, b = run.seed, params.resamples
    out: list[Metric] = []
    for name, what, better, crossed in (
        ("completion_rate", "completed", True, True),
        ("resolution_rate", "resolved", True, True),
        ("abandonment_rate", "abandoned", False, True),
        ("escalation_rate", "escalated_to_human", None, False),
        ("fallback_rate", "fallback", None, False),
        ("failure_rate", "failed", False, False),
    ):
        out += per_segment_rate(
            run,
            f"{DIM}.{name}",
            [_outcome_is(r, what) for r in run.records],
            dimension=DIM,
            higher_is_better=better,
            intersections=crossed,
        )

    # Defined only for sessions that failed on a digital channel and say whether a human was in
    # reach; a session where it does not apply is left out, never counted as "not reachable".
    failed_online = [
        r
        for r in run.records
        if r.data.get("failed_online") and r.data.get("human_reachable_on_failure") is not None
    ]
    reach_rows = per_segment(
        run,
        f"{DIM}.human_reachable_on_failure",
        lambda rs: stats.rate([bool(r.data["human_reachable_on_failure"]) for r in rs]),
        dimension=DIM,
        unit="share",
        higher_is_better=True,
        records=failed_online,
        intersections=True,
    )
    if reach_rows[0].n == 0:
        reach_rows[0].note = "no session failed on a digital channel"
    out += reach_rows

    # Whether other channels are really open: of the people the digital journey did not serve (it
    # failed them and they did not finish online), how many a non-digital channel resolved.
    needed_other = [r for r in run.records if r.data.get("failed_online") and not _finished_online(r)]
    out += per_segment(
        run,
        f"{DIM}.offline_resolution_rate",
        lambda rs: stats.rate([_resolved_offline(r) for r in rs]),
        dimension=DIM,
        unit="share",
        higher_is_better=True,
        records=needed_other,
        intersections=True,
    )

    completed = [r for r in run.records if r.outcome == "completed"]

    def times(q: float):  # type: ignore[no-untyped-def]
        def compute(records: list[SessionRecord]) -> stats.Estimate:
            return stats.quantile([r.duration_s for r in records], q, seed=seed, resamples=min(b, 400))

        return compute

    out += per_segment(
        run,
        f"{DIM}.time_on_task_median_s",
        times(0.5),
        dimension=DIM,
        unit="s",
        higher_is_better=False,
        records=completed,
    )
    out += per_segment(
        run,
        f"{DIM}.time_on_task_p90_s",
        times(0.9),
        dimension=DIM,
        unit="s",
        higher_is_better=False,
        records=completed,
    )

    order: list[str] = []
    facts = run.facts_as(FunnelFacts)
    if facts is not None and facts.journey is not None:
        next_of = {step.id: step.next for step in facts.journey.steps}
        cursor: str | None = facts.journey.start
        while cursor is not None and cursor not in order:
            order.append(cursor)
            cursor = next_of.get(cursor)
    steps, reached, stopped = _funnel(run.records, order)
    for step in steps:
        # Of the sessions that reached the step (the others are not in the denominator).
        est = stats.proportion(stopped.get(step, 0), reached[step])
        out.append(
            metric_from(
                f"{DIM}.step_abandonment.{step}", est, dimension=DIM, unit="share", higher_is_better=False
            )
        )
        out.append(
            metric_from(
                f"{DIM}.funnel_reached.{step}",
                stats.proportion(reached[step], len(run.records)),
                dimension=DIM,
                unit="share",
            )
        )
    if steps and params.funnel_plot and run.records:
        path = run.artifact_dir / "plots" / "funnel.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        _plot_funnel(path, steps, reached, len(run.records), f"{run.experiment.spec.name}: journey funnel")
        run.add_artifact(path)

    out += equity(out, f"{DIM}.{params.equity_metric}", run.k)
    return out
