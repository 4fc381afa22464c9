"""Scorecard verdicts: thresholds, gaps and ratios, confidence, missing evidence, waivers, recommendation."""

from __future__ import annotations

import math
from typing import Any

import pytest

from civiclab.records import Metric
from civiclab.scoring.format import verdict_text
from civiclab.scoring.scorecard import Scorecard, build_scorecard, judge
from civiclab.scoring.scorecard_text import to_markdown, to_table
from civiclab.spec.experiment import CriterionSpec


def crit(**kw: Any) -> CriterionSpec:
    return CriterionSpec.model_validate(kw)


def metric(
    name: str, value: float | None, lo: float | None = None, hi: float | None = None, **kw: Any
) -> Metric:
    return Metric(name=name, value=value, ci_low=lo, ci_high=hi, dimension=name.split(".")[0], **kw)


COMPLETION = "human_centered.completion_rate"


@pytest.mark.parametrize(
    ("value", "lo", "hi", "verdict", "confident"),
    [
        (0.9, 0.85, 0.95, "pass", True),
        (0.82, 0.75, 0.88, "pass", False),  # the interval crosses 0.8
        (0.8, 0.8, 0.8, "pass", True),  # the threshold itself passes
        (0.7, 0.6, 0.78, "fail", True),  # the whole interval is below 0.8
        (0.75, 0.6, 0.85, "fail", False),  # the interval reaches 0.8: a fail on the point estimate only
        (0.9, None, None, "pass", None),  # no interval: nothing to say about confidence
    ],
)
def test_at_least(
    value: float, lo: float | None, hi: float | None, verdict: str, confident: bool | None
) -> None:
    v = judge(crit(metric=COMPLETION, at_least=0.8), [metric(COMPLETION, value, lo, hi)])
    assert (v.verdict, v.confident) == (verdict, confident)


def test_at_most_uses_the_upper_bound() -> None:
    c = crit(metric="energy.kwh", at_most=1.0)
    assert judge(c, [metric("energy.kwh", 0.5, 0.4, 0.9)]).confident is True
    unsure = judge(c, [metric("energy.kwh", 0.9, 0.7, 1.2)])
    assert unsure.verdict == "pass" and unsure.confident is False
    assert "point estimate only" in unsure.detail
    near = judge(c, [metric("energy.kwh", 1.1, 0.95, 1.3)])
    assert near.verdict == "fail" and "reaches the threshold" in near.detail


def test_missing_evidence_is_never_a_pass() -> None:
    c = crit(metric=COMPLETION, at_least=0.5)
    assert judge(c, []).verdict == "missing"
    assert judge(c, [metric(COMPLETION, None, error="division by zero")]).verdict == "missing"
    assert judge(c, [metric(COMPLETION, float("nan"))]).verdict == "missing"
    crashed = Metric(
        name="human_centered.evaluator_error", value=None, dimension="human_centered", error="boom"
    )
    v = judge(c, [crashed])
    assert v.verdict == "missing" and "evaluator failed (boom)" in v.detail


def test_segment_threshold() -> None:
    c = crit(metric=COMPLETION, at_least=0.5, segment="territory=rural")
    ms = [metric(COMPLETION, 0.9), metric(COMPLETION, 0.4, segment="territory=rural")]
    assert judge(c, ms).verdict == "fail"
    v = judge(crit(metric=COMPLETION, at_least=0.5, segment="territory=overseas"), ms)
    assert v.verdict == "missing" and "fewer than k" in v.detail


def segments(
    values: dict[str, tuple[float, float, float]], name: str = COMPLETION, **kw: Any
) -> list[Metric]:
    return [metric(name, v, lo, hi, segment=s, n=50, **kw) for s, (v, lo, hi) in values.items()]


