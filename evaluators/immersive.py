"""What immersion does to people: who stays in the 3D part, who leaves it and why, who feels sick.

Reads each session's `immersive` field (written by a pilot that served a 3D scene with a plain-page
twin: where the person started, whether and where they switched, comfort settings, exit reason, time
in 3D) and, when the experiment's survey has them, the SSQ before/after answers stored under the
same pseudonym as the session (`data.registration` = the response's `person`). Every rate is per
group and intersection shown under k-anonymity, with a Wilson interval and its n; the SSQ change
is each person's after minus their own before, with a BCa interval.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from civiclab import (
    OVERALL,
    GroupTally,
    Metric,
    RunData,
    evaluator,
    group_keys,
    group_name,
    mean,
    metric_from,
    proportion,
    quantile,
)

DIM = "immersion"
SICKNESS = frozenset({"sickness", "discomfort"})
SSQ_TOTAL = ("ssq_before", "ssq_after")


class ImmersiveParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ssq_threshold: float = Field(
        default=20.0,
        ge=0,
        description="SSQ total change (after minus before) counted as meaningful; Kennedy et al.'s scale "
        "reads totals above 20 as a problem simulator",
    )


class ImmersionFacts(BaseModel):
    synthetic: str | None = None


def _properties(row: dict[str, Any], immersive: dict[str, Any]) -> list[str]:
    props = ["served"]
    started_3d = immersive.get("started_in") == "immersive_3d"
    final = "accessible_twin" if immersive.get("switched_to_twin") or not started_3d else "immersive_3d"
    props.append(f"final:{final}")
    if row["outcome"] in ("completed", "escalated_to_human"):
        props.append(f"resolved:{final}")
    if started_3d:
        props.append("started_3d")
        if immersive.get("switched_to_twin"):
            props.append("switched")
        if row["outcome"] == "abandoned":
            props.append("left_early")
            if immersive.get("exit_reason") in SICKNESS:
                props.append("left_sick")
        for setting in immersive.get("comfort") or {}:
            props.append(f"comfort:{setting}")
    return props


def _ssq_totals(run: RunData) -> dict[str, tuple[float, float, dict[str, str]]]:
    """Each person's SSQ total before and after (both answered in full), by pseudonym."""
    if run.experiment is None or run.experiment.spec.survey is None:
        return {}
    from civiclab.survey import construct_scores, gather, load_instrument

    spec = run.experiment.spec.survey
    names = {i.name for i in spec.load_instruments()}
    if not set(SSQ_TOTAL) <= names:
        return {}
    got = gather(run.experiment_name, spec)
    people = [r for r in got.responses if r.person]
    scores = []
    for name in SSQ_TOTAL:
        instrument = load_instrument(name)
        total = next(c for c in instrument.constructs if c.code == "total")
        scores.append(construct_scores(instrument, total, people))
    out: dict[str, tuple[float, float, dict[str, str]]] = {}
    for r, before, after in zip(people, scores[0], scores[1], strict=True):
        if before == before and after == after:  # both answered in full (not NaN)
            out[str(r.person)] = (float(before), float(after), dict(r.segment))
    return out


