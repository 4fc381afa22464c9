"""Human-centred outcomes: completion, abandonment (a funnel), escalation, time on task, equity."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from civiclab import stats
from civiclab.evaluation import RunData, metric_from, per_segment
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


class HumanCenteredParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resamples: int = Field(default=1000, ge=100, le=20000, description="bootstrap resamples")
    equity_metric: str = Field(default="completion_rate", description="rate whose segment gap is reported")
    funnel_plot: bool = True


def _rate(predicate: str, seed: int, resamples: int):  # type: ignore[no-untyped-def]
    def compute(records: list[SessionRecord]) -> stats.Estimate:
        return stats.rate([_outcome_is(r, predicate) for r in records], seed=seed, resamples=resamples)

    return compute


def _outcome_is(record: SessionRecord, what: str) -> bool:
    if what == "resolved":
        return record.outcome in ("completed", "escalated_to_human")
    if what == "fallback":
        return bool(record.data.get("fallback_used"))
    return record.outcome == what


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
        "human_centered.time_on_task_median_s": "median time of completed sessions",
        "human_centered.time_on_task_p90_s": "90th percentile time of completed sessions",
        "human_centered.step_abandonment.<step>": "share of sessions reaching a step that gave up there",
        "human_centered.equity_gap": "worst vs best segment on the equity metric",
    },
)
def human_centered(run: RunData, params: HumanCenteredParams) -> list[Metric]:
    """Completion, abandonment funnel, escalation and time on task, overall and per segment."""
    seed, b = run.seed, params.resamples
    out: list[Metric] = []
    for name, what, better in (
        ("completion_rate", "completed", True),
        ("resolution_rate", "resolved", True),
        ("abandonment_rate", "abandoned", False),
        ("escalation_rate", "escalated_to_human", None),
        ("fallback_rate", "fallback", None),
        ("failure_rate", "failed", False),
    ):
        out += per_segment(
            run, f"{DIM}.{name}", _rate(what, seed, b), dimension=DIM, unit="share", higher_is_better=better
        )

    failed_online = [r for r in run.records if r.data.get("failed_online")]
    reach = stats.rate(
        [bool(r.data.get("human_reachable_on_failure")) for r in failed_online], seed=seed, resamples=b
    )
    out.append(
        metric_from(
            f"{DIM}.human_reachable_on_failure", reach, dimension=DIM, unit="share", higher_is_better=True
        )
    )
    if reach.n == 0:
        out[-1].note = "no session failed on a digital channel"

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
        est = stats.rate(np.arange(reached[step]) < stopped.get(step, 0), seed=seed, resamples=b)
        out.append(
            metric_from(
                f"{DIM}.step_abandonment.{step}", est, dimension=DIM, unit="share", higher_is_better=False
            )
        )
        out.append(
            Metric(
                name=f"{DIM}.funnel_reached.{step}",
                value=reached[step] / max(1, len(run.records)),
                unit="share",
                dimension=DIM,
                n=len(run.records),
            )
        )
    if steps and params.funnel_plot and run.records:
        path = run.artifact_dir / "plots" / "funnel.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        _plot_funnel(path, steps, reached, len(run.records), f"{run.experiment.spec.name}: journey funnel")
        run.add_artifact(path)

    target = f"{DIM}.{params.equity_metric}"
    groups = [m for m in out if m.name == target and m.segment is not None and not m.is_missing]
    if len(groups) >= 2:
        worst = min(groups, key=lambda m: float(m.value))  # type: ignore[arg-type]
        best = max(groups, key=lambda m: float(m.value))  # type: ignore[arg-type]
        gap = float(best.value) - float(worst.value)  # type: ignore[arg-type]
        out.append(
            Metric(
                name=f"{DIM}.equity_gap",
                value=gap,
                unit="share",
                dimension=DIM,
                higher_is_better=False,
                n=(worst.n or 0) + (best.n or 0),
                note=f"{params.equity_metric}: {best.segment} {float(best.value or 0.0):.3f} vs "
                f"{worst.segment} {float(worst.value or 0.0):.3f}",
            )
        )
        ratio = float(worst.value) / float(best.value) if float(best.value) else None  # type: ignore[arg-type]
        out.append(
            Metric(
                name=f"{DIM}.equity_ratio",
                value=ratio,
                unit="ratio",
                dimension=DIM,
                higher_is_better=True,
                note=f"{worst.segment} / {best.segment}",
            )
        )
    else:
        out.append(
            Metric(
                name=f"{DIM}.equity_gap",
                value=None,
                dimension=DIM,
                error=f"fewer than two segments of at least {run.k} sessions",
            )
        )
    return out