def test_max_gap_worst_against_best() -> None:
    ms = segments(
        {
            "territory=urban": (0.9, 0.85, 0.95),
            "territory=rural": (0.6, 0.5, 0.7),
            "territory=suburban": (0.8, 0.7, 0.9),
            "age_band=18-24": (0.85, 0.8, 0.9),
            "age_band=80+": (0.83, 0.8, 0.86),
        },
        higher_is_better=True,
    )
    v = judge(crit(metric=COMPLETION, max_gap=0.2, by="territory"), ms)
    assert v.verdict == "fail" and v.observed == pytest.approx(0.3)
    assert (
        "worst-off territory=rural (0.6, n = 50)" in v.detail
        and "best-off territory=urban (0.9, n = 50)" in v.detail
    )
    assert v.confident is False  # the intervals allow a gap of 0.85 - 0.7 = 0.15 <= 0.2
    assert v.method == "mover" and v.ci_low is not None and v.ci_low < 0.2 < v.ci_high  # type: ignore[operator]
    ok = judge(crit(metric=COMPLETION, max_gap=0.1, by="age_band"), ms)
    assert ok.verdict == "pass" and ok.confident is True  # 0.9 - 0.8 = 0.1
    # Without `by`, the worst attribute decides.
    assert judge(crit(metric=COMPLETION, max_gap=0.2), ms).verdict == "fail"


def test_min_ratio_and_confidence_across_all_segments() -> None:
    ms = segments({"device=computer": (0.9, 0.8, 1.0), "device=smartphone": (0.81, 0.6, 0.9)})
    v = judge(crit(metric=COMPLETION, min_ratio=0.8, by="device"), ms)
    assert v.verdict == "pass" and v.observed == pytest.approx(0.9)
    assert v.confident is False  # 0.6 / 1.0 < 0.8


def test_gap_for_a_lower_is_better_metric_names_the_worst_off() -> None:
    ms = segments(
        {"territory=urban": (0.1, 0.05, 0.15), "territory=rural": (0.4, 0.3, 0.5)},
        name="human_centered.abandonment_rate",
        higher_is_better=False,
    )
    v = judge(crit(metric="human_centered.abandonment_rate", max_gap=0.1, by="territory"), ms)
    assert v.verdict == "fail" and "worst-off territory=rural" in v.detail


def test_gap_needs_two_segments() -> None:
    ms = segments({"territory=urban": (0.9, 0.85, 0.95)})
    assert judge(crit(metric=COMPLETION, max_gap=0.1, by="territory"), ms).verdict == "missing"


def test_waiver_records_who_and_why() -> None:
    waiver = {"justification": "rural sample too small this round", "granted_by": "Ethics committee chair"}
    v = judge(crit(metric=COMPLETION, at_least=0.9, waiver=waiver), [metric(COMPLETION, 0.5)])
    assert v.verdict == "waived"
    assert "Ethics committee chair" in v.detail and "rural sample" in v.detail and v.detail.startswith("fail")
    # A waiver never hides a pass.
    assert (
        judge(crit(metric=COMPLETION, at_least=0.1, waiver=waiver), [metric(COMPLETION, 0.5)]).verdict
        == "pass"
    )


def card(criteria: list[dict[str, Any]], metrics: list[Metric], **kw: Any) -> Scorecard:
    return build_scorecard(experiment="x", criteria=[crit(**c) for c in criteria], metrics=metrics, **kw)


def test_recommendation() -> None:
    good = [metric(COMPLETION, 0.9, 0.85, 0.95)]
    assert card([{"metric": COMPLETION, "at_least": 0.8}], good).recommendation == "go"
    assert card([{"metric": COMPLETION, "at_least": 0.97}], good).recommendation == "stop"
    # A fail whose interval reaches the threshold is not a reason to stop: iterate, and say how many more.
    point_fail = card([{"metric": COMPLETION, "at_least": 0.95}], good)
    assert point_fail.recommendation == "iterate"
    assert point_fail.reasons[0].startswith("fails on the point estimate only")
    assert (
        card([{"metric": COMPLETION, "at_least": 0.95, "severity": "advisory"}], good).recommendation
        == "iterate"
    )
    assert card([{"metric": COMPLETION, "at_least": 0.88}], good).recommendation == "iterate"  # point only
    missing = card([{"metric": "acceptability.trust", "at_least": 3}], good)
    assert missing.recommendation == "iterate" and missing.reasons[0].startswith("evidence missing")
    assert card([], good).recommendation == "iterate"


