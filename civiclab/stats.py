"""Estimates with uncertainty: bootstrap confidence intervals for rates, means and quantiles."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

DEFAULT_RESAMPLES = 1000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95% interval and the number of observations behind it."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int


def _interval(samples: np.ndarray) -> tuple[float, float]:
    alpha = (1 - CONFIDENCE) / 2
    low, high = np.quantile(samples, [alpha, 1 - alpha])
    return float(low), float(high)


def rate(
    successes: Sequence[bool] | np.ndarray, *, seed: int = 0, resamples: int = DEFAULT_RESAMPLES
) -> Estimate:
    """Share of true values, with a percentile bootstrap interval.

    Resampling n Bernoulli outcomes with replacement and counting successes is a binomial
    draw, so the bootstrap is drawn directly as Binomial(n, p̂)/n: the same distribution as
    the resampling bootstrap, at a fraction of the cost.
    """
    values = np.asarray(successes, dtype=bool)
    n = int(values.size)
    if n == 0:
        return Estimate(None, None, None, 0)
    p = float(values.mean())
    draws = np.random.default_rng(seed).binomial(n, p, size=resamples) / n
    low, high = _interval(draws)
    return Estimate(p, low, high, n)


def statistic(
    values: Sequence[float] | np.ndarray,
    fn: Callable[[np.ndarray], np.ndarray],
    *,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
) -> Estimate:
    """`fn` over `values` with a percentile bootstrap interval; `fn` reduces along axis 1."""
    data = np.asarray(values, dtype=float)
    data = data[~np.isnan(data)]
    n = int(data.size)
    if n == 0:
        return Estimate(None, None, None, 0)
    point = float(fn(data[None, :])[0])
    if n == 1:
        return Estimate(point, point, point, 1)
    rng = np.random.default_rng(seed)
    # Bound memory on large samples: resample in chunks of at most ~4M values.
    chunk = max(1, min(resamples, 4_000_000 // n))
    stats: list[np.ndarray] = []
    remaining = resamples
    while remaining > 0:
        size = min(chunk, remaining)
        idx = rng.integers(0, n, size=(size, n))
        stats.append(fn(data[idx]))
        remaining -= size
    low, high = _interval(np.concatenate(stats))
    return Estimate(point, low, high, n)


def mean(
    values: Sequence[float] | np.ndarray, *, seed: int = 0, resamples: int = DEFAULT_RESAMPLES
) -> Estimate:
    return statistic(values, lambda a: a.mean(axis=1), seed=seed, resamples=resamples)


def quantile(
    values: Sequence[float] | np.ndarray, q: float, *, seed: int = 0, resamples: int = DEFAULT_RESAMPLES
) -> Estimate:
    """The q-quantile with the percentile interval of its bootstrap distribution, computed exactly.

    A bootstrap resample's quantile (taken as the order statistic of rank ⌈q·n⌉) is at most
    x₍ⱼ₎ exactly when at least ⌈q·n⌉ of the n draws fall at or below x₍ⱼ₎, a Binomial(n, cⱼ/n)
    count. Its distribution is therefore known in closed form: no resampling, no Monte Carlo
    noise, O(n log n) instead of O(resamples · n log n). `seed` and `resamples` are accepted for
    a uniform signature. The point estimate is numpy's (linear) quantile.
    """
    from scipy.special import bdtrc  # the binomial survival function, without importing scipy.stats

    data = np.sort(np.asarray(values, dtype=float))
    data = data[~np.isnan(data)]
    n = int(data.size)
    if n == 0:
        return Estimate(None, None, None, 0)
    point = float(np.quantile(data, q))
    if n == 1:
        return Estimate(point, point, point, 1)
    rank = max(1, int(np.ceil(q * n)))
    at_or_below = np.searchsorted(data, data, side="right")
    cdf = bdtrc(rank - 1, n, at_or_below / n)
    alpha = (1 - CONFIDENCE) / 2
    low = data[min(int(np.searchsorted(cdf, alpha, side="left")), n - 1)]
    high = data[min(int(np.searchsorted(cdf, 1 - alpha, side="left")), n - 1)]
    return Estimate(point, float(low), float(high), n)
