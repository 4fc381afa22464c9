"""The scorecard: criteria verdicts, per-dimension verdicts and a recommendation.

Rules the committee relies on:
- missing evidence is `missing`, never a pass; a blocking criterion without evidence means `iterate`;
- a sample smaller than the criterion's `min_n` is `insufficient` (shown like missing, never a pass);
- a pass or a fail whose 95% interval crosses the threshold holds "on the point estimate only"
  (`confident=False`); only a blocking fail with confidence (the whole interval on the wrong side)
  gives `stop`; an undecided verdict says how many more observations would decide it;
- gap and ratio criteria compare the worst-off segment with the best-off one;
- a waiver turns a fail or a missing verdict into `waived`, and the scorecard says who granted it and why.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from civiclab import sample_size, stats
from civiclab.equity import LeftBehind, left_behind
from civiclab.records import Metric
from civiclab.spec import CriterionSpec, Waiver

SCORECARD_VERSION = 1
FAMILIES: tuple[str, ...] = ("auditability", "human_centered", "energy", "acceptability")
"""The four families of evidence every scorecard shows, whether or not a run measured them."""

Verdict = Literal["pass", "fail", "missing", "insufficient", "waived"]
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
    min_n: int | None = Field(
        default=None, description="the sample size below which the verdict is insufficient"
    )
    method: str | None = Field(
        default=None, description="how the interval was computed (civiclab.stats.METHODS)"
    )
    verdict: Verdict
    confident: bool | None = Field(
        default=None,
        description="True: the whole interval is on the side of the verdict; False: only the point is",
    )
    to_decide: int | None = Field(
        default=None, description="observations in all that would let the interval decide (power calculation)"
    )
    synthetic: bool = Field(
        default=False, description="judged on generated data (demo answers), not real people"
    )
    uninformative: bool = Field(
        default=False,
        description="the threshold is >= 100x away from the observed value: it could not have failed",
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
    synthetic: list[str] = Field(
        default_factory=list,
        description="evidence computed from generated data, by dimension; every report marks it SYNTHETIC",
    )
    left_behind: list[LeftBehind] = Field(
        default_factory=list, description="groups for whom a whole-run threshold criterion does not hold"
    )
    headline: dict[str, Any] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)
    reviews: list[dict[str, Any]] = Field(
        default_factory=list, description="committee decisions, from the run's manifest (see civiclab.review)"
    )

    @property
    def missing(self) -> list[CriterionVerdict]:
        """Criteria without enough evidence: nothing measured, or fewer than `min_n` observations."""
        return [v for v in self.criteria if v.verdict in ("missing", "insufficient")]


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
    measured: dict[str, Any] = dict(
        dimension=metric.dimension,
        observed=value,
        ci_low=metric.ci_low,
        ci_high=metric.ci_high,
        n=metric.n,
        method=metric.method,
        unit=metric.unit,
        min_n=sample_size.required_n(metric, crit.min_n),
        synthetic=metric.synthetic,
    )
    sign = SIGN[kind]
    if measured["min_n"] is not None and (metric.n or 0) < measured["min_n"]:
        detail = f"n = {metric.n or 0} < min_n {measured['min_n']}: {value:.4g} observed, too few to judge"
        decide = sample_size.decide_text(metric, threshold)
        return CriterionVerdict(
            verdict="insufficient",
            detail=detail + (f"; {decide}" if decide else ""),
            to_decide=sample_size.needed_to_decide(metric, threshold),
            **measured,
            **base,
        )

    def passes(x: float) -> bool:
        return x >= threshold if kind == "at_least" else x <= threshold

    ok = passes(value)
    confident: bool | None = None
    detail = f"{value:.4g} {sign} {threshold:g}" if ok else f"{value:.4g} not {sign} {threshold:g}"
    # The bound on the unfavourable side decides whether a pass survives the uncertainty, the one on
    # the favourable side whether a fail does. A bound an interval cannot give (None) is unbounded.
    worst = metric.ci_low if kind == "at_least" else metric.ci_high
    best = metric.ci_high if kind == "at_least" else metric.ci_low
    if metric.ci_low is not None or metric.ci_high is not None:
        if ok:
            confident = worst is not None and passes(worst)
            if not confident:
                detail += " on the point estimate only (the 95% interval crosses the threshold)"
        else:
            confident = best is not None and not passes(best)
            if not confident:
                detail += " on the point estimate only (the 95% interval reaches the threshold)"
    useless = uninformative(metric, kind, threshold)
    if useless:
        factor = threshold / value if kind == "at_most" else value / threshold
        detail += (
            f"; UNINFORMATIVE: the threshold is {factor:.0e}× the observed value, so this criterion "
            "could not have failed: set a threshold on the scale of what is measured"
        )
    to_decide = None
    if confident is False:
        to_decide = sample_size.needed_to_decide(metric, threshold)
        decide = sample_size.decide_text(metric, threshold)
        detail += f"; {decide}" if decide else ""
    return CriterionVerdict(
        verdict="pass" if ok else "fail",
        confident=confident,
        detail=detail,
        to_decide=to_decide,
        uninformative=useless,
        **measured,
        **base,
    )


UNINFORMATIVE_FACTOR = 100.0


def uninformative(metric: Metric, kind: Kind, threshold: float) -> bool:
    """A bound two orders of magnitude away from what is measured (1 Wh against 4e-6 Wh) tells nothing.

    Rates are left out: a share of 0.001 against a bound of 0.15 is a real, informative pass.
    """
    if sample_size.kind_of(metric) == "rate" or metric.value is None:
        return False
    value = float(metric.value)
    if kind == "at_most":
        return value > 0 and threshold >= UNINFORMATIVE_FACTOR * value
    return threshold > 0 and value >= UNINFORMATIVE_FACTOR * threshold


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
    groups: dict[str, list[Metric]] = defaultdict(list)  # every segment of at least k
    large: dict[str, list[Metric]] = defaultdict(list)  # those of at least min_n too
    too_small: list[Metric] = []
    for m in metrics:
        # One attribute at a time: an intersection (`a=x&b=y`) is never set against a single attribute.
        if m.name != crit.metric or m.segment is None or m.is_missing or "&" in m.segment:
            continue
        attribute = m.segment.split("=", 1)[0]
        if crit.by is not None and attribute != crit.by:
            continue
        groups[attribute].append(m)
        needed = sample_size.required_n(m, crit.min_n)
        if needed is not None and (m.n or 0) < needed:
            too_small.append(m)
        else:
            large[attribute].append(m)
    across = f"by {crit.by}" if crit.by else "by any attribute"
    unjudged = ", ".join(f"{m.segment} (n = {m.n or 0})" for m in too_small)
    if not any(len(ms) >= 2 for ms in groups.values()):
        return CriterionVerdict(
            dimension=_dimension_of(crit.metric, metrics),
            verdict="missing",
            detail=f"fewer than two segments ({across}) of at least k sessions to compare",
            **base,
        )
    everyone = _spread(kind, threshold, groups)
    judged = _spread(kind, threshold, large)
    if judged is None or judged.ok != everyone.ok:  # type: ignore[union-attr]
        # The verdict turns on groups too small to judge: say so rather than pick one.
        return CriterionVerdict(
            dimension=_dimension_of(crit.metric, metrics),
            verdict="insufficient",
            observed=everyone.observed,  # type: ignore[union-attr]
            detail=f"{everyone.describe()}; the verdict depends on segments ({across}) "  # type: ignore[union-attr]
            f"below min_n: {unjudged}",
            **base,
        )
    detail = judged.describe()
    if too_small:
        detail += f"; not judged, fewer than min_n: {unjudged}"
    return CriterionVerdict(
        dimension=judged.high.dimension,
        verdict="pass" if judged.ok else "fail",
        observed=judged.observed,
        ci_low=judged.interval.ci_low,
        ci_high=judged.interval.ci_high,
        method=judged.interval.method,
        n=(judged.low.n or 0) + (judged.high.n or 0),
        confident=judged.confident,
        detail=detail,
        unit=judged.high.unit if kind == "max_gap" else "",
        segment=f"{judged.attribute}: {judged.worst.segment} vs {judged.best.segment}",
        **base,
    )


class _Spread:
    """The widest gap (or smallest ratio) across the attributes judged, and how sure it is."""

    def __init__(
        self, kind: Kind, threshold: float, observed: float, attribute: str, low: Metric, high: Metric
    ):
        self.kind, self.threshold, self.observed, self.attribute = kind, threshold, observed, attribute
        self.low, self.high = low, high
        self.ok = observed <= threshold if kind == "max_gap" else observed >= threshold
        better_high = high.higher_is_better is not False
        self.worst, self.best = (low, high) if better_high else (high, low)
        lo = stats.Estimate(float(low.value), low.ci_low, low.ci_high, low.n or 0, low.method)  # type: ignore[arg-type]
        hi = stats.Estimate(float(high.value), high.ci_low, high.ci_high, high.n or 0, high.method)  # type: ignore[arg-type]
        self.interval = stats.difference(hi, lo) if kind == "max_gap" else stats.ratio(lo, hi)
        self.confident: bool | None = None

    def describe(self) -> str:
        what = "gap" if self.kind == "max_gap" else "ratio"
        text = (
            f"{what} {self.observed:.4g} by {self.attribute}: worst-off {self.worst.segment} "
            f"({float(self.worst.value):.4g}, n = {self.worst.n}) vs best-off {self.best.segment} "  # type: ignore[arg-type]
            f"({float(self.best.value):.4g}, n = {self.best.n})"  # type: ignore[arg-type]
        )
        text += "" if self.ok else f", not {SIGN[self.kind].split()[-1]} {self.threshold:g}"
        if self.confident is False:
            wider = "wider" if self.ok else "narrower"
            text += f" — on the point estimates only (the segments' intervals allow a {wider} spread)"
        return text


def _spread(kind: Kind, threshold: float, groups: dict[str, list[Metric]]) -> _Spread | None:
    """Judge every attribute; the verdict is the worst one, the confidence must hold for all of them."""

    def measure(lo: float, hi: float) -> float:
        if kind == "max_gap":
            return hi - lo
        return lo / hi if hi else 1.0

    def passes(x: float) -> bool:
        return x <= threshold if kind == "max_gap" else x >= threshold

    judged: list[tuple[_Spread, bool | None]] = []
    for attribute, ms in sorted(groups.items()):
        if len(ms) < 2:
            continue
        low = min(ms, key=lambda m: float(m.value))  # type: ignore[arg-type]
        high = max(ms, key=lambda m: float(m.value))  # type: ignore[arg-type]
        spread = _Spread(kind, threshold, measure(float(low.value), float(high.value)), attribute, low, high)  # type: ignore[arg-type]
        sure: bool | None = None
        if all(m.ci_low is not None and m.ci_high is not None for m in ms):
            # Conservative: the widest spread the intervals allow must still satisfy the bound.
            lo_bound = min(float(m.ci_low) for m in ms)  # type: ignore[arg-type]
            hi_bound = max(float(m.ci_high) for m in ms)  # type: ignore[arg-type]
            sure = passes(measure(lo_bound, hi_bound))
        judged.append((spread, sure))
    if not judged:
        return None
    pick = max if kind == "max_gap" else min
    chosen = pick(judged, key=lambda j: j[0].observed)[0]
    if chosen.ok:
        sures = [j[1] for j in judged]
        chosen.confident = None if any(x is None for x in sures) else all(bool(x) for x in sures)
    elif chosen.low.ci_high is not None and chosen.high.ci_low is not None:
        # A fail is sure when even the narrowest spread the two intervals allow fails.
        narrow_lo, narrow_hi = float(chosen.low.ci_high), float(chosen.high.ci_low)
        chosen.confident = narrow_lo < narrow_hi and not passes(measure(narrow_lo, narrow_hi))
    return chosen


def judge(criterion: CriterionSpec, metrics: list[Metric]) -> CriterionVerdict:
    """The verdict of one criterion on a run's metrics; missing evidence never passes."""
    if criterion.max_gap is not None or criterion.min_ratio is not None:
        verdict = _group_verdict(criterion, metrics)
    else:
        verdict = _threshold_verdict(criterion, metrics)
    if criterion.waiver is not None and verdict.verdict in ("fail", "missing", "insufficient"):
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
        elif v.verdict in ("missing", "insufficient"):  # too small a sample counts as missing evidence
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
        elif any(v.verdict in ("missing", "insufficient") and v.severity == "blocking" for v in mine):
            dim.verdict = "missing"
        elif any(v.verdict in ("fail", "missing", "insufficient") for v in mine):
            dim.verdict = "advisory"
        elif any(v.verdict == "waived" for v in mine):
            dim.verdict = "waived"
        else:
            dim.verdict = "pass"
    order = {f: i for i, f in enumerate(FAMILIES)}
    return sorted(dims.values(), key=lambda d: (order.get(d.dimension, len(order)), d.dimension))