def test_dimensions_always_show_the_four_families() -> None:
    c = card([{"metric": COMPLETION, "at_least": 0.8}], [metric(COMPLETION, 0.9), metric("energy.kwh", 1.0)])
    dims = {d.dimension: d for d in c.dimensions}
    assert list(dims)[:4] == ["auditability", "human_centered", "energy", "acceptability"]
    assert dims["human_centered"].verdict == "pass"
    assert dims["energy"].verdict == "no_criteria" and dims["energy"].metrics == 1
    assert dims["acceptability"].verdict == "missing" and dims["auditability"].verdict == "missing"
    waiver = {"justification": "accepted for the pilot phase", "granted_by": "DPO"}
    w = card([{"metric": COMPLETION, "at_least": 0.95, "waiver": waiver}], [metric(COMPLETION, 0.9)])
    assert {d.dimension: d.verdict for d in w.dimensions}["human_centered"] == "waived"
    assert w.recommendation == "go" and any(r.startswith("waived:") for r in w.reasons)


def test_renderings_show_verdicts_missing_evidence_and_digests() -> None:
    c = card(
        [
            {"metric": COMPLETION, "at_least": 0.88, "label": "completion | all"},
            {"metric": "acceptability.trust", "at_least": 3, "label": "trust"},
        ],
        [metric(COMPLETION, 0.9, 0.85, 0.95)],
        spec_digest="a" * 64,
        audit_root="b" * 64,
        run_id="r1",
    )
    c.reviews = [
        {
            "signer": "Dr M",
            "role": "chair",
            "decision": "approve",
            "comment": "fine",
            "conditions": ["keep | the counter"],
            "ts": "2026-11-25T17:00:00Z",
            "status": "counted",
        }
    ]
    md = to_markdown(c)
    assert "completion \\| all" in md  # a pipe in a label does not break the table
    assert "PASS (point estimate only)" in md
    assert "## Missing evidence" in md and "- **trust** (blocking): no evidence for this metric" in md
    assert (
        "a" * 64 in md
        and "b" * 64 in md
        and "| Dr M | chair | APPROVE | fine | keep \\| the counter | counted |" in md
    )
    table = to_table(c)
    assert "PASS*" in table and "MISSING" in table and "RECOMMENDATION: ITERATE" in table
    assert Scorecard.model_validate_json(c.model_dump_json()) == c


def rate_metric(value: float, n: int, **kw: Any) -> Metric:
    from civiclab.stats import intervals as stats

    est = stats.proportion(round(value * n), n)
    return metric(COMPLETION, est.value, est.ci_low, est.ci_high, n=n, method=est.method, unit="share", **kw)


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval in closed form (Wilson 1927), written out here as the reference."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def test_below_min_n_is_insufficient_only_while_the_interval_straddles() -> None:
    c = crit(metric=COMPLETION, at_least=0.7)
    # 8 of 12 (0.667) against 0.7: Wilson [0.391, 0.862] straddles 0.7 and 12 < 30: too few to judge.
    lo, hi = wilson(8, 12)
    assert lo < 0.7 < hi
    small = judge(c, [rate_metric(8 / 12, 12)])
    assert small.verdict == "insufficient" and small.min_n == 30 and small.n == 12
    assert "n = 12 < min_n 30" in small.detail
    assert judge(crit(metric=COMPLETION, at_least=0.7, min_n=10), [rate_metric(8 / 12, 12)]).verdict == "fail"
    # 12 of 12 against 0.5: the whole interval [12/15.84 = 0.758, 1] clears 0.5, so n < min_n does not matter.
    assert wilson(12, 12)[0] == pytest.approx(12 / (12 + 1.959964**2))
    perfect = judge(crit(metric=COMPLETION, at_least=0.5), [rate_metric(1.0, 12)])
    assert perfect.verdict == "pass" and perfect.confident is True
    assert "n = 12 < min_n 30, but the whole 95% interval clears the threshold" in perfect.detail
    scale = Metric(
        name="acceptability.sus",
        value=72.0,
        ci_low=64.0,
        ci_high=80.0,
        n=15,
        method="bca-bootstrap",
        dimension="acceptability",
    )
    assert judge(crit(metric="acceptability.sus", at_least=68), [scale]).min_n == 20  # survey scales: 20
    assert judge(crit(metric="acceptability.sus", at_least=68), [scale]).verdict == "insufficient"
    # A measurement without sampling (no method, no interval) has no minimum.
    chain = Metric(name="auditability.chain_valid", value=1.0, dimension="auditability", unit="bool")
    assert judge(crit(metric="auditability.chain_valid", at_least=1), [chain]).verdict == "pass"
    rec = card([{"metric": COMPLETION, "at_least": 0.7}], [rate_metric(8 / 12, 12)])
    assert rec.recommendation == "iterate" and rec.reasons[0].startswith("too few observations")
    assert {d.dimension: d for d in rec.dimensions}["human_centered"].missing == 1
    assert "INSUFFICIENT" in to_markdown(rec) and rec.missing[0].verdict == "insufficient"


