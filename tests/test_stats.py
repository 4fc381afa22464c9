"""Intervals: the closed-form bootstraps agree with resampling, and cover what they should."""

from __future__ import annotations

import numpy as np
import pytest

from civiclab import stats


def test_exact_quantile_interval_matches_resampling_bootstrap() -> None:
    rng = np.random.default_rng(3)
    x = rng.lognormal(5, 0.6, size=800)
    for q in (0.5, 0.9):
        est = stats.quantile(x, q)
        rank = int(np.ceil(q * x.size))
        boot = np.sort(rng.choice(x, size=(3000, x.size)), axis=1)[:, rank - 1]
        low, high = np.quantile(boot, [0.025, 0.975])
        assert est.value == pytest.approx(np.quantile(x, q))
        # Same interval up to one order statistic either side (Monte Carlo noise of 3,000 resamples).
        xs = np.sort(x)
        assert abs(np.searchsorted(xs, est.ci_low) - np.searchsorted(xs, low)) <= 2
        assert abs(np.searchsorted(xs, est.ci_high) - np.searchsorted(xs, high)) <= 2


def test_rate_interval_covers_the_true_rate_about_95_percent_of_the_time() -> None:
    rng = np.random.default_rng(11)
    covered = 0
    for trial in range(400):
        sample = rng.random(200) < 0.3
        est = stats.rate(sample, seed=trial)
        covered += est.ci_low <= 0.3 <= est.ci_high  # type: ignore[operator]
    assert 0.91 <= covered / 400 <= 0.98


def test_empty_and_single_samples() -> None:
    assert stats.rate([]).value is None
    assert stats.quantile([], 0.5).n == 0
    one = stats.quantile([4.0], 0.9)
    assert (one.value, one.ci_low, one.ci_high) == (4.0, 4.0, 4.0)
    assert stats.mean([1.0, 2.0, 3.0]).value == pytest.approx(2.0)
