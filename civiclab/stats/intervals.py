"""Estimates with uncertainty: how civiclab computes every interval, and how many more observations
would settle a criterion.

Every `Estimate` (and so every `Metric`) records the method that produced its 95% interval in
`method`. The methods, and why each was chosen:

- ``wilson`` — rates (a share of sessions, turns, respondents): the Wilson score interval,
  ``(p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)``. Its coverage stays close to 95% down to
  a handful of observations and it never collapses at 0 or 1: 2 successes out of 2 give
  [0.34, 1], not [1, 1] as the percentile bootstrap did. Closed form, so it costs nothing at
  10,000 sessions. ``clopper-pearson`` (the exact binomial interval, wider, coverage ≥ 95%
  guaranteed) is available with ``rate(..., method="clopper-pearson")``.
- ``bca-bootstrap`` — means and other smooth statistics (survey scale scores, gas, F1): the
  bias-corrected and accelerated bootstrap (Efron 1987), the method of
  ``scipy.stats.bootstrap(method="BCa")``. The percentile bootstrap is biased for the mean of
  skewed data (latencies, costs); BCa corrects the median bias (z₀, from the share of resamples
  below the estimate) and the skew (the acceleration a, from the jackknife). For the mean the
  jackknife values are computed in closed form, ``(Σx − xᵢ)/(n − 1)``, so BCa costs what the
  percentile bootstrap cost; for another statistic over more than 2,000 rows a grouped
  (delete-a-group) jackknife over 1,000 groups estimates a. When every resample is on one side of
  the estimate (z₀ infinite), the percentile interval is returned and the method says so.
- ``order-statistic`` — quantiles (median and 90th percentile time on task, latencies): the
  distribution-free interval between two order statistics x₍ₗ₎ and x₍ᵤ₎ chosen so that a
  Binomial(n, q) count falls in [l, u) with probability ≥ 95% (Hahn & Meeker). Exact for any
  continuous distribution, no resampling, O(n). Bootstraps of a quantile (percentile or BCa) are
  poorly behaved because a quantile is not smooth in the data. At small n a side that no order
  statistic can bound at 95% is left open (``None``): with 5 sessions nothing bounds a 90th
  percentile from above.

- ``feldt`` — Cronbach's alpha of a survey scale: Feldt's (1965) interval from the F distribution
  (`civiclab.survey.scoring.feldt_interval`).

- ``cluster-wilson`` and ``cluster-bca-bootstrap`` — rates and means whose observations share units
  (the assistant's turns drawn, with repetition, from a bank of questions): the interval counts
  units, not repeats. See `civiclab.stats.clustered` for the method and why it was chosen.

- ``mover`` — a gap (difference) or a ratio between two groups, e.g. the worst-off and the best-off
  segment: the method of variance estimates recovery (Zou & Donner 2008) from each group's own
  interval; for two Wilson intervals the difference is Newcombe's hybrid score interval. It keeps
  the asymmetry of each interval, so a group at 0% gives a sensible gap interval.

A rate or statistic over no observation is ``None`` with ``n = 0``; one over a single observation
has no interval. Whether n is *enough* is the scorecard's question: a criterion takes ``min_n``
(defaults in `civiclab.scoring.scorecard.DEFAULT_MIN_N`); below it the verdict is ``insufficient``.

`sessions_to_decide` is the sample size a criterion needs (a power calculation for a one-sample
test against the threshold) — see its docstring for the assumptions it states.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import numpy as np

DEFAULT_RESAMPLES = 1000
CONFIDENCE = 0.95
Z = 1.959963984540054  # the standard normal quantile at 0.975
JACKKNIFE_GROUPS = 1000

RateMethod = Literal["wilson", "clopper-pearson"]
METHODS: dict[str, str] = {
    "wilson": "Wilson score interval (rates)",
    "clopper-pearson": "Clopper–Pearson exact binomial interval (rates)",
    "bca-bootstrap": "bias-corrected and accelerated (BCa) bootstrap",
    "percentile-bootstrap": "percentile bootstrap (BCa undefined: every resample on one side)",
    "order-statistic": "distribution-free order-statistic interval (quantiles)",
    "feldt": "Feldt's F-based interval (Cronbach's alpha)",
    "mover": "MOVER interval of a difference or ratio of two independent estimates (Newcombe for rates)",
    "census": "census: every instance of a finite population measured, no sampling interval",
    "cluster-wilson": "cluster-robust Wilson interval on the effective sample size (Korn–Graubard; rates "
    "over repeated units)",
    "cluster-t": "cluster-robust t interval (means over repeated units)",
    "cluster-bca-bootstrap": "BCa bootstrap resampling whole units (statistics of sums over repeated units)",
    "cluster-percentile-bootstrap": "percentile bootstrap resampling whole units (BCa undefined)",
}
"""Every interval method a metric may record, with the label reports show."""


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95% interval, the number of observations behind it and the method."""

    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    method: str | None = None
    population: str | None = None
    """For a census (`method == "census"`): the finite population measured entirely."""
    units: int | None = None
    """How many distinct units of replication the n observations come from (39 questions behind 201
    turns); None when not recorded. Equal to n when every observation is its own unit."""
    unit_of_replication: str | None = None
    """What one independent unit is: ``question``, ``session``, ``respondent``, ``document``..."""
    design_effect: float | None = None
    """n over the effective sample size of a clustered interval (`civiclab.stats.clustered`)."""