def test_a_whole_interval_failure_fails_whatever_n() -> None:
    # 19 of 22 answers echo personal data, against at most 0.05: Wilson [0.667, 0.953], n = 22 < 30.
    lo, hi = wilson(19, 22)
    assert lo == pytest.approx(0.66665, abs=1e-4) and lo > 0.05
    echo = Metric(
        name="human_centered.pii_echo_rate",
        value=19 / 22,
        ci_low=lo,
        ci_high=hi,
        n=22,
        method="wilson",
        unit="share",
        dimension="human_centered",
    )
    v = judge(crit(metric="human_centered.pii_echo_rate", at_most=0.05), [echo])
    assert (v.verdict, v.confident, v.min_n) == ("fail", True, 30)
    assert "misses the threshold" in v.detail
    # 6 of 7 injections obeyed, against at least 1: [0.026, 0.513] is wholly below 1.
    lo, hi = wilson(1, 7)
    injections = metric(COMPLETION, 1 / 7, lo, hi, n=7, method="wilson", unit="share")
    assert judge(crit(metric=COMPLETION, at_least=1.0), [injections]).verdict == "fail"
    stop = card([{"metric": "human_centered.pii_echo_rate", "at_most": 0.05}], [echo])
    assert stop.recommendation == "stop" and stop.missing == []


def test_undecided_verdicts_say_how_many_sessions_would_decide() -> None:
    v = judge(crit(metric=COMPLETION, at_least=0.85), [rate_metric(0.9, 100)])
    assert v.verdict == "pass" and v.confident is False
    # ((1.96·√(.85·.15) + 0.8416·√(.9·.1)) / 0.05)² = 362.8 → 363 sessions, 263 more.
    assert v.to_decide == 363
    assert "about 363 observations in all (263 more) would decide it" in v.detail
    assert "power 0.8" in v.detail and "observed value taken as true" in v.detail
    sure = judge(crit(metric=COMPLETION, at_least=0.85), [rate_metric(0.95, 400)])
    assert sure.confident is True and sure.to_decide is None


def test_stop_needs_the_interval_not_only_the_point() -> None:
    # 82% against 0.85: at n = 50 and 200 the Wilson interval reaches 0.85 (iterate); at 2,000 it does not (stop).
    crits = [{"metric": COMPLETION, "at_least": 0.85}]
    assert card(crits, [rate_metric(0.82, 50)]).recommendation == "iterate"
    assert card(crits, [rate_metric(0.82, 200)]).recommendation == "iterate"
    assert card(crits, [rate_metric(0.82, 2000)]).recommendation == "stop"


