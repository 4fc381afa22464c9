"""The scorecard: criteria verdicts, per-dimension verdicts and a recommendation.

Rules the committee relies on:
- missing evidence is `missing`, never a pass; a blocking criterion without evidence means `iterate`;
- a sample smaller than the criterion's `min_n` whose 95% interval straddles the threshold is
  `insufficient` (shown like missing, never a pass); a whole interval on one side decides whatever n;
- a pass or a fail whose 95% interval crosses the threshold holds "on the point estimate only"
  (`confident=False`); only a blocking fail with confidence (the whole interval on the wrong side)
  gives `stop`; an undecided verdict says how many more observations would decide it;
- synthetic evidence (a simulation, generated answers) speaks as a model: its verdicts say "the model
  predicts", its interval is the simulation's Monte Carlo error, and a failure it predicts is
  `iterate` ("test with people before deploying"), never `stop` nor `go`;
- a census (`Metric.census`: every instance of a finite population measured) has no sampling
  interval and no minimum sample: its pass or fail is exact, and names the population;
- a group (a k-anonymous segment or intersection) that fails a blocking criterion with its whole
  interval is left behind: it blocks a go, whatever the whole run's verdict, and is named;
- gap and ratio criteria compare the worst-off segment with the best-off one;
- a waiver turns a fail or a missing verdict into `waived`, and the scorecard says who granted it and why.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from civiclab.records import Metric
from civiclab.scoring.equity import LeftBehind, left_behind
from civiclab.scoring.gaps import group_verdict
from civiclab.scoring.verdicts import (
    FAMILIES,
    SCORECARD_VERSION,
    SIGN,
    CriterionVerdict,
    DimensionVerdict,
    Kind,
    Recommendation,
    Scorecard,
    Verdict,
    dimension_of,
)
from civiclab.spec.experiment import CriterionSpec
from civiclab.stats import sample_size

__all__ = [
    "FAMILIES",
    "SCORECARD_VERSION",
    "SIGN",
    "CriterionVerdict",
    "DimensionVerdict",
    "Kind",
    "Recommendation",
    "Scorecard",
    "Verdict",
    "build_scorecard",
    "judge",
    "recommend",
    "synthetic_evidence",
    "uninformative",
]


def _why_missing(crit: CriterionSpec, metrics: list[Metric], found: Metric | None) -> str:
    """Say why evidence is missing: the evaluator failed, the segment is too small, or nothing measured it."""
    if found is not None and found.error:
        return f"the metric could not be computed: {found.error}"
    dimension = dimension_of(crit.metric, metrics)
    crashed = [m for m in metrics if m.dimension == dimension and m.name.endswith(".evaluator_error")]
    if crashed:
        return f"no evidence: the {dimension} evaluator failed ({crashed[0].error})"
    if crit.segment and any(m.name == crit.metric for m in metrics):
        return f"no evidence for segment {crit.segment} (absent, or fewer than k sessions)"
    return "no evidence for this metric"


def _threshold_verdict(crit: CriterionSpec, metrics: list[Metric], rules: int) -> CriterionVerdict:
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
            dimension=dimension_of(crit.metric, metrics),
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
        synthetic=metric.synthetic is not None,
        units=metric.distinct_units,
        unit_of_replication=metric.unit_of_replication,
    )
    # Rules 3: the minimum counts distinct units (39 questions behind 201 turns are 39 units).
    sample = sample_size.sample_of(metric, rules)
    sample_words = (
        f"{sample} distinct {sample_size.plural(metric.unit_of_replication)} ({metric.n} observations)"
        if rules >= 3
        and metric.distinct_units is not None
        and metric.unit_of_replication
        and metric.distinct_units != metric.n
        else f"n = {metric.n or 0}"
    )
    sign = SIGN[kind]

    def passes(x: float) -> bool:
        return x >= threshold if kind == "at_least" else x <= threshold

    ok = passes(value)
    # The bound on the unfavourable side decides whether a pass survives the uncertainty, the one on
    # the favourable side whether a fail does. A bound an interval cannot give (None) is unbounded.
    worst = metric.ci_low if kind == "at_least" else metric.ci_high
    best = metric.ci_high if kind == "at_least" else metric.ci_low
    has_interval = metric.ci_low is not None or metric.ci_high is not None
    decided = has_interval and (
        (worst is not None and passes(worst)) if ok else (best is not None and not passes(best))
    )
    if metric.census is not None:
        return _census_verdict(metric, passes(value), sign, threshold, measured, base)
    small = measured["min_n"] is not None and sample < measured["min_n"]
    if small and (not decided or rules < 2):
        # Too few observations only matters while the interval straddles the threshold: a whole
        # interval on one side is a verdict whatever n (0.864 [0.667, 0.953] at n = 22 fails <= 0.05).
        detail = f"{sample_words} < min_n {measured['min_n']}: {value:.4g} observed, too few to judge"
        decide = sample_size.decide_text(metric, threshold)
        return CriterionVerdict(
            verdict="insufficient",
            detail=detail + (f"; {decide}" if decide else ""),
            to_decide=sample_size.needed_to_decide(metric, threshold),
            **measured,
            **base,
        )

    # A simulation's interval is the Monte Carlo error of the model's constants: it narrows with more
    # simulated sessions and says nothing about citizens, so it is named as such and never "decided"
    # by more of them.
    simulated = metric.synthetic is not None
    interval = "95% Monte Carlo interval" if simulated else "95% interval"
    confident: bool | None = None
    detail = f"{value:.4g} {sign} {threshold:g}" if ok else f"{value:.4g} not {sign} {threshold:g}"
    if has_interval:
        confident = decided
        if not confident:
            crosses = "crosses" if ok else "reaches"
            detail += f" on the point estimate only (the {interval} {crosses} the threshold)"
    if small:
        side = "clears" if ok else "misses"
        detail += (
            f"; {sample_words} < min_n {measured['min_n']}, but the whole {interval} {side} the threshold"
        )
    useless = uninformative(metric, kind, threshold)
    if useless:
        factor = threshold / value if kind == "at_most" else value / threshold
        detail += (
            f"; UNINFORMATIVE: the threshold is {factor:.0e}× the observed value, so this criterion "
            "could not have failed: set a threshold on the scale of what is measured"
        )
    to_decide = None
    if confident is False and not simulated:
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


def _census_verdict(
    metric: Metric, ok: bool, sign: str, threshold: float, measured: dict[str, Any], base: dict[str, Any]
) -> CriterionVerdict:
    """A census measured every instance of its population: the value is exact, so is the verdict."""
    value = float(metric.value)  # type: ignore[arg-type]
    detail = f"{value:.4g} {sign} {threshold:g}" if ok else f"{value:.4g} not {sign} {threshold:g}"
    of = f" of {metric.n}" if metric.n is not None else ""
    detail += f"; census{of}: {metric.census} (exact, no sampling interval)"
    measured = {**measured, "ci_low": None, "ci_high": None, "min_n": None, "census": metric.census}
    return CriterionVerdict(
        verdict="pass" if ok else "fail", confident=True, detail=detail, **measured, **base
    )


MODEL_PREDICTS = "the model predicts"
"""How a verdict on synthetic (simulated or generated) evidence begins: a prediction, not an observation."""
PREDICTED_FAILURE = "the model predicts failure: test with people before deploying"
"""Why a blocking failure on synthetic evidence alone is iterate, never stop."""

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


def judge(
    criterion: CriterionSpec, metrics: list[Metric], rules: int = SCORECARD_VERSION
) -> CriterionVerdict:
    """The verdict of one criterion on a run's metrics; missing evidence never passes.

    `rules` is the scorecard version whose rules apply (`SCORECARD_VERSION`; see `build_scorecard`).
    """
    if criterion.max_gap is not None or criterion.min_ratio is not None:
        verdict = group_verdict(criterion, metrics, rules)
    else:
        verdict = _threshold_verdict(criterion, metrics, rules)
    if verdict.synthetic and verdict.verdict in ("pass", "fail"):
        # Generated or simulated evidence is a model's output: it predicts, it does not observe.
        verdict.detail = f"{MODEL_PREDICTS} {verdict.detail}"
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


LEFT_BEHIND_SHOWN = 5
"""Groups left behind named in the reasons; the scorecard's table lists them all."""