def recommend(
    verdicts: list[CriterionVerdict], evaluator_errors: list[str], synthetic: list[str] | None = None
) -> tuple[Recommendation, list[str]]:
    """go (every blocking criterion passes with its evidence), iterate, or stop.

    Stop only on a blocking fail the interval confirms (or a measurement without sampling error);
    a blocking fail or pass on the point estimate alone, or too small a sample, is iterate.
    """
    blocking = [v for v in verdicts if v.severity == "blocking"]
    sure_fail = [v for v in blocking if v.verdict == "fail" and v.confident is not False]
    unsure_fail = [v for v in blocking if v.verdict == "fail" and v.confident is False]
    blocking_missing = [v for v in blocking if v.verdict == "missing"]
    insufficient = [v for v in blocking if v.verdict == "insufficient"]
    advisory = [
        v for v in verdicts if v.verdict in ("fail", "missing", "insufficient") and v.severity == "advisory"
    ]
    unsure = [v for v in blocking if v.verdict == "pass" and v.confident is False]
    waived = [v for v in verdicts if v.verdict == "waived"]
    reasons: list[str] = []
    recommendation: Recommendation
    if sure_fail:
        recommendation = "stop"
        reasons += [f"blocking criterion failed: {v.label} ({v.detail})" for v in sure_fail]
        reasons += [f"fails on the point estimate only: {v.label} ({v.detail})" for v in unsure_fail]
        reasons += [f"evidence missing: {v.label}" for v in blocking_missing]
        reasons += [f"too few observations: {v.label}" for v in insufficient]
        reasons += [f"advisory criterion {v.verdict}: {v.label}" for v in advisory]
    elif unsure_fail or blocking_missing or insufficient or advisory or unsure or not verdicts:
        recommendation = "iterate"
        reasons += [f"fails on the point estimate only: {v.label} ({v.detail})" for v in unsure_fail]
        reasons += [f"evidence missing: {v.label} ({v.detail})" for v in blocking_missing]
        reasons += [f"too few observations: {v.label} ({v.detail})" for v in insufficient]
        reasons += [f"advisory criterion {v.verdict}: {v.label}" for v in advisory]
        reasons += [f"passes on the point estimate only: {v.label} ({v.detail})" for v in unsure]
        if not verdicts:
            reasons.append("the experiment declares no criteria")
    elif any(s.startswith("acceptability") for s in synthetic or []):
        # Generated answers say nothing about what citizens accept: never a go on them.
        recommendation = "iterate"
        reasons.append(
            "every blocking criterion passes, but the acceptability evidence is SYNTHETIC (demo answers, "
            "not real people): collect real responses before any go"
        )
    else:
        recommendation = "go"
        reasons.append("every blocking criterion passes")
    reasons += [f"SYNTHETIC evidence: {s}" for s in synthetic or []]
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
    behind = left_behind(list(criteria), metrics)
    for v, c in zip(verdicts, criteria, strict=True):
        # Name the groups a whole-run criterion fails for, so the average never hides them.
        mine = [g for g in behind if g.label == (c.label or c.metric) and g.metric == c.metric]
        sure = [g for g in mine if g.confident and g.enough]
        if sure and v.verdict in ("pass", "fail", "waived"):
            v.detail += "; fails for " + "; ".join(g.describe() for g in sure[:3])
            v.detail += f" and {len(sure) - 3} more groups" if len(sure) > 3 else ""
    errors = list(evaluator_errors or [])
    synthetic = synthetic_evidence(metrics)
    recommendation, reasons = recommend(verdicts, errors, synthetic)
    return Scorecard(
        experiment=experiment,
        description=description,
        run_id=run_id,
        spec_digest=spec_digest,
        audit_root=audit_root,
        sessions=sessions,
        criteria=verdicts,
        dimensions=_dimension_verdicts(verdicts, metrics),
        left_behind=behind,
        recommendation=recommendation,
        reasons=reasons,
        energy_method=energy_method,
        evaluator_errors=errors,
        synthetic=synthetic,
    )


def synthetic_evidence(metrics: list[Metric]) -> list[str]:
    """One line per dimension whose metrics were computed from generated data."""
    counts: dict[str, int] = defaultdict(int)
    for m in metrics:
        if m.synthetic and not m.is_missing:
            counts[m.dimension] += 1
    notes = {m.dimension: m.note for m in metrics if m.synthetic and m.note and "SYNTHETIC" in m.note}
    return [
        f"{dim}: {n} metric values computed from generated data"
        + (f" — {notes[dim]}" if dim in notes else "")
        for dim, n in sorted(counts.items())
    ]