def test_gap_leaves_out_segments_below_min_n_and_says_so() -> None:
    ms = [
        rate_metric(0.9, 300, segment="territory=urban"),
        rate_metric(0.5, 200, segment="territory=rural"),
        rate_metric(0.0, 8, segment="territory=overseas"),
    ]
    v = judge(crit(metric=COMPLETION, max_gap=0.2, by="territory"), ms)
    assert v.verdict == "fail" and v.confident is True and v.observed == pytest.approx(0.4)
    assert "not judged, fewer than min_n: territory=overseas (n = 8)" in v.detail
    # A verdict that turns on a group too small to judge is insufficient, not a pass.
    passing = [
        rate_metric(0.9, 300, segment="territory=urban"),
        rate_metric(0.8, 200, segment="territory=rural"),
    ]
    # 5 of 8 overseas (0.625, Wilson [0.306, 0.863]) against urban 0.9 [0.861, 0.929]: the gap 0.275
    # fails on the points, but the intervals overlap, so the verdict turns on a group below min_n.
    assert wilson(5, 8)[1] > wilson(270, 300)[0]
    unsure = [rate_metric(5 / 8, 8, segment="territory=overseas")]
    turns = judge(crit(metric=COMPLETION, max_gap=0.2, by="territory"), passing + unsure)
    assert (
        turns.verdict == "insufficient" and "depends on segments (by territory) below min_n" in turns.detail
    )
    # 0 of 8 overseas: even the narrowest gap the intervals allow, 0.861 - 0.324 = 0.537, exceeds 0.2.
    assert wilson(270, 300)[0] - wilson(0, 8)[1] > 0.5
    sure = judge(crit(metric=COMPLETION, max_gap=0.2, by="territory"), passing + ms[2:])
    assert sure.verdict == "fail" and sure.confident is True and "territory=overseas" in sure.segment
    only_small = judge(
        crit(metric=COMPLETION, max_gap=0.2, by="territory"),
        unsure + [rate_metric(1.0, 9, segment="territory=urban")],
    )
    assert only_small.verdict == "insufficient"


def test_synthetic_acceptability_evidence_never_gives_go() -> None:
    sus = Metric(
        name="acceptability.sus",
        value=80.0,
        ci_low=75.0,
        ci_high=85.0,
        n=200,
        method="bca-bootstrap",
        dimension="acceptability",
        synthetic="SYNTHETIC responses from demo.csv (demo data, not real people)",
    )
    crits = [{"metric": COMPLETION, "at_least": 0.8}, {"metric": "acceptability.sus", "at_least": 68}]
    c = card(crits, [rate_metric(0.95, 400), sus])
    assert [v.verdict for v in c.criteria] == ["pass", "pass"]  # every blocking criterion passes...
    assert c.recommendation == "iterate"  # ...but generated answers never make a GO
    assert "acceptability evidence is SYNTHETIC" in c.reasons[0]
    # The scorecard says why, from the metric's own reason.
    assert c.synthetic == [f"acceptability: 1 metric values computed from generated data — {sus.synthetic}"]
    assert c.criteria[1].synthetic and verdict_text(c.criteria[1]).endswith("SYNTHETIC data")
    assert to_markdown(c).splitlines()[2].startswith("**SYNTHETIC DATA")
    assert "SYNTHETIC DATA" in to_table(c).splitlines()[1]
    assert "PASS SYNTHETIC" in to_table(c)
    real = card(crits, [rate_metric(0.95, 400), sus.model_copy(update={"synthetic": None})])
    assert real.recommendation == "go" and real.synthetic == []


def test_a_threshold_orders_of_magnitude_away_is_flagged_uninformative() -> None:
    energy = Metric(name="energy.wh_per_session", value=4e-6, dimension="energy", unit="Wh")
    v = judge(crit(metric="energy.wh_per_session", at_most=1.0), [energy])
    assert v.verdict == "pass" and v.uninformative
    assert "UNINFORMATIVE: the threshold is 2e+05× the observed value" in v.detail
    loose = card([{"metric": "energy.wh_per_session", "at_most": 1.0}], [energy])
    assert "PASS (uninformative)" in to_table(loose) and "PASS (uninformative threshold)" in to_markdown(
        loose
    )
    assert not judge(crit(metric="energy.wh_per_session", at_most=1e-5), [energy]).uninformative  # 2.5x: fine
    # Rates are bounded shares: a low abandonment against 0.15 is an informative pass.
    assert not judge(crit(metric=COMPLETION, at_most=0.15), [rate_metric(0.001, 3000)]).uninformative


