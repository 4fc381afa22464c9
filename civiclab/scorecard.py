"""The scorecard: criteria verdicts, per-dimension verdicts and a recommendation."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from civiclab.records import Metric
from civiclab.spec import CriterionSpec, Waiver

SCORECARD_VERSION = 1

Verdict = Literal["pass", "fail", "missing", "waived"]
Recommendation = Literal["go", "iterate", "stop"]


class CriterionVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str
    label: str
    dimension: str
    kind: Literal["at_least", "at_most", "max_gap", "min_ratio"]
    threshold: float
    severity: Literal["blocking", "advisory"]
    segment: str | None = None
    by: str | None = None
    observed: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None
    verdict: Verdict
    confident: bool | None = Field(
        default=None, description="True: the whole interval is on the passing side; False: only the point is"
    )
    detail: str = ""
    waiver: Waiver | None = None
    unit: str = ""


class DimensionVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dimension: str
    verdict: Literal["pass", "fail", "missing", "advisory", "no_criteria"]
    passed: int = 0
    failed: int = 0
    missing: int = 0
    waived: int = 0


class Scorecard(BaseModel):
    """What the committee reads: every criterion, what is missing, and a recommendation."""

    model_config = ConfigDict(extra="forbid")

    version: int = SCORECARD_VERSION
    experiment: str
    description: str = ""
    run_id: str | None = None
    created: str = Field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    spec_digest: str = ""
    audit_root: str = ""
    sessions: int = 0
    criteria: list[CriterionVerdict]
    dimensions: list[DimensionVerdict]
    recommendation: Recommendation
    reasons: list[str] = Field(default_factory=list)
    energy_method: str | None = None
    evaluator_errors: list[str] = Field(default_factory=list)
    headline: dict[str, Any] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)


def _dimension_of(name: str, metrics: list[Metric]) -> str:
    for m in metrics:
        if m.name == name:
            return m.dimension
    return name.split(".", 1)[0]


def _threshold_verdict(crit: CriterionSpec, metric: Metric | None) -> CriterionVerdict:
    kind: Literal["at_least", "at_most"] = "at_least" if crit.at_least is not None else "at_most"
    threshold = float(crit.at_least if crit.at_least is not None else crit.at_most)  # type: ignore[arg-type]
    base: dict[str, Any] = dict(
        metric=crit.metric,
        label=crit.label or crit.metric,
        kind=kind,
        threshold=threshold,
        severity=crit.severity,
        segment=crit.segment,
        waiver=crit.waiver,
    )
    if metric is None or metric.is_missing:
        why = metric.error if metric is not None and metric.error else "no evidence for this metric"
        return CriterionVerdict(dimension=crit.metric.split(".", 1)[0], verdict="missing", detail=why, **base)
    value = float(metric.value)  # type: ignore[arg-type]
    ok = value >= threshold if kind == "at_least" else value <= threshold
    confident: bool | None = None
    if metric.ci_low is not None and metric.ci_high is not None:
        bound = metric.ci_low if kind == "at_least" else metric.ci_high
        sure = bound >= threshold if kind == "at_least" else bound <= threshold
        confident = sure if ok else None
    sign = "≥" if kind == "at_least" else "≤"
    detail = f"{value:.4g} {sign} {threshold:g}" if ok else f"{value:.4g} not {sign} {threshold:g}"
    if ok and confident is False:
        detail += " on the point estimate only (the interval crosses the threshold)"
    verdict: Verdict = "pass" if ok else "fail"
    return CriterionVerdict(
        dimension=metric.dimension,
        verdict=verdict,
        observed=value,
        ci_low=metric.ci_low,
        ci_high=metric.ci_high,
        n=metric.n,
        confident=confident,
        detail=detail,
        unit=metric.unit,
        **base,
    )


def _group_verdict(crit: CriterionSpec, metrics: list[Metric]) -> CriterionVerdict:
    kind: Literal["max_gap", "min_ratio"] = "max_gap" if crit.max_gap is not None else "min_ratio"
    threshold = float(crit.max_gap if crit.max_gap is not None else crit.min_ratio)  # type: ignore[arg-type]
    base: dict[str, Any] = dict(
        metric=crit.metric,
        label=crit.label or f"{crit.metric} ({kind.replace('_', ' ')})",
        kind=kind,
        threshold=threshold,
        severity=crit.severity,
        by=crit.by,
        waiver=crit.waiver,
    )
    groups: dict[str, list[Metric]] = defaultdict(list)
    for m in metrics:
        if m.name != crit.metric or m.segment is None or m.is_missing:
            continue
        attribute = m.segment.split("=", 1)[0]
        if crit.by is None or attribute == crit.by:
            groups[attribute].append(m)
    comparable = {a: ms for a, ms in groups.items() if len(ms) >= 2}
    if not comparable:
        return CriterionVerdict(
            dimension=_dimension_of(crit.metric, metrics),
            verdict="missing",
            detail="fewer than two segments of at least k sessions to compare",
            **base,
        )
    worst: tuple[float, str, Metric, Metric] | None = None
    for attribute, ms in comparable.items():
        low = min(ms, key=lambda m: float(m.value))  # type: ignore[arg-type]
        high = max(ms, key=lambda m: float(m.value))  # type: ignore[arg-type]
        lo, hi = float(low.value), float(high.value)  # type: ignore[arg-type]
        if kind == "max_gap":
            badness = hi - lo
        else:
            badness = -(lo / hi if hi else 1.0)
        if worst is None or badness > worst[0]:
            worst = (badness, attribute, low, high)
    assert worst is not None
    _, attribute, low, high = worst
    lo, hi = float(low.value), float(high.value)  # type: ignore[arg-type]
    if kind == "max_gap":
        observed = hi - lo
        ok = observed <= threshold
        detail = f"gap {observed:.4g} between {high.segment} ({hi:.4g}) and {low.segment} ({lo:.4g})"
    else:
        observed = lo / hi if hi else 1.0
        ok = observed >= threshold
        detail = f"ratio {observed:.4g} of {low.segment} ({lo:.4g}) to {high.segment} ({hi:.4g})"
    confident: bool | None = None
    if ok and None not in (low.ci_low, low.ci_high, high.ci_low, high.ci_high):
        # Conservative: the widest gap the two intervals allow must still satisfy the bound.
        if kind == "max_gap":
            confident = float(high.ci_high) - float(low.ci_low) <= threshold  # type: ignore[arg-type]
        else:
            confident = float(high.ci_high) > 0 and (
                float(low.ci_low) / float(high.ci_high) >= threshold  # type: ignore[arg-type]
            )
    return CriterionVerdict(
        dimension=high.dimension,
        verdict="pass" if ok else "fail",
        observed=observed,
        n=(low.n or 0) + (high.n or 0),
        confident=confident,
        detail=detail,
        unit=high.unit if kind == "max_gap" else "",
        segment=f"{attribute}: {low.segment} vs {high.segment}",
        **base,
    )


def judge(criterion: CriterionSpec, metrics: list[Metric]) -> CriterionVerdict:
    """The verdict of one criterion on a run's metrics; missing evidence never passes."""
    if criterion.max_gap is not None or criterion.min_ratio is not None:
        verdict = _group_verdict(criterion, metrics)
    else:
        match = next(
            (m for m in metrics if m.name == criterion.metric and m.segment == criterion.segment), None
        )
        verdict = _threshold_verdict(criterion, match)
    if criterion.waiver is not None and verdict.verdict in ("fail", "missing"):
        verdict.detail = (
            f"{verdict.detail}; waived by {criterion.waiver.granted_by}: {criterion.waiver.justification}"
        )
        verdict.verdict = "waived"
    return verdict