def _left_behind_reasons(groups: list[LeftBehind]) -> list[str]:
    """One reason per group left behind, the same people once (80+ = no device: same n, same value)."""
    same: dict[tuple[str, int | None, float], list[LeftBehind]] = {}
    for g in groups:
        same.setdefault((g.label, g.n, g.observed), []).append(g)
    reasons = []
    for alike in list(same.values())[:LEFT_BEHIND_SHOWN]:
        g = alike[0]
        predicts = f"{MODEL_PREDICTS} that " if g.synthetic else ""
        names = " = ".join(x.segment for x in alike)
        what = f"{g.observed:.4g} not {SIGN[g.kind]} {g.threshold:g}"
        reasons.append(f"group left behind: {predicts}{names} fails {g.label} ({what}; {g.describe()})")
    if len(same) > LEFT_BEHIND_SHOWN:
        reasons.append(f"and {len(same) - LEFT_BEHIND_SHOWN} more groups left behind (see the scorecard)")
    return reasons


def recommend(
    verdicts: list[CriterionVerdict],
    evaluator_errors: list[str],
    synthetic: list[str] | None = None,
    behind: list[LeftBehind] | None = None,
    rules: int = SCORECARD_VERSION,
) -> tuple[Recommendation, list[str]]:
    """go (every blocking criterion passes with its evidence), iterate, or stop.

    A group left behind (`LeftBehind.blocks_go`) makes a go an iterate. Stop only on a blocking fail the interval confirms (or a measurement without sampling error) on
    evidence about real people; a blocking fail or pass on the point estimate alone, too small a
    sample, or a failure only a simulation (synthetic evidence) predicts, is iterate.
    """
    blocking = [v for v in verdicts if v.severity == "blocking"]
    simulated = rules >= 2  # version 1 stopped on a simulation's failure as on an observed one
    sure_fail = [
        v
        for v in blocking
        if v.verdict == "fail" and v.confident is not False and not (v.synthetic and simulated)
    ]
    predicted_fail = [
        v for v in blocking if v.verdict == "fail" and v.confident is not False and v.synthetic and simulated
    ]
    unsure_fail = [v for v in blocking if v.verdict == "fail" and v.confident is False]
    blocking_missing = [v for v in blocking if v.verdict == "missing"]
    insufficient = [v for v in blocking if v.verdict == "insufficient"]
    advisory = [
        v for v in verdicts if v.verdict in ("fail", "missing", "insufficient") and v.severity == "advisory"
    ]
    unsure = [v for v in blocking if v.verdict == "pass" and v.confident is False]
    waived = [v for v in verdicts if v.verdict == "waived"]
    # A group failing a blocking criterion with its whole interval is left behind: no go, whatever
    # the average says.
    groups = [g for g in behind or [] if g.blocks_go] if rules >= 2 else []
    reasons: list[str] = []
    recommendation: Recommendation
    if sure_fail:
        recommendation = "stop"
        reasons += [f"blocking criterion failed: {v.label} ({v.detail})" for v in sure_fail]
        reasons += [f"{PREDICTED_FAILURE}: {v.label} ({v.detail})" for v in predicted_fail]
        reasons += [f"fails on the point estimate only: {v.label} ({v.detail})" for v in unsure_fail]
        reasons += [f"evidence missing: {v.label}" for v in blocking_missing]
        reasons += [f"too few observations: {v.label}" for v in insufficient]
        reasons += [f"advisory criterion {v.verdict}: {v.label}" for v in advisory]
        reasons += _left_behind_reasons(groups)
    elif (
        predicted_fail
        or unsure_fail
        or blocking_missing
        or insufficient
        or advisory
        or unsure
        or groups
        or not verdicts
    ):
        # A failure the model predicts is a reason to test with people, not to stop on simulation alone.
        recommendation = "iterate"
        reasons += [f"{PREDICTED_FAILURE}: {v.label} ({v.detail})" for v in predicted_fail]
        reasons += [f"fails on the point estimate only: {v.label} ({v.detail})" for v in unsure_fail]
        reasons += [f"evidence missing: {v.label} ({v.detail})" for v in blocking_missing]
        reasons += [f"too few observations: {v.label} ({v.detail})" for v in insufficient]
        reasons += [f"advisory criterion {v.verdict}: {v.label}" for v in advisory]
        reasons += [f"passes on the point estimate only: {v.label} ({v.detail})" for v in unsure]
        reasons += _left_behind_reasons(groups)
        if not verdicts:
            reasons.append("the experiment declares no criteria")
    elif synthetic:
        # Generated answers or simulated sessions say nothing about how citizens fare: never a go.
        recommendation = "iterate"
        dimensions = ", ".join(s.split(":", 1)[0] for s in synthetic)
        reasons.append(
            f"every blocking criterion passes, but the {dimensions} evidence is SYNTHETIC (generated or "
            "simulated, not real people): collect real evidence before any go"
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
    rules: int = SCORECARD_VERSION,
) -> Scorecard:
    """Judge every criterion, then each dimension, then recommend go, iterate or stop.

    `rules` is the scorecard version whose rules apply: the current one for a new run, the version a
    signed scorecard states when `verify` re-judges it (a run signed under version 1 keeps its verdicts).
    """
    verdicts = [judge(c, metrics, rules) for c in criteria]
    behind = left_behind(list(criteria), metrics)
    for v, c in zip(verdicts, criteria, strict=True):
        # Name the groups a whole-run criterion fails for, so the average never hides them.
        mine = [g for g in behind if g.label == (c.label or c.metric) and g.metric == c.metric]
        sure = [g for g in mine if g.confident]
        if sure and v.verdict in ("pass", "fail", "waived"):
            v.detail += "; fails for " + "; ".join(g.describe() for g in sure[:3])
            v.detail += f" and {len(sure) - 3} more groups" if len(sure) > 3 else ""
    errors = list(evaluator_errors or [])
    synthetic = synthetic_evidence(metrics)
    recommendation, reasons = recommend(verdicts, errors, synthetic, behind, rules)
    return Scorecard(
        version=rules,
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
    """One line per dimension whose metrics were computed from generated data, with why (`Metric.synthetic`)."""
    counts: dict[str, int] = defaultdict(int)
    reasons: dict[str, str] = {}
    for m in metrics:
        if m.synthetic is not None and not m.is_missing:
            counts[m.dimension] += 1
            reasons.setdefault(m.dimension, m.synthetic)
    return [
        f"{dim}: {n} metric values computed from generated data — {reasons[dim]}"
        for dim, n in sorted(counts.items())
    ]