@evaluator(
    "immersive",
    dimension=DIM,
    params=ImmersiveParams,
    metrics={
        "immersion.switch_to_twin_rate": "of sessions started in 3D, share that switched to the plain-page twin",
        "immersion.early_exit_rate": "of sessions started in 3D, share that left before the end",
        "immersion.sickness_exit_rate": "of sessions started in 3D, share that left feeling sick or uncomfortable",
        "immersion.exit_reason.<reason>": "of sessions that left 3D early, share giving this reason",
        "immersion.comfort_used.<setting>": "of sessions started in 3D, share that changed this comfort setting",
        "immersion.resolution_rate.<channel>": "of sessions ending on this channel (3D or twin), share resolved",
        "immersion.time_in_3d_median_s": "median time in the 3D part, of sessions that entered it",
        "immersion.ssq_change": "mean SSQ total change (after minus the person's own before)",
        "immersion.ssq_change_above_threshold": "share of people whose SSQ total rose by the threshold or more",
        "immersion.dropout_after_sickness": "of people whose SSQ rose by the threshold or more, share who abandoned",
    },
)
def immersive(run: RunData, params: ImmersiveParams) -> list[Metric]:
    """Switches to the twin, early exits and their reasons, comfort settings, time in 3D and SSQ change."""
    tally = GroupTally()
    reasons: Counter[str] = Counter()
    times: list[float] = []
    outcome_of: dict[str, str] = {}
    for row in run.rows():
        immersive_data = (row.get("data") or {}).get("immersive")
        if not immersive_data:
            continue
        props = _properties(row, immersive_data)
        tally.add(group_keys(row["segment"]), props)
        if "left_early" in props:
            reasons[str(immersive_data.get("exit_reason") or "none given")] += 1
        if immersive_data.get("immersive_s"):
            times.append(float(immersive_data["immersive_s"]))
        registration = (row.get("data") or {}).get("registration")
        if registration:
            outcome_of[str(registration)] = row["outcome"]
    if not tally.count("served"):
        return [
            Metric(name=f"{DIM}.switch_to_twin_rate", value=None, unit="share", dimension=DIM,
                   error="no session carries immersion telemetry (a served journey's statements)")
        ]  # fmt: skip
    k = run.k
    in_3d = tally.shown("started_3d", k, crossed=True)
    out: list[Metric] = []

    def rates(name: str, hit: str, of: str, keys: list[Any], better: bool | None) -> None:
        for key in (OVERALL, *keys):
            est = proportion(tally.count(hit, key), tally.count(of, key))
            out.append(metric_from(name, est, dimension=DIM, unit="share", higher_is_better=better,
                                   segment=group_name(key)))  # fmt: skip

    rates(f"{DIM}.switch_to_twin_rate", "switched", "started_3d", in_3d, None)
    rates(f"{DIM}.early_exit_rate", "left_early", "started_3d", in_3d, False)
    rates(f"{DIM}.sickness_exit_rate", "left_sick", "started_3d", in_3d, False)
    early = sum(reasons.values())
    for reason, n in sorted(reasons.items()):
        out.append(
            metric_from(f"{DIM}.exit_reason.{reason}", proportion(n, early), dimension=DIM, unit="share")
        )
    settings = sorted({p.split(":", 1)[1] for p in tally.counts if p.startswith("comfort:")})
    for setting in settings:
        rates(f"{DIM}.comfort_used.{setting}", f"comfort:{setting}", "started_3d", [], None)
    for channel in ("immersive_3d", "accessible_twin"):
        keys = tally.shown(f"final:{channel}", k, crossed=False)
        rates(f"{DIM}.resolution_rate.{channel}", f"resolved:{channel}", f"final:{channel}", keys, True)
    if times:
        out.append(metric_from(f"{DIM}.time_in_3d_median_s", quantile(times, 0.5), dimension=DIM, unit="s"))
    out += _ssq_metrics(run, params, outcome_of)
    facts = run.facts_as(ImmersionFacts)
    if facts is not None and facts.synthetic:
        for m in out:
            m.synthetic = facts.synthetic
    return out


def _ssq_metrics(run: RunData, params: ImmersiveParams, outcome_of: dict[str, str]) -> list[Metric]:
    totals = _ssq_totals(run)
    if not totals:
        return []
    changes = {person: after - before for person, (before, after, _) in totals.items()}
    values = list(changes.values())
    if len(values) < run.k:  # health answers: fewer than k people are not shown, even overall
        return [
            Metric(name=f"{DIM}.ssq_change", value=None, unit="SSQ total points", dimension=DIM, n=len(values),
                   higher_is_better=False, note=f"fewer than k = {run.k} people answered the SSQ before and after")
        ]  # fmt: skip
    above = [p for p, change in changes.items() if change >= params.ssq_threshold]
    out = [
        metric_from(f"{DIM}.ssq_change", mean(values, seed=run.seed), dimension=DIM, unit="SSQ total points",
                    higher_is_better=False),
        metric_from(f"{DIM}.ssq_change_above_threshold", proportion(len(above), len(values)), dimension=DIM,
                    unit="share", higher_is_better=False,
                    note=f"SSQ total rose by {params.ssq_threshold:g} points or more"),
    ]  # fmt: skip
    linked = [p for p in above if p in outcome_of]
    left = sum(outcome_of[p] == "abandoned" for p in linked)
    out.append(metric_from(f"{DIM}.dropout_after_sickness", proportion(left, len(linked)), dimension=DIM,
                           unit="share", higher_is_better=False))  # fmt: skip
    by_attribute: dict[str, dict[str, list[float]]] = {}
    for person, (_, _, answered_segment) in totals.items():
        for attr, value in answered_segment.items():
            by_attribute.setdefault(attr, {}).setdefault(value, []).append(changes[person])
    for attr, groups in sorted(by_attribute.items()):
        # An attribute is broken down only when every one of its groups has k people: a hidden group's
        # mean could otherwise be worked out from the overall mean and the groups shown.
        if len(groups) < 2 or min(len(g) for g in groups.values()) < run.k:
            continue
        for value, group in sorted(groups.items()):
            out.append(metric_from(f"{DIM}.ssq_change", mean(group, seed=run.seed), dimension=DIM,
                                   unit="SSQ total points", higher_is_better=False, segment=f"{attr}={value}"))  # fmt: skip
    return out