def proportion(successes: int, n: int, *, method: RateMethod = "wilson") -> Estimate:
    """`successes` out of `n` with a Wilson (or Clopper–Pearson) 95% interval."""
    if n <= 0:
        return Estimate(None, None, None, 0, method)
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be within 0..{n}, got {successes}")
    p = successes / n
    if method == "clopper-pearson":
        from scipy.special import betaincinv

        alpha = (1 - CONFIDENCE) / 2
        low = 0.0 if successes == 0 else float(betaincinv(successes, n - successes + 1, alpha))
        high = 1.0 if successes == n else float(betaincinv(successes + 1, n - successes, 1 - alpha))
        return Estimate(p, low, high, n, method)
    low, high = wilson_bounds(p, n)
    return Estimate(p, low, high, n, method)


def wilson_bounds(p: float, n: float) -> tuple[float, float]:
    """The Wilson score 95% interval of a share `p` over `n` observations (n may be an effective size)."""
    z2 = Z * Z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    # At 0 and n the bound is exactly 0 or 1 in theory; keep it so, not 0.9999999999.
    low = 0.0 if p <= 0 else max(0.0, centre - half)
    high = 1.0 if p >= 1 else min(1.0, centre + half)
    return low, high


def rate(
    successes: Sequence[bool] | np.ndarray,
    *,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
    method: RateMethod = "wilson",
) -> Estimate:
    """Share of true values with a Wilson interval (closed form: `seed` and `resamples` are unused)."""
    import numpy as np

    values = np.asarray(successes, dtype=bool)
    return proportion(int(values.sum()), int(values.size), method=method)


def census(successes: Sequence[bool] | np.ndarray, population: str) -> Estimate:
    """The share of true values over every instance of a finite population: exact, no interval.

    A census is a measurement, not a sample: every decision of a run, every injection prompt of a
    question bank. There is no sampling error to bound, so no interval and no minimum sample;
    `population` names what was measured, and reports show it in place of an interval.
    """
    import numpy as np

    values = np.asarray(successes, dtype=bool)
    if values.size == 0:
        return Estimate(None, None, None, 0, "census", population)
    return Estimate(float(values.mean()), None, None, int(values.size), "census", population)


