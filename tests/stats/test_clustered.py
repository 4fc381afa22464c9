"""Clustered intervals: coverage by simulation, the variance against statsmodels, units in the advice."""

from __future__ import annotations

import numpy as np
import pytest

from civiclab.records import Metric
from civiclab.stats import sample_size
from civiclab.stats.clustered import (
    _units,
    cluster_variance,
    clustered_mean,
    clustered_rate,
    clustered_statistic,
    unit_totals,
)
from civiclab.stats.intervals import proportion, wilson_bounds


def _clustered_turns(
    rng: np.random.Generator, units: int, mean_size: float, p: float, icc: float
) -> tuple[np.ndarray, np.ndarray]:
    """Beta-binomial turns: each question has its own rate, drawn with mean p and intra-cluster correlation icc."""
    a, b = p * (1 - icc) / icc, (1 - p) * (1 - icc) / icc
    rates = rng.beta(a, b, size=units)
    sizes = rng.poisson(mean_size - 1, size=units) + 1
    turns = np.concatenate([rng.random(m) < q for m, q in zip(sizes, rates, strict=True)])
    return turns, np.repeat(np.arange(units), sizes)


def test_clustered_interval_covers_95_percent_where_the_naive_one_does_not() -> None:
    # 1,000 simulated hand-over samples: 39 questions asked about 5 times each, true recall 0.85,
    # intra-cluster correlation 0.3 (the same question is mostly routed the same way).
    rng = np.random.default_rng(20261207)
    p, runs = 0.85, 1000
    clustered = naive = 0
    for _ in range(runs):
        turns, questions = _clustered_turns(rng, 39, 5, p, 0.3)
        est = clustered_rate(turns, questions, unit="question")
        flat = proportion(int(turns.sum()), int(turns.size))
        clustered += est.ci_low <= p <= est.ci_high  # type: ignore[operator]
        naive += flat.ci_low <= p <= flat.ci_high  # type: ignore[operator]
    # Monte Carlo standard error of a coverage of 0.95 over 1,000 runs: 0.007.
    assert 0.93 <= clustered / runs <= 0.97
    assert naive / runs < 0.88


def test_clustered_mean_covers_95_percent() -> None:
    rng = np.random.default_rng(7)
    hits, runs = 0, 1000
    for _ in range(runs):
        centres = rng.normal(50, 10, size=39)  # intra-cluster correlation 0.5
        sizes = rng.poisson(4, size=39) + 1
        x = np.concatenate([rng.normal(c, 10, size=m) for c, m in zip(centres, sizes, strict=True)])
        est = clustered_mean(x, np.repeat(np.arange(39), sizes), unit="question")
        hits += est.ci_low <= 50 <= est.ci_high  # type: ignore[operator]
    assert 0.92 <= hits / runs <= 0.97


def test_cluster_variance_is_statsmodels_cluster_robust_variance() -> None:
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(3)
    questions = rng.integers(0, 39, size=201)
    turns = (rng.random(201) < 0.8).astype(float)
    index, g = _units(questions)
    fit = sm.OLS(turns, np.ones_like(turns)).fit(cov_type="cluster", cov_kwds={"groups": questions})
    assert cluster_variance(turns, index, g) == pytest.approx(float(fit.bse[0]) ** 2, rel=1e-10)


def test_clustered_rate_worked_example() -> None:
    # 3 questions: 4/4, 0/2, 3/4 → p̂ = 0.7, residuals 1.2, −1.4, 0.2; v̂ = 3/2·3.44/100 = 0.0516.
    turns = [1, 1, 1, 1, 0, 0, 1, 1, 1, 0]
    questions = ["a"] * 4 + ["b"] * 2 + ["c"] * 4
    est = clustered_rate(turns, questions, unit="question")
    from scipy.stats import t

    effective = 0.7 * 0.3 / 0.0516 * (1.959963984540054 / t.ppf(0.975, 2)) ** 2
    low, high = wilson_bounds(0.7, effective)
    assert est.value == pytest.approx(0.7)
    assert (est.ci_low, est.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert est.units == 3 and est.n == 10 and est.unit_of_replication == "question"
    assert est.design_effect == pytest.approx(10 / effective)


def test_all_successes_count_each_question_once() -> None:
    # 201 hand-overs, all made, from 39 questions: nothing shows the within-question spread, so the
    # worst case is taken and the interval is Wilson's over 39, not over 201.
    questions = np.arange(201) % 39
    est = clustered_rate(np.ones(201, dtype=bool), questions, unit="question")
    whole = proportion(39, 39)
    assert (est.ci_low, est.ci_high) == (pytest.approx(whole.ci_low), 1.0)
    assert est.ci_low < proportion(201, 201).ci_low  # type: ignore[operator]


def test_independent_units_give_back_wilson() -> None:
    # Every turn its own question: the design effect is about 1 and the interval about Wilson's.
    rng = np.random.default_rng(1)
    turns = rng.random(500) < 0.6
    est = clustered_rate(turns, np.arange(500), unit="question")
    flat = proportion(int(turns.sum()), 500)
    assert est.ci_low == pytest.approx(flat.ci_low, abs=0.006)
    assert est.ci_high == pytest.approx(flat.ci_high, abs=0.006)


def test_clustered_statistic_of_sums_resamples_units() -> None:
    # An F1 from (tp, fp, fn) counts per question: the point is the F1 of the summed counts.
    counts = [[1, 0, 0]] * 30 + [[0, 1, 0]] * 5 + [[0, 0, 1]] * 5
    questions = [i % 20 for i in range(40)]
    totals = unit_totals(counts, questions)
    est = clustered_statistic(
        totals, lambda s: 2 * s[:, 0] / (2 * s[:, 0] + s[:, 1] + s[:, 2]), 40, unit="question"
    )
    assert est.value == pytest.approx(60 / 70)
    assert est.units == 20 and est.ci_low < est.value < est.ci_high  # type: ignore[operator]


def test_advice_asks_for_more_distinct_questions_not_more_repeats() -> None:
    turns = np.array([1] * 150 + [0] * 51, dtype=bool)
    questions = np.concatenate([np.arange(150) % 30, np.arange(51) % 9 + 30])  # wrong answers cluster
    est = clustered_rate(turns, questions, unit="question")
    metric = Metric(
        name="human_centered.handover_recall",
        value=est.value,
        dimension="human_centered",
        ci_low=est.ci_low,
        ci_high=est.ci_high,
        n=est.n,
        method=est.method,
        unit_of_replication="question",
        distinct_units=est.units,
        design_effect=est.design_effect,
    )
    needed = sample_size.needed_to_decide(metric, 0.8)
    assert needed is not None and needed > 39
    # The same calculation on the effective sample size, turned into questions at today's rate.
    effective = est.n / est.design_effect  # type: ignore[operator]
    from civiclab.stats.intervals import sessions_to_decide

    in_turns = sessions_to_decide(float(est.value), 0.8, n=int(effective))  # type: ignore[arg-type]
    assert needed == max(int(np.ceil(in_turns / (effective / 39))), 40)  # type: ignore[operator]
    text = sample_size.decide_text(metric, 0.8)
    assert f"about {needed} distinct questions in all ({needed - 39} more" in text