def build_scorecard(
    *,
    experiment: str,
    criteria: list[CriterionSpec],
    metrics: list[Metric],
    description: str = "",
    run_id: str | None = None,
    spec_digest: str = "",
    audit_root: str = "",
    sessions: int = 0,
    energy_method: str | None = None,
    evaluator_errors: list[str] | None = None,
) -> Scorecard:
    """Judge every criterion, then each dimension, then recommend go, iterate or stop."""
    verdicts = [judge(c, metrics) for c in criteria]
    dims: dict[str, DimensionVerdict] = {}
    for m in metrics:
        dims.setdefault(m.dimension, DimensionVerdict(dimension=m.dimension, verdict="no_criteria"))
    for v in verdicts:
        d = dims.setdefault(v.dimension, DimensionVerdict(dimension=v.dimension, verdict="no_criteria"))
        if v.verdict == "pass":
            d.passed += 1
        elif v.verdict == "fail":
            d.failed += 1
        elif v.verdict == "missing":
            d.missing += 1
        else:
            d.waived += 1
    for dim in dims.values():
        mine = [v for v in verdicts if v.dimension == dim.dimension]
        if not mine:
            continue
        if any(v.verdict == "fail" and v.severity == "blocking" for v in mine):
            dim.verdict = "fail"
        elif any(v.verdict == "missing" and v.severity == "blocking" for v in mine):
            dim.verdict = "missing"
        elif any(v.verdict in ("fail", "missing") for v in mine):
            dim.verdict = "advisory"
        else:
            dim.verdict = "pass"

    reasons: list[str] = []
    blocking_fail = [v for v in verdicts if v.verdict == "fail" and v.severity == "blocking"]
    blocking_missing = [v for v in verdicts if v.verdict == "missing" and v.severity == "blocking"]
    advisory = [v for v in verdicts if v.verdict in ("fail", "missing") and v.severity == "advisory"]
    unsure = [v for v in verdicts if v.verdict == "pass" and v.confident is False and v.severity == "blocking"]
    recommendation: Recommendation
    if blocking_fail:
        recommendation = "stop"
        reasons += [f"blocking criterion failed: {v.label} ({v.detail})" for v in blocking_fail]
    elif blocking_missing or advisory or unsure or not verdicts:
        recommendation = "iterate"
        reasons += [f"evidence missing: {v.label}" for v in blocking_missing]
        reasons += [f"advisory criterion {v.verdict}: {v.label}" for v in advisory]
        reasons += [f"passes on the point estimate only: {v.label}" for v in unsure]
        if not verdicts:
            reasons.append("the experiment declares no criteria")
    else:
        recommendation = "go"
        reasons.append("every blocking criterion passes")
    return Scorecard(
        experiment=experiment,
        description=description,
        run_id=run_id,
        spec_digest=spec_digest,
        audit_root=audit_root,
        sessions=sessions,
        criteria=verdicts,
        dimensions=sorted(dims.values(), key=lambda d: d.dimension),
        recommendation=recommendation,
        reasons=reasons,
        energy_method=energy_method,
        evaluator_errors=list(evaluator_errors or []),
    )


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.4g}"


