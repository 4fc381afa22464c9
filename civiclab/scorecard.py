"""The scorecard: criteria verdicts, per-dimension verdicts and a recommendation.

Rules the committee relies on:
- missing evidence is `missing`, never a pass; a blocking criterion without evidence means `iterate`;
- a pass whose 95% interval crosses the threshold passes "on the point estimate only" (`confident=False`);
- gap and ratio criteria compare the worst-off segment with the best-off one;
- a waiver turns a fail or a missing verdict into `waived`, and the scorecard says who granted it and why.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from civiclab.records import Metric
from civiclab.spec import CriterionSpec, Waiver

SCORECARD_VERSION = 1
FAMILIES: tuple[str, ...] = ("auditability", "human_centered", "energy", "acceptability")
"""The four families of evidence every scorecard shows, whether or not a run measured them."""

Verdict = Literal["pass", "fail", "missing", "waived"]
Recommendation = Literal["go", "iterate", "stop"]
Kind = Literal["at_least", "at_most", "max_gap", "min_ratio"]


class CriterionVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str
    label: str
    dimension: str
    kind: Kind
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
    verdict: Literal["pass", "fail", "missing", "advisory", "waived", "no_criteria"]
    passed: int = 0
    failed: int = 0
    missing: int = 0
    waived: int = 0
    metrics: int = Field(default=0, description="how many metric values the run produced in this dimension")


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
    reviews: list[dict[str, Any]] = Field(
        default_factory=list, description="committee decisions, from the run's manifest (see civiclab.review)"
    )

    @property
    def missing(self) -> list[CriterionVerdict]:
        return [v for v in self.criteria if v.verdict == "missing"]


SIGN = {"at_least": "≥", "at_most": "≤", "max_gap": "gap ≤", "min_ratio": "ratio ≥"}


def _dimension_of(name: str, metrics: list[Metric]) -> str:
    for m in metrics:
        if m.name == name:
            return m.dimension
    return name.split(".", 1)[0]


def _why_missing(crit: CriterionSpec, metrics: list[Metric], found: Metric | None) -> str:
    """Say why evidence is missing: the evaluator failed, the segment is too small, or nothing measured it."""
    if found is not None and found.error:
        return f"the metric could not be computed: {found.error}"
    dimension = _dimension_of(crit.metric, metrics)
    crashed = [m for m in metrics if m.dimension == dimension and m.name.endswith(".evaluator_error")]
    if crashed:
        return f"no evidence: the {dimension} evaluator failed ({crashed[0].error})"
    if crit.segment and any(m.name == crit.metric for m in metrics):
        return f"no evidence for segment {crit.segment} (absent, or fewer than k sessions)"
    return "no evidence for this metric"


def _threshold_verdict(crit: CriterionSpec, metrics: list[Metric]) -> CriterionVerdict:
    kind: Kind = "at_least" if crit.at_least is not None else "at_most"
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
    metric = next((m for m in metrics if m.name == crit.metric and m.segment == crit.segment), None)
    if metric is None or metric.is_missing:
        return CriterionVerdict(
            dimension=_dimension_of(crit.metric, metrics),
            verdict="missing",
            detail=_why_missing(crit, metrics, metric),
            **base,
        )
    value = float(metric.value)  # type: ignore[arg-type]

    def passes(x: float) -> bool:
        return x >= threshold if kind == "at_least" else x <= threshold

    ok = passes(value)
    confident: bool | None = None
    sign = SIGN[kind]
    detail = f"{value:.4g} {sign} {threshold:g}" if ok else f"{value:.4g} not {sign} {threshold:g}"
    if metric.ci_low is not None and metric.ci_high is not None:
        # The bound on the unfavourable side decides whether the pass survives the uncertainty.
        worst = metric.ci_low if kind == "at_least" else metric.ci_high
        best = metric.ci_high if kind == "at_least" else metric.ci_low
        if ok:
            confident = passes(worst)
            if not confident:
                detail += " on the point estimate only (the 95% interval crosses the threshold)"
        elif passes(best):
            detail += " (the 95% interval reaches the threshold: more sessions could change this)"
    return CriterionVerdict(
        dimension=metric.dimension,
        verdict="pass" if ok else "fail",
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
    kind: Kind = "max_gap" if crit.max_gap is not None else "min_ratio"
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
    comparable = {a: ms for a, ms in sorted(groups.items()) if len(ms) >= 2}
    if not comparable:
        across = f"by {crit.by}" if crit.by else "by any attribute"
        return CriterionVerdict(
            dimension=_dimension_of(crit.metric, metrics),
            verdict="missing",
            detail=f"fewer than two segments ({across}) of at least k sessions to compare",
            **base,
        )

    def measure(lo: float, hi: float) -> float:
        if kind == "max_gap":
            return hi - lo
        return lo / hi if hi else 1.0

    def passes(x: float) -> bool:
        return x <= threshold if kind == "max_gap" else x >= threshold

    # Judge every attribute; the verdict is the worst one, the confidence must hold for all of them.
    judged: list[tuple[float, str, Metric, Metric, bool | None]] = []
    for attribute, ms in comparable.items():
        low = min(ms, key=lambda m: float(m.value))  # type: ignore[arg-type]
        high = max(ms, key=lambda m: float(m.value))  # type: ignore[arg-type]
        observed = measure(float(low.value), float(high.value))  # type: ignore[arg-type]
        sure: bool | None = None
        if all(m.ci_low is not None and m.ci_high is not None for m in ms):
            # Conservative: the widest spread the intervals allow must still satisfy the bound.
            lo_bound = min(float(m.ci_low) for m in ms)  # type: ignore[arg-type]
            hi_bound = max(float(m.ci_high) for m in ms)  # type: ignore[arg-type]
            sure = passes(measure(lo_bound, hi_bound))
        judged.append((observed, attribute, low, high, sure))
    observed, attribute, low, high, _ = (
        max(judged, key=lambda j: j[0]) if kind == "max_gap" else min(judged, key=lambda j: j[0])
    )
    ok = passes(observed)
    confident: bool | None = None
    if ok:
        sures = [j[4] for j in judged]
        confident = None if any(s is None for s in sures) else all(bool(s) for s in sures)
    better_high = high.higher_is_better is not False
    worst, best = (low, high) if better_high else (high, low)
    what = "gap" if kind == "max_gap" else "ratio"
    detail = (
        f"{what} {observed:.4g}: worst-off {worst.segment} ({float(worst.value):.4g}) "  # type: ignore[arg-type]
        f"vs best-off {best.segment} ({float(best.value):.4g})"  # type: ignore[arg-type]
    )
    detail += "" if ok else f", not {SIGN[kind].split()[-1]} {threshold:g}"
    if ok and confident is False:
        detail += " — on the point estimates only (the segments' intervals allow a wider spread)"
    return CriterionVerdict(
        dimension=high.dimension,
        verdict="pass" if ok else "fail",
        observed=observed,
        n=(low.n or 0) + (high.n or 0),
        confident=confident,
        detail=detail,
        unit=high.unit if kind == "max_gap" else "",
        segment=f"{attribute}: {worst.segment} vs {best.segment}",
        **base,
    )


def judge(criterion: CriterionSpec, metrics: list[Metric]) -> CriterionVerdict:
    """The verdict of one criterion on a run's metrics; missing evidence never passes."""
    if criterion.max_gap is not None or criterion.min_ratio is not None:
        verdict = _group_verdict(criterion, metrics)
    else:
        verdict = _threshold_verdict(criterion, metrics)
    if criterion.waiver is not None and verdict.verdict in ("fail", "missing"):
        verdict.detail = (
            f"{verdict.verdict}: {verdict.detail}; waived by {criterion.waiver.granted_by}: "
            f"{criterion.waiver.justification}"
        )
        verdict.verdict = "waived"
    return verdict


