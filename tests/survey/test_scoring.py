"""Scoring against hand-computed values: SUS, reversed items, missing answers, alpha, rates, k."""

from __future__ import annotations

import math

import numpy as np
import pytest

from civiclab.spec.instruments import load_instrument
from civiclab.survey.responses import SurveyResponse
from civiclab.survey.scoring import (
    ScoringOptions,
    construct_scores,
    cronbach_alpha,
    feldt_interval,
    score_survey,
)

SUS = load_instrument("sus")
UTAUT = load_instrument("utaut")
TRUST = load_instrument("trust")


def sus_response(values: list[int | None], uid: str = "r", **segment: str) -> SurveyResponse:
    answers = {f"SUS[SQ{i:03d}]": v for i, v in enumerate(values, start=1) if v is not None}
    return SurveyResponse(uid=uid, complete=True, answers=answers, segment=dict(segment))  # type: ignore[arg-type]


def sus_of(values: list[int | None]) -> float:
    return float(construct_scores(SUS, SUS.constructs[0], [sus_response(values)])[0])


def test_sus_scores_by_hand() -> None:
    assert sus_of([5, 1] * 5) == 100.0  # best answers: 4 points each, 40 x 2.5
    assert sus_of([1, 5] * 5) == 0.0
    assert sus_of([3] * 10) == 50.0
    # odd items x-1 = 3, even items 5-x = 3: 30 points x 2.5
    assert sus_of([4, 2] * 5) == 75.0
    # 4,1,5,2,3,3,4,1,5,2 -> 3+4+4+3+2+2+3+4+4+3 = 32 -> 80
    assert sus_of([4, 1, 5, 2, 3, 3, 4, 1, 5, 2]) == 80.0


def test_sus_missing_items_score_at_the_midpoint_up_to_two() -> None:
    # Brooke: an unanswered item counts as the centre point, a contribution of 2.
    assert sus_of([5, 1, 5, 1, 5, 1, 5, 1, 5, None]) == pytest.approx(2.5 * (36 + 2))
    assert sus_of([5, 1, 5, 1, 5, 1, 5, 1, None, None]) == pytest.approx(2.5 * (32 + 4))
    assert math.isnan(sus_of([5, 1, 5, 1, 5, 1, 5, None, None, None]))


def utaut_response(**answers: int) -> SurveyResponse:
    return SurveyResponse(uid="u", complete=True, answers={f"UTAUT[{k}]": v for k, v in answers.items()})


def construct(instrument, code: str):  # type: ignore[no-untyped-def]
    return next(c for c in instrument.constructs if c.code == code)


def test_mean_constructs_reverse_items_and_skip_missing() -> None:
    ee = construct(UTAUT, "effort_expectancy")
    # EE3 is negatively worded: 2 on a 1-5 scale counts as 4.
    assert construct_scores(UTAUT, ee, [utaut_response(EE1=4, EE2=5, EE3=2)])[0] == pytest.approx(13 / 3)
    # One item missing: the mean of the two answered (EE3=1 -> 5).
    assert construct_scores(UTAUT, ee, [utaut_response(EE1=4, EE3=1)])[0] == pytest.approx(4.5)
    # Fewer than min_answered (2): not scored.
    assert math.isnan(construct_scores(UTAUT, ee, [utaut_response(EE1=4)])[0])
    fc = construct(UTAUT, "facilitating_conditions")
    assert construct_scores(UTAUT, fc, [utaut_response(FC1=5, FC2=5, FC3=5)])[0] == pytest.approx(11 / 3)


def test_trust_and_distrust_are_scored_separately() -> None:
    answers = {f"TRUST[SQ{i:03d}]": v for i, v in enumerate([2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1], start=1)}
    r = SurveyResponse(uid="t", complete=True, answers=answers)  # type: ignore[arg-type]
    assert construct_scores(TRUST, construct(TRUST, "distrust"), [r])[0] == pytest.approx(4.0)
    assert construct_scores(TRUST, construct(TRUST, "trust"), [r])[0] == pytest.approx(4.0)


def test_cronbach_alpha_and_feldt_interval_by_hand() -> None:
    matrix = np.array([[1, 2, 3], [2, 3, 3], [3, 3, 4], [4, 5, 5]], dtype=float)
    # item variances 5/3 + 19/12 + 11/12 = 25/6; total variance 35/3; 3/2 (1 - (25/6)/(35/3)) = 27/28
    alpha, n = cronbach_alpha(matrix)
    assert n == 4 and alpha == pytest.approx(27 / 28)
    # Listwise: a row with a missing answer is left out.
    with_gap = np.vstack([matrix, [[1, np.nan, 5]]])
    assert cronbach_alpha(with_gap) == (pytest.approx(27 / 28), 4)
    # Feldt with F(3, 6): F.975 = 6.5988, F.025 = 1 / F.975(6, 3) = 1 / 14.735
    low, high = feldt_interval(27 / 28, 4, 3)
    assert low == pytest.approx(1 - 6.5988 / 28, abs=1e-3)
    assert high == pytest.approx(1 - (1 / 14.735) / 28, abs=1e-4)
    assert cronbach_alpha(np.ones((5, 3))) == (None, 5)  # no variance: undefined, not 1 or 0