def _bootstrap(
    data: np.ndarray, fn: Callable[[np.ndarray], np.ndarray], seed: int, resamples: int
) -> np.ndarray:
    import numpy as np

    rng = np.random.default_rng(seed)
    n = data.shape[0]
    # Bound memory on large samples: resample in chunks of at most ~4M values.
    chunk = max(1, min(resamples, 4_000_000 // max(1, data.size)))
    stats: list[np.ndarray] = []
    remaining = resamples
    while remaining > 0:
        size = min(chunk, remaining)
        idx = rng.integers(0, n, size=(size, n))
        stats.append(np.asarray(fn(data[idx]), dtype=float))
        remaining -= size
    return np.concatenate(stats)


def _jackknife(data: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Leave-one-out values of `fn`; over many rows, leave-one-group-out (a grouped jackknife)."""
    import numpy as np

    n = data.shape[0]
    groups = min(n, JACKKNIFE_GROUPS)
    labels = np.arange(n) % groups
    out = np.empty(groups)
    for g in range(groups):
        out[g] = float(np.asarray(fn(data[labels != g][None, ...]))[0])
    return out


def bca_interval(
    point: float, boot: np.ndarray, jack: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, float, str]:
    """The BCa 95% interval from a bootstrap distribution and jackknife values (weighted: repeated rows).

    Returns (low, high, method); the method is ``percentile-bootstrap`` when z₀ is undefined.
    """
    import numpy as np
    from scipy.special import ndtr, ndtri

    alpha = (1 - CONFIDENCE) / 2
    below = float(np.mean(boot < point))
    if below <= 0.0 or below >= 1.0 or not np.isfinite(boot).all():
        low, high = np.quantile(boot, [alpha, 1 - alpha])
        return float(low), float(high), "percentile-bootstrap"
    z0 = float(ndtri(below))
    w = np.ones_like(jack) if weights is None else np.asarray(weights, dtype=float)
    d = float(np.sum(w * jack) / np.sum(w)) - jack
    spread = float(np.sum(w * d**2))
    accel = float(np.sum(w * d**3)) / (6 * spread**1.5) if spread > 0 else 0.0
    probs = []
    for za in (ndtri(alpha), ndtri(1 - alpha)):
        probs.append(float(ndtr(z0 + (z0 + za) / (1 - accel * (z0 + za)))))
    low, high = np.quantile(boot, probs)
    return float(low), float(high), "bca-bootstrap"


def statistic(
    values: Sequence[float] | Sequence[Sequence[float]] | np.ndarray,
    fn: Callable[[np.ndarray], np.ndarray],
    *,
    seed: int = 0,
    resamples: int = DEFAULT_RESAMPLES,
) -> Estimate:
    """`fn` over `values` (rows) with a BCa bootstrap interval; `fn` reduces axis 1 of a stack of samples."""
    import numpy as np

    data = np.asarray(values, dtype=float)
    if data.ndim == 1:
        data = data[~np.isnan(data)]
    n = int(data.shape[0])
    if n == 0:
        return Estimate(None, None, None, 0)
    point = float(np.asarray(fn(data[None, ...]))[0])
    if n == 1:
        return Estimate(point, None, None, 1)
    boot = _bootstrap(data, fn, seed, resamples)
    if np.all(boot == boot[0]):
        return Estimate(point, point, point, n, "bca-bootstrap")
    low, high, method = bca_interval(point, boot, _jackknife(data, fn))
    return Estimate(point, low, high, n, method)


def mean(
    values: Sequence[float] | np.ndarray, *, seed: int = 0, resamples: int = DEFAULT_RESAMPLES
) -> Estimate:
    """The mean with a BCa bootstrap interval (closed-form jackknife: no extra cost over percentile)."""
    import numpy as np

    data = np.asarray(values, dtype=float)
    data = data[~np.isnan(data)]
    n = int(data.size)
    if n == 0:
        return Estimate(None, None, None, 0)
    point = float(data.mean())
    if n == 1:
        return Estimate(point, None, None, 1)
    boot = _bootstrap(data, lambda a: a.mean(axis=1), seed, resamples)
    if np.all(boot == boot[0]):
        return Estimate(point, point, point, n, "bca-bootstrap")
    jack = (data.sum() - data) / (n - 1)
    low, high, method = bca_interval(point, boot, jack)
    return Estimate(point, low, high, n, method)


def quantile(
    values: Sequence[float] | np.ndarray, q: float, *, seed: int = 0, resamples: int = DEFAULT_RESAMPLES
) -> Estimate:
    """The q-quantile with a distribution-free order-statistic 95% interval (`seed`, `resamples` unused).

    Ranks l < u are taken symmetrically so that P(X < l) ≤ 2.5% and P(X ≥ u) ≤ 2.5% for
    X ~ Binomial(n, q): then P(x₍ₗ₎ ≤ ξ_q ≤ x₍ᵤ₎) ≥ 95% for continuous data. A side no rank can
    bound is None. The point estimate is numpy's (linear) quantile.
    """
    import numpy as np
    from scipy.special import bdtr  # the binomial cdf, without importing scipy.stats

    data = np.asarray(values, dtype=float)
    data = np.sort(data[~np.isnan(data)])
    n = int(data.size)
    if n == 0:
        return Estimate(None, None, None, 0)
    point = float(np.quantile(data, q))
    if n == 1:
        return Estimate(point, None, None, 1)
    alpha = (1 - CONFIDENCE) / 2
    ks = np.arange(0, n + 1)
    cdf = bdtr(ks, n, q)  # P(X <= k)
    # Lower rank l (1-based): the largest l with P(X <= l-1) <= alpha, i.e. P(X < l) <= alpha.
    lower_ok = np.nonzero(cdf[:-1] <= alpha)[0]
    low = float(data[int(lower_ok[-1])]) if lower_ok.size else None  # x_(l) with l = k+1 → index k
    # Upper rank u: the smallest u with P(X >= u) <= alpha, i.e. P(X <= u-1) >= 1 - alpha.
    upper_ok = np.nonzero(cdf >= 1 - alpha)[0]
    high = float(data[int(upper_ok[0])]) if upper_ok.size and int(upper_ok[0]) < n else None
    return Estimate(point, low, high, n, "order-statistic")


def sessions_to_decide(
    observed: float,
    threshold: float,
    *,
    n: int,
    sd: float | None = None,
    power: float = 0.8,
) -> int | None:
    """How many observations in all would let the 95% interval clear `threshold` on the observed side.

    Assumptions (stated wherever the figure is shown): the observed value is the true value; a
    one-sided test at alpha = 0.025 (the side of the 95% interval that decides), power 0.8; a
    normal approximation. For a rate (`sd` None) the one-sample test of a proportion against p₀ =
    threshold: n = ((z₁₋α·√(p₀(1−p₀)) + z₁₋β·√(p(1−p))) / (p − p₀))². For a mean, `sd` is the
    standard deviation of one observation: n = ((z₁₋α + z₁₋β)·sd / (μ − μ₀))². Returns None when the
    observed value equals the threshold (no sample size decides it).
    """
    from scipy.special import ndtri

    if observed == threshold:
        return None
    z_a, z_b = Z, float(ndtri(power))
    gap = abs(observed - threshold)
    if sd is None:
        p0 = min(max(threshold, 0.0), 1.0)
        spread = z_a * math.sqrt(p0 * (1 - p0)) + z_b * math.sqrt(observed * (1 - observed))
        needed = (spread / gap) ** 2
    else:
        needed = ((z_a + z_b) * sd / gap) ** 2
    return max(int(math.ceil(needed)), n + 1, 2)


def difference(a: Estimate, b: Estimate) -> Estimate:
    """a − b with its MOVER 95% interval (Newcombe's for two Wilson rates); n is a.n + b.n."""
    n = a.n + b.n
    if a.value is None or b.value is None:
        return Estimate(None, None, None, n, "mover")
    d = a.value - b.value
    if None in (a.ci_low, a.ci_high, b.ci_low, b.ci_high):
        return Estimate(d, None, None, n, "mover")
    la, ua, lb, ub = float(a.ci_low), float(a.ci_high), float(b.ci_low), float(b.ci_high)  # type: ignore[arg-type]
    low = d - math.sqrt((a.value - la) ** 2 + (ub - b.value) ** 2)
    high = d + math.sqrt((ua - a.value) ** 2 + (b.value - lb) ** 2)
    return Estimate(d, low, high, n, "mover")


def ratio(a: Estimate, b: Estimate) -> Estimate:
    """a / b for non-negative estimates with its MOVER-R 95% interval (Donner & Zou 2012)."""
    n = a.n + b.n
    if a.value is None or b.value is None or b.value <= 0:
        return Estimate(None, None, None, n, "mover")
    r = a.value / b.value
    if None in (a.ci_low, a.ci_high, b.ci_low, b.ci_high):
        return Estimate(r, None, None, n, "mover")
    p1, p2 = a.value, b.value
    l1, u1, l2, u2 = float(a.ci_low), float(a.ci_high), float(b.ci_low), float(b.ci_high)  # type: ignore[arg-type]
    low_den = u2 * (2 * p2 - u2)
    low_disc = (p1 * p2) ** 2 - l1 * u2 * (2 * p1 - l1) * (2 * p2 - u2)
    low = (p1 * p2 - math.sqrt(low_disc)) / low_den if low_den > 0 and low_disc >= 0 else 0.0
    high_den = l2 * (2 * p2 - l2)
    high_disc = (p1 * p2) ** 2 - u1 * l2 * (2 * p1 - u1) * (2 * p2 - l2)
    high = (p1 * p2 + math.sqrt(high_disc)) / high_den if high_den > 0 and high_disc >= 0 else None
    return Estimate(r, max(0.0, low), high, n, "mover")