def _dimension_verdicts(verdicts: list[CriterionVerdict], metrics: list[Metric]) -> list[DimensionVerdict]:
    dims: dict[str, DimensionVerdict] = {
        f: DimensionVerdict(dimension=f, verdict="no_criteria") for f in FAMILIES
    }
    for m in metrics:
        d = dims.setdefault(m.dimension, DimensionVerdict(dimension=m.dimension, verdict="no_criteria"))
        d.metrics += 0 if m.is_missing else 1
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
            # A family nobody measured is missing evidence, not a pass; one measured without criteria is
            # shown as such.
            dim.verdict = "missing" if dim.metrics == 0 else "no_criteria"
        elif any(v.verdict == "fail" and v.severity == "blocking" for v in mine):
            dim.verdict = "fail"
        elif any(v.verdict == "missing" and v.severity == "blocking" for v in mine):
            dim.verdict = "missing"
        elif any(v.verdict in ("fail", "missing") for v in mine):
            dim.verdict = "advisory"
        elif any(v.verdict == "waived" for v in mine):
            dim.verdict = "waived"
        else:
            dim.verdict = "pass"
    order = {f: i for i, f in enumerate(FAMILIES)}
    return sorted(dims.values(), key=lambda d: (order.get(d.dimension, len(order)), d.dimension))


def recommend(
    verdicts: list[CriterionVerdict], evaluator_errors: list[str]
) -> tuple[Recommendation, list[str]]:
    """go (every blocking criterion passes with its evidence), iterate, or stop (a blocking failure)."""
    blocking_fail = [v for v in verdicts if v.verdict == "fail" and v.severity == "blocking"]
    blocking_missing = [v for v in verdicts if v.verdict == "missing" and v.severity == "blocking"]
    advisory = [v for v in verdicts if v.verdict in ("fail", "missing") and v.severity == "advisory"]
    unsure = [
        v for v in verdicts if v.verdict == "pass" and v.confident is False and v.severity == "blocking"
    ]
    waived = [v for v in verdicts if v.verdict == "waived"]
    reasons: list[str] = []
    recommendation: Recommendation
    if blocking_fail:
        recommendation = "stop"
        reasons += [f"blocking criterion failed: {v.label} ({v.detail})" for v in blocking_fail]
        reasons += [f"evidence missing: {v.label}" for v in blocking_missing]
        reasons += [f"advisory criterion {v.verdict}: {v.label}" for v in advisory]
    elif blocking_missing or advisory or unsure or not verdicts:
        recommendation = "iterate"
        reasons += [f"evidence missing: {v.label} ({v.detail})" for v in blocking_missing]
        reasons += [f"advisory criterion {v.verdict}: {v.label}" for v in advisory]
        reasons += [f"passes on the point estimate only: {v.label}" for v in unsure]
        if not verdicts:
            reasons.append("the experiment declares no criteria")
    else:
        recommendation = "go"
        reasons.append("every blocking criterion passes")
    reasons += [f"waived: {v.label} (by {v.waiver.granted_by})" for v in waived if v.waiver is not None]
    reasons += [f"evaluator error: {e}" for e in evaluator_errors]
    return recommendation, reasons


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
    errors = list(evaluator_errors or [])
    recommendation, reasons = recommend(verdicts, errors)
    return Scorecard(
        experiment=experiment,
        description=description,
        run_id=run_id,
        spec_digest=spec_digest,
        audit_root=audit_root,
        sessions=sessions,
        criteria=verdicts,
        dimensions=_dimension_verdicts(verdicts, metrics),
        recommendation=recommendation,
        reasons=reasons,
        energy_method=energy_method,
        evaluator_errors=errors,
    )