def by_name(metrics, name: str, segment: str | None = None):  # type: ignore[no-untyped-def]
    return next(m for m in metrics if m.name == name and m.segment == segment)


def test_rates_count_incomplete_responses_only_for_the_drop_off() -> None:
    complete = [sus_response([4, 2] * 5, uid=f"c{i}") for i in range(8)]
    dropped = [SurveyResponse(uid=f"d{i}", complete=False, answers={"SUS[SQ001]": 1}) for i in range(2)]
    metrics = score_survey([SUS], complete + dropped, ScoringOptions(k=5, invited=20))
    assert by_name(metrics, "acceptability.completion_rate").value == pytest.approx(0.8)
    assert by_name(metrics, "acceptability.response_rate").value == pytest.approx(8 / 20)
    assert by_name(metrics, "acceptability.respondents").value == 8
    sus = by_name(metrics, "acceptability.sus")
    assert sus.value == 75.0 and sus.n == 8  # the incomplete answers (1 on item 1) do not count
    unknown = by_name(score_survey([SUS], complete, ScoringOptions()), "acceptability.response_rate")
    assert unknown.value is None and "invited unknown" in (unknown.error or "")


def test_mean_has_a_bootstrap_interval_and_a_grade() -> None:
    responses = [sus_response([4, 2] * 5, uid=f"a{i}") for i in range(5)]
    responses += [sus_response([5, 1] * 5, uid=f"b{i}") for i in range(5)]
    sus = by_name(score_survey([SUS], responses, ScoringOptions(k=5)), "acceptability.sus")
    assert sus.value == pytest.approx(87.5)
    assert 75.0 <= sus.ci_low < 87.5 < sus.ci_high <= 100.0  # type: ignore[operator]
    assert sus.note is not None and "grade A+" in sus.note and "Sauro" in sus.note


def test_no_number_for_fewer_than_k_respondents_overall_or_in_a_segment() -> None:
    old = [sus_response([3] * 10, uid=f"o{i}", age_band="80+") for i in range(4)]
    young = [sus_response([5, 1] * 5, uid=f"y{i}", age_band="18-24") for i in range(5)]
    metrics = score_survey([SUS], old + young, ScoringOptions(k=5))
    segments = {m.segment for m in metrics if m.name == "acceptability.sus"}
    # The four people over 80 are never singled out, and neither are the five aged 18-24: with the
    # overall score of 9 published, 9 x 77.8 - 5 x 100 would give the four others' score away.
    assert segments == {None}
    assert by_name(metrics, "acceptability.sus").value == pytest.approx((4 * 50 + 5 * 100) / 9)
    more = score_survey(
        [SUS],
        old + young + [sus_response([4, 2] * 5, uid=f"m{i}", age_band="40-64") for i in range(6)],
        ScoringOptions(k=5),
    )
    shown = {m.segment for m in more if m.name == "acceptability.sus"}
    # With six more aged 40-64, hiding 18-24 as well leaves 4 + 5 = 9 >= k people pooled: 40-64 can be shown.
    assert shown == {None, "age_band=40-64"}

    few = score_survey([SUS], old, ScoringOptions(k=5))
    sus = by_name(few, "acceptability.sus")
    assert sus.value is None and "fewer than k=5" in (sus.error or "")
    assert by_name(few, "acceptability.sus_alpha").value is None


def test_bootstrap_over_distinct_values_matches_the_resampling_bootstrap() -> None:
    from civiclab.stats import intervals as stats
    from civiclab.survey.scoring import bootstrap_mean

    values = np.random.default_rng(3).integers(0, 41, size=400) * 2.5  # SUS-like scores
    fast, slow = bootstrap_mean(values, resamples=4000), stats.mean(values, resamples=4000)
    assert fast.value == slow.value and fast.n == slow.n == 400
    assert fast.ci_low == pytest.approx(slow.ci_low, abs=0.4)
    assert fast.ci_high == pytest.approx(slow.ci_high, abs=0.4)
    assert fast.method == slow.method == "bca-bootstrap"  # the weighted jackknife equals the direct one
    assert bootstrap_mean(np.array([70.0])) == stats.Estimate(70.0, None, None, 1)  # one answer: no interval