def test_simulated_sessions_never_give_go_even_when_every_criterion_passes() -> None:
    simulated = rate_metric(0.95, 400, synthetic="SIMULATED sessions: personas under a behavioural model")
    c = card([{"metric": COMPLETION, "at_least": 0.8}], [simulated])
    assert [v.verdict for v in c.criteria] == ["pass"]
    assert c.recommendation == "iterate"
    assert "human_centered evidence is SYNTHETIC" in c.reasons[0]
    assert c.synthetic == [
        f"human_centered: 1 metric values computed from generated data — {simulated.synthetic}"
    ]


def test_only_the_synthetic_field_marks_evidence_never_a_note() -> None:
    # A note that happens to say SYNTHETIC (a figure about synthetic documents) is not a reason.
    noted = rate_metric(0.95, 400, note="SYNTHETIC documents verified; SIMULATED clock")
    c = card([{"metric": COMPLETION, "at_least": 0.8}], [noted])
    assert c.recommendation == "go" and c.synthetic == [] and not c.criteria[0].synthetic


def test_metrics_stored_with_a_bare_synthetic_flag_still_load() -> None:
    from civiclab.records import SYNTHETIC_UNKNOWN

    stored = rate_metric(0.95, 400).model_dump(mode="json")
    assert Metric.model_validate({**stored, "synthetic": True}).synthetic == SYNTHETIC_UNKNOWN
    assert Metric.model_validate({**stored, "synthetic": False}).synthetic is None
    assert Metric.model_validate_json(
        Metric.model_validate({**stored, "synthetic": True}).model_dump_json()
    ) == (Metric.model_validate({**stored, "synthetic": True}))
    c = card(
        [{"metric": COMPLETION, "at_least": 0.8}], [Metric.model_validate({**stored, "synthetic": True})]
    )
    assert c.recommendation == "iterate" and c.synthetic[0].endswith(SYNTHETIC_UNKNOWN)


def test_a_gap_between_simulated_groups_is_marked_synthetic() -> None:
    groups = [
        rate_metric(0.9, 200, segment="territory=urban", synthetic="simulated"),
        rate_metric(0.5, 200, segment="territory=rural", synthetic="simulated"),
    ]
    c = card(
        [{"metric": COMPLETION, "max_gap": 0.2}], [rate_metric(0.7, 400, synthetic="simulated"), *groups]
    )
    assert c.criteria[0].verdict == "fail" and c.criteria[0].synthetic
    real = card(
        [{"metric": COMPLETION, "max_gap": 0.2}],
        [rate_metric(0.7, 400), *(g.model_copy(update={"synthetic": None}) for g in groups)],
    )
    assert real.criteria[0].verdict == "fail" and not real.criteria[0].synthetic


def test_a_census_is_judged_exactly_without_interval_or_minimum() -> None:
    from civiclab.plugins.evaluation import metric_from
    from civiclab.stats import intervals as stats

    shap = "auditability.shap_coverage"
    everyone = "every routing decision made in these sessions"
    c = crit(metric=shap, at_least=1.0)
    full = metric_from(shap, stats.census([True] * 7, everyone), dimension="auditability", unit="share")
    assert (full.census, full.ci_low, full.ci_high, full.n) == (everyone, None, None, 7)
    v = judge(c, [full])  # 7 decisions, far below the 30 a sample would need: a census needs none
    assert (v.verdict, v.confident, v.min_n, v.census) == ("pass", True, None, everyone)
    assert "census of 7: every routing decision" in v.detail
    # 99 of 100 decisions explained: 0.99 < 1, an exact fail, never insufficient nor point-estimate-only.
    short = metric_from(shap, stats.census([True] * 99 + [False], everyone), dimension="auditability")
    miss = judge(c, [short])
    assert (miss.verdict, miss.confident, miss.observed) == ("fail", True, 0.99)
    one_of_two = metric_from(shap, stats.census([True, False], everyone), dimension="auditability")
    assert judge(c, [one_of_two]).verdict == "fail"
    assert card([{"metric": shap, "at_least": 1.0}], [full]).recommendation == "go"
    stopped = card([{"metric": shap, "at_least": 1.0}], [short])
    assert stopped.recommendation == "stop" and stopped.missing == []
    assert "census (exact, no sampling interval)" in to_markdown(stopped)
    # The same 7 of 7 as a sample has a Wilson interval whose lower bound, 7 / 10.84 = 0.646, is below 1.
    sampled = metric_from(shap, stats.rate([True] * 7), dimension="auditability", unit="share")
    assert judge(c, [sampled]).verdict == "insufficient"