def to_markdown(card: Scorecard) -> str:
    """The scorecard as Markdown: criteria table, dimensions, recommendation and digests."""
    lines = [
        f"# Scorecard — {card.experiment}",
        "",
        card.description.strip(),
        "",
        f"**Recommendation: {card.recommendation.upper()}**",
        "",
        *[f"- {r}" for r in card.reasons],
        "",
        "## Criteria",
        "",
        "| criterion | severity | observed | 95% interval | threshold | verdict | detail |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for v in card.criteria:
        interval = f"[{_fmt(v.ci_low)}, {_fmt(v.ci_high)}]" if v.ci_low is not None else "—"
        sign = {"at_least": "≥", "at_most": "≤", "max_gap": "gap ≤", "min_ratio": "ratio ≥"}[v.kind]
        verdict = v.verdict.upper() + (" (point only)" if v.confident is False else "")
        lines.append(
            f"| {v.label} | {v.severity} | {_fmt(v.observed)} {v.unit} | {interval} | {sign} {v.threshold:g} "
            f"| {verdict} | {v.detail} |"
        )
    lines += ["", "## Dimensions", "", "| dimension | verdict | pass | fail | missing | waived |",
              "| --- | --- | --- | --- | --- | --- |"]
    for d in card.dimensions:
        lines.append(f"| {d.dimension} | {d.verdict} | {d.passed} | {d.failed} | {d.missing} | {d.waived} |")
    if card.energy_method:
        lines += ["", f"Energy: {card.energy_method}."]
    if card.evaluator_errors:
        lines += ["", "## Evaluator errors", "", *[f"- {e}" for e in card.evaluator_errors]]
    lines += [
        "",
        "## Provenance",
        "",
        f"- run: `{card.run_id}`",
        f"- sessions: {card.sessions}",
        f"- spec sha256: `{card.spec_digest}`",
        f"- audit root: `{card.audit_root}`",
        f"- created: {card.created}",
        "",
    ]
    return "\n".join(lines)


def to_table(card: Scorecard) -> str:
    """A plain-text table for the terminal."""
    rows = [("criterion", "observed", "threshold", "verdict")]
    for v in card.criteria:
        sign = {"at_least": ">=", "at_most": "<=", "max_gap": "gap<=", "min_ratio": "ratio>="}[v.kind]
        mark = v.verdict.upper() + ("*" if v.confident is False else "")
        rows.append((v.label[:48], _fmt(v.observed), f"{sign} {v.threshold:g}", mark))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    out = [f"Scorecard: {card.experiment}  (run {card.run_id})"]
    for i, row in enumerate(rows):
        out.append("  ".join(cell.ljust(widths[j]) for j, cell in enumerate(row)))
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    out.append("dimensions: " + ", ".join(f"{d.dimension}={d.verdict}" for d in card.dimensions))
    if card.energy_method:
        out.append(f"energy: {card.energy_method}")
    if any(v.confident is False for v in card.criteria):
        out.append("* passes on the point estimate only: its 95% interval crosses the threshold")
    out.append(f"RECOMMENDATION: {card.recommendation.upper()}")
    out.extend(f"  - {r}" for r in card.reasons)
    return "\n".join(out)
