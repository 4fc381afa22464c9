"""Significance tests on cases with known answers, and against scipy's exact permutation test."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from civiclab.stats.significance import (
    cliffs_delta,
    cohens_d,
    cohens_h,
    holm,
    interval_test,
    mean_test,
    paired_mean_test,
    paired_rate_test,
    rate_test,
)


def test_identical_rates_give_p_one() -> None:
    a = np.array([True] * 70 + [False] * 30)
    r = rate_test(a, a.copy())
    assert r.p_value == pytest.approx(1.0)
    assert r.delta == 0 and r.effect == 0
    assert paired_rate_test(a, a.copy()).p_value == 1.0


def test_very_different_rates() -> None:
    a = np.array([True] * 30 + [False] * 170)
    b = np.array([True] * 170 + [False] * 30)
    r = rate_test(a, b)
    assert r.p_value is not None and r.p_value < 0.001
    assert r.delta == pytest.approx(0.7)
    assert r.delta_low is not None and 0.6 < r.delta_low < r.delta < r.delta_high  # type: ignore[operator]
    assert r.effect == pytest.approx(2 * np.arcsin(np.sqrt(0.85)) - 2 * np.arcsin(np.sqrt(0.15)))


def test_rate_test_is_the_exact_permutation_test() -> None:
    a = np.array([1, 1, 1, 0, 0, 0, 0, 0], dtype=bool)
    b = np.array([1, 1, 1, 1, 1, 1, 0, 0], dtype=bool)
    ref = stats.permutation_test(
        (a.astype(float), b.astype(float)),
        lambda x, y, axis: np.abs(np.mean(y, axis=axis) - np.mean(x, axis=axis)),
        permutation_type="independent",
        alternative="greater",
        n_resamples=np.inf,
        vectorized=True,
    )
    assert rate_test(a, b).p_value == pytest.approx(ref.pvalue, abs=1e-9)


def test_paired_rate_test_is_exact_mcnemar() -> None:
    a = np.array([0] * 10 + [1] * 40 + [0] * 12 + [1] * 3, dtype=bool)
    b = np.array([0] * 10 + [1] * 40 + [1] * 12 + [0] * 3, dtype=bool)
    r = paired_rate_test(a, b)
    assert r.paired and r.p_value == pytest.approx(stats.binomtest(12, 15, 0.5).pvalue)


def test_mean_test_matches_scipy_exact() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 7), rng.normal(1.2, 1, 8)
    ref = stats.permutation_test(
        (a, b),
        lambda x, y, axis: np.abs(np.mean(y, axis=axis) - np.mean(x, axis=axis)),
        permutation_type="independent",
        alternative="greater",
        n_resamples=np.inf,
        vectorized=True,
    )
    r = mean_test(a, b)
    assert r.test.startswith("exact") and r.p_value == pytest.approx(ref.pvalue, abs=1e-9)
    assert r.effect == pytest.approx(cohens_d(a, b))


def test_mean_test_monte_carlo() -> None:
    rng = np.random.default_rng(1)
    same = rng.normal(300, 60, 400)
    r = mean_test(same, same.copy())
    assert r.p_value == pytest.approx(1.0) and r.delta == 0
    far = mean_test(rng.normal(300, 60, 400), rng.normal(400, 60, 400))
    assert far.p_value is not None and far.p_value < 0.001
    assert far.effect is not None and 1.3 < far.effect < 2.0  # true d = 100 / 60
    med = mean_test(rng.normal(300, 60, 300), rng.normal(330, 60, 300), statistic="median")
    assert med.effect_name == "Cliff's delta" and med.effect is not None and med.effect > 0


def test_paired_mean_test() -> None:
    a = np.arange(10, dtype=float)
    exact = paired_mean_test(a, a + np.array([1, 2, 1, 3, 2, 1, 2, 1, 2, 3], dtype=float))
    assert exact.test.startswith("exact") and exact.p_value == pytest.approx(2 / 1024)
    assert paired_mean_test(a, a.copy()).p_value == 1.0
    rng = np.random.default_rng(5)
    base = rng.normal(300, 80, 200)
    shifted = paired_mean_test(base, base + rng.normal(5, 5, 200))
    # A small shift, invisible unpaired against the spread between sessions, is clear when paired.
    assert shifted.p_value is not None and shifted.p_value < 0.001
    unpaired = mean_test(base, base + rng.normal(5, 5, 200))
    assert unpaired.p_value is not None and unpaired.p_value > 0.3


def test_effect_sizes() -> None:
    assert cohens_h(0.5, 0.5) == 0
    assert cliffs_delta(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 1.0
    assert cliffs_delta(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert cliffs_delta(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == -1.0


def test_interval_fallback_and_holm() -> None:
    same = interval_test(0.5, 0.4, 0.6, 0.5, 0.4, 0.6)
    assert same.p_value == pytest.approx(1.0)
    apart = interval_test(0.2, 0.15, 0.25, 0.8, 0.75, 0.85)
    assert apart.p_value is not None and apart.p_value < 1e-6
    assert interval_test(1.0, None, None, 2.0, None, None).p_value is None
    assert holm([0.01, 0.04, None, 0.03]) == pytest.approx([0.03, 0.06, None, 0.06])  # type: ignore[arg-type]