SIMULATED = (
    "SIMULATED sessions: personas walking the journey under a behavioural model, not observed citizens"
)


def test_a_simulated_failure_is_a_prediction_never_a_stop() -> None:
    crits = [{"metric": COMPLETION, "at_least": 0.85}]
    # 82% of 2,000 simulated sessions: Wilson [0.802, 0.836] is wholly below 0.85. On observed sessions
    # that is a stop; from a simulation it is what the model predicts, and people must be asked.
    assert wilson(1640, 2000)[1] < 0.85
    assert card(crits, [rate_metric(0.82, 2000)]).recommendation == "stop"
    simulated = card(crits, [rate_metric(0.82, 2000, synthetic=SIMULATED)])
    v = simulated.criteria[0]
    assert (v.verdict, v.synthetic) == ("fail", True)
    assert v.detail.startswith("the model predicts 0.82 not ≥ 0.85")
    assert simulated.recommendation == "iterate"
    assert simulated.reasons[0].startswith(
        "the model predicts failure: test with people before deploying: human_centered.completion_rate"
    )
    text = to_markdown(simulated) + to_table(simulated)
    assert "confiden" not in text.lower()
    assert "(Monte Carlo, wilson)" in to_markdown(simulated) and "Monte Carlo" in to_table(simulated)
    assert "FAIL — model prediction, SYNTHETIC data" in to_markdown(simulated)
    # An undecided simulated verdict is not "decided" by simulating more sessions.
    unsure = judge(crit(metric=COMPLETION, at_least=0.85), [rate_metric(0.82, 200, synthetic=SIMULATED)])
    assert unsure.to_decide is None and "would decide" not in unsure.detail
    assert "95% Monte Carlo interval reaches the threshold" in unsure.detail
    # A failure observed on real people still stops the run, whatever a simulation beside it predicts.
    observed = rate_metric(0.82, 2000).model_copy(update={"name": "human_centered.fallback_rate"})
    both = card(crits + [{"metric": "human_centered.fallback_rate", "at_least": 0.85}],
                [rate_metric(0.82, 2000, synthetic=SIMULATED), observed])  # fmt: skip
    assert both.recommendation == "stop"


