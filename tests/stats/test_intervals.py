"""Intervals hold at small n, agree with scipy's reference implementations, and cover what they should."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest, bootstrap

from civiclab.stats import intervals as stats


@pytest.mark.parametrize(("k", "n"), [(2, 2), (0, 3), (1, 7), (29, 30), (140, 200), (0, 1)])
@pytest.mark.parametrize("method", ["wilson", "clopper-pearson"])
def test_rate_intervals_match_scipy(k: int, n: int, method: str) -> None:
    est = stats.proportion(k, n, method=method)  # type: ignore[arg-type]
    ref = binomtest(k, n).proportion_ci(
        confidence_level=0.95, method="exact" if method != "wilson" else "wilson"
    )
    assert est.value == pytest.approx(k / n)
    assert est.ci_low == pytest.approx(ref.low, abs=1e-9)
    assert est.ci_high == pytest.approx(ref.high, abs=1e-9)
    assert est.method == method and est.n == n


def test_two_out_of_two_is_not_certain() -> None:
    est = stats.rate([True, True])
    assert est.value == 1.0 and est.ci_high == 1.0
    assert est.ci_low == pytest.approx(0.342, abs=1e-3)  # was [1, 1] with the percentile bootstrap
    assert stats.rate([True, True, True], method="clopper-pearson").ci_low == pytest.approx(0.292, abs=1e-3)


def test_rate_interval_covers_the_true_rate_at_small_and_large_n() -> None:
    rng = np.random.default_rng(11)
    for n, p in ((12, 0.9), (200, 0.3)):
        covered = 0
        for _ in range(2000):
            est = stats.rate(rng.random(n) < p)
            covered += est.ci_low <= p <= est.ci_high  # type: ignore[operator]
        assert 0.92 <= covered / 2000 <= 0.99, (n, p, covered)


def test_bca_mean_agrees_with_scipy_on_skewed_data() -> None:
    rng = np.random.default_rng(3)
    x = rng.lognormal(0, 1.0, size=40)
    est = stats.mean(x, resamples=4000, seed=1)
    ref = bootstrap((x,), np.mean, method="BCa", n_resamples=4000, random_state=2).confidence_interval
    assert est.method == "bca-bootstrap"
    width = ref.high - ref.low
    # Same method, different resamples: the bounds agree to a few percent of the interval's width.
    assert est.ci_low == pytest.approx(ref.low, abs=0.06 * width)
    assert est.ci_high == pytest.approx(ref.high, abs=0.06 * width)
    # BCa shifts the interval to the right of the percentile one on right-skewed data.
    percentile = np.quantile(rng.choice(x, size=(4000, x.size)).mean(axis=1), [0.025, 0.975])
    assert est.ci_high > percentile[1]


def test_bca_for_a_generic_statistic_uses_the_jackknife() -> None:
    rng = np.random.default_rng(5)
    x = rng.exponential(2.0, size=60)
    est = stats.statistic(x, lambda a: a.mean(axis=1), resamples=3000)
    direct = stats.mean(x, resamples=3000)
    assert est.method == "bca-bootstrap"
    assert est.ci_low == pytest.approx(direct.ci_low, rel=1e-9)
    assert est.ci_high == pytest.approx(direct.ci_high, rel=1e-9)


def test_quantile_interval_is_distribution_free_and_covers() -> None:
    rng = np.random.default_rng(7)
    true_p90 = float(np.exp(5 + 0.6 * 1.2815515655446004))  # lognormal(5, 0.6) 90th percentile
    covered = 0
    for _ in range(1000):
        est = stats.quantile(rng.lognormal(5, 0.6, size=80), 0.9)
        assert est.method == "order-statistic"
        covered += est.ci_low <= true_p90 <= est.ci_high  # type: ignore[operator]
    assert covered / 1000 >= 0.94


def test_small_samples_leave_an_unbounded_side_open() -> None:
    est = stats.quantile([10.0, 12.0, 14.0, 30.0, 31.0], 0.9)
    assert est.ci_high is None  # nothing bounds a 90th percentile of 5 values from above at 95%
    assert est.ci_low == 14.0  # x₍₃₎: P(Binomial(5, 0.9) < 3) = 0.0086 <= 0.025 < P(< 4) = 0.081
    assert stats.quantile([4.0], 0.9).ci_low is None
    assert stats.mean([4.0]).ci_low is None


def test_empty_samples() -> None:
    assert stats.rate([]).value is None and stats.rate([]).n == 0
    assert stats.quantile([], 0.5).n == 0
    assert stats.mean([1.0, 2.0, 3.0]).value == pytest.approx(2.0)


def test_sessions_to_decide_matches_the_formula_and_achieves_its_power() -> None:
    # p = 0.9 observed against 0.85: ((1.96·√(.85·.15) + 0.8416·√(.9·.1)) / 0.05)² = 362.8
    assert stats.sessions_to_decide(0.9, 0.85, n=100) == 363
    assert stats.sessions_to_decide(0.85, 0.85, n=100) is None
    # With 363 sessions at a true rate of 0.9, the lower bound clears 0.85 in about 80% of runs.
    rng = np.random.default_rng(0)
    cleared = sum(stats.proportion(int(rng.binomial(363, 0.9)), 363).ci_low > 0.85 for _ in range(3000))  # type: ignore[operator]
    assert 0.74 <= cleared / 3000 <= 0.86
    # Means: ((1.96 + 0.8416)·15 / 5)² = 70.6
    assert stats.sessions_to_decide(73.0, 68.0, n=10, sd=15.0) == 71


def test_gap_between_two_rates_is_newcombes_interval() -> None:
    # Newcombe (1998), Table II example (a), method 10: 56/70 vs 48/80 → 0.2 [0.0524, 0.3339].
    gap = stats.difference(stats.proportion(56, 70), stats.proportion(48, 80))
    assert gap.value == pytest.approx(0.2)
    assert gap.ci_low == pytest.approx(0.0524, abs=1e-4) and gap.ci_high == pytest.approx(0.3339, abs=1e-4)
    # A group at 0% of 179 against one at 100% of 120: the gap is near 1 and its interval stays inside [0, 1].
    extreme = stats.difference(stats.proportion(120, 120), stats.proportion(0, 179))
    assert extreme.value == 1.0 and 0.95 < extreme.ci_low < 1.0 and extreme.ci_high == pytest.approx(1.0)  # type: ignore[operator]


def test_ratio_of_two_rates_covers() -> None:
    rng = np.random.default_rng(2)
    covered = 0
    for _ in range(1000):
        a, b = rng.binomial(150, 0.4), rng.binomial(150, 0.8)
        est = stats.ratio(stats.proportion(int(a), 150), stats.proportion(int(b), 150))
        covered += est.ci_low <= 0.5 <= est.ci_high  # type: ignore[operator]
    assert 0.93 <= covered / 1000 <= 0.98
    zero = stats.ratio(stats.proportion(0, 179), stats.proportion(100, 100))
    assert zero.value == 0.0 and zero.ci_low == 0.0 and 0 < zero.ci_high < 0.05  # type: ignore[operator]