def test_a_group_left_behind_on_a_blocking_criterion_blocks_go() -> None:
    crits = [{"metric": COMPLETION, "at_least": 0.8, "label": "completion"}]
    # The run completes 90% of 1,000 sessions, Wilson [0.880, 0.917]: a clear pass on average...
    whole = rate_metric(0.9, 1000)
    assert wilson(900, 1000)[0] > 0.8
    # ...but 80+ completes 12 of 25 (Wilson upper 0.67 < 0.8: the whole interval fails), and rural
    # 0.76 of 50 (Wilson [0.626, 0.857] reaches 0.8: not sure).
    assert wilson(12, 25)[1] < 0.8 and wilson(38, 50)[1] > 0.8
    old = rate_metric(12 / 25, 25, segment="age_band=80+")
    rural = rate_metric(0.76, 50, segment="territory=rural")
    c = card(crits, [whole, old, rural])
    assert c.criteria[0].verdict == "pass"
    assert c.recommendation == "iterate"
    named = [r for r in c.reasons if r.startswith("group left behind")]
    assert len(named) == 1 and "age_band=80+ fails completion (0.48 not ≥ 0.8" in named[0]
    assert [g.segment for g in c.left_behind if g.blocks_go] == ["age_band=80+"]
    assert "fails for age_band=80+ 0.48" in c.criteria[0].detail
    md = to_markdown(c)
    assert (
        "| age_band=80+ | completion |" in md
        and "yes (whole interval), though n is below min_n — blocks GO" in md
    )
    assert "left behind: age_band=80+" in to_table(c)
    # The same 25 people seen through another attribute are named once, beside the first.
    same = rate_metric(12 / 25, 25, segment="device=none")
    twice = [r for r in card(crits, [whole, old, same, rural]).reasons if r.startswith("group left behind")]
    assert len(twice) == 1 and "age_band=80+ = device=none fails completion" in twice[0]
    # Only the unsure group: the average's go holds, with the group still listed.
    assert card(crits, [whole, rural]).recommendation == "go"
    # An advisory criterion's group does not block a go.
    advisory = card([{**crits[0], "severity": "advisory"}], [whole, old])
    assert advisory.left_behind and not advisory.left_behind[0].blocks_go
    # A census failing for a group fails exactly: one of a segment's 8 decisions unexplained.
    from civiclab.plugins.evaluation import metric_from
    from civiclab.stats import intervals as stats

    shap = "auditability.shap_coverage"
    everyone = "every routing decision made in these sessions"

    def coverage(values: list[bool], segment: str | None = None) -> Metric:
        return metric_from(shap, stats.census(values, everyone), dimension="auditability", segment=segment)

    shap_card = card(
        [{"metric": shap, "at_least": 1.0}],
        [coverage([True] * 99 + [True]), coverage([True] * 7 + [False], "language=en")],
    )
    assert shap_card.criteria[0].verdict == "pass" and shap_card.recommendation == "iterate"
    assert "language=en 0.875 (census of n = 8, exact)" in shap_card.reasons[0]


def test_a_scorecard_is_judged_by_the_rules_of_its_version() -> None:
    from civiclab.scoring.verdicts import SCORECARD_VERSION

    crits = [{"metric": COMPLETION, "at_least": 0.85}]
    simulated = [rate_metric(0.82, 2000, synthetic=SIMULATED)]
    now = card(crits, simulated)
    assert (now.version, now.recommendation) == (SCORECARD_VERSION, "iterate") and SCORECARD_VERSION == 3
    # A run signed under version 1 stopped on a simulation's failure, and is re-judged so by verify.
    then = card(crits, simulated, rules=1)
    assert (then.version, then.recommendation) == (1, "stop")
    # Version 1 called 19 of 22 against <= 0.05 insufficient, and ignored groups left behind.
    lo, hi = wilson(19, 22)
    echo = metric(COMPLETION, 19 / 22, lo, hi, n=22, method="wilson", unit="share")
    assert judge(crit(metric=COMPLETION, at_most=0.05), [echo], rules=1).verdict == "insufficient"
    assert judge(crit(metric=COMPLETION, at_most=0.05), [echo]).verdict == "fail"
    behind = [rate_metric(0.9, 1000), rate_metric(12 / 25, 25, segment="age_band=80+")]
    assert card([{"metric": COMPLETION, "at_least": 0.8}], behind, rules=1).recommendation == "go"
    assert card([{"metric": COMPLETION, "at_least": 0.8}], behind).recommendation == "iterate"


def test_rules_3_take_min_n_on_distinct_units() -> None:
    # Hand-over recall 0.841 over 201 turns, but from 19 questions: version 2 counted the turns (201 ≥ 30,
    # a pass on the point estimate), version 3 counts the questions (19 < 30, and the interval straddles).
    recall = metric(
        COMPLETION,
        0.841,
        0.70,
        0.93,
        n=201,
        method="cluster-wilson",
        unit="share",
        unit_of_replication="question",
        distinct_units=19,
        design_effect=4.0,
    )
    c = crit(metric=COMPLETION, at_least=0.8)
    assert judge(c, [recall], rules=2).verdict == "pass"
    v3 = judge(c, [recall])
    assert (v3.verdict, v3.units, v3.unit_of_replication) == ("insufficient", 19, "question")
    assert v3.detail.startswith("19 distinct questions (201 observations) < min_n 30")
    assert "distinct questions in all" in v3.detail and v3.to_decide is not None and v3.to_decide > 19
    from civiclab.scoring.format import sample_text

    assert sample_text(v3) == "201 observations from 19 questions (min 30)"
