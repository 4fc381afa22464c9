"""Significance tests and effect sizes for comparing two runs.

- rates, unpaired: exact permutation test (the permutation distribution of successes is hypergeometric);
- rates, paired: exact sign-flip permutation test on discordant pairs (exact McNemar);
- means / medians, unpaired: permutation test (exact when the permutations are few, else Monte Carlo);
- means / medians, paired: sign-flip permutation test on per-session differences;
- metrics without per-session values: an approximate z-test from the two stored 95% intervals.
Two-sided p-values use P(|T| ≥ |t|). Effect sizes: Cohen's h (rates), Cohen's d and Cliff's delta.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

RESAMPLES = 5000
BOOTSTRAP = 1000
EXACT_LIMIT = 20000
_EPS = 1e-12


@dataclass(frozen=True)
class TestResult:
    """The outcome of one comparison: the difference b - a, its interval, a p-value and an effect size."""

    test: str
    p_value: float | None
    delta: float | None
    delta_low: float | None = None
    delta_high: float | None = None
    effect_name: str | None = None
    effect: float | None = None
    paired: bool = False
    n_a: int = 0
    n_b: int = 0


def cohens_h(p_a: float, p_b: float) -> float:
    return 2 * math.asin(math.sqrt(p_b)) - 2 * math.asin(math.sqrt(p_a))


def cohens_d(a: np.ndarray, b: np.ndarray) -> float | None:
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return None
    pooled = math.sqrt(((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2))
    return float((b.mean() - a.mean()) / pooled) if pooled > 0 else 0.0


def cliffs_delta(a: np.ndarray, b: np.ndarray) -> float | None:
    """P(b > a) - P(b < a) over all pairs, in O(n log n)."""
    if len(a) == 0 or len(b) == 0:
        return None
    sa = np.sort(a)
    below = np.searchsorted(sa, b, side="left")  # a values < each b
    not_above = np.searchsorted(sa, b, side="right")  # a values <= each b
    greater = below.sum()
    less = (len(a) - not_above).sum()
    return float((greater - less) / (len(a) * len(b)))


def _bootstrap_diff(
    a: np.ndarray,
    b: np.ndarray,
    stat: Callable[[np.ndarray], np.ndarray],
    rng: np.random.Generator,
    paired: bool,
) -> tuple[float, float]:
    diffs = []
    chunk = max(1, min(BOOTSTRAP, 2_000_000 // max(len(a), len(b), 1)))
    done = 0
    while done < BOOTSTRAP:
        size = min(chunk, BOOTSTRAP - done)
        ia = rng.integers(0, len(a), size=(size, len(a)))
        ib = ia if paired else rng.integers(0, len(b), size=(size, len(b)))
        diffs.append(stat(b[ib]) - stat(a[ia]))
        done += size
    low, high = np.quantile(np.concatenate(diffs), [0.025, 0.975])
    return float(low), float(high)


def rate_test(a: np.ndarray, b: np.ndarray, *, seed: int = 0) -> TestResult:
    """Unpaired rates: exact permutation test of the difference of proportions."""
    from scipy.stats import hypergeom

    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    na, nb = len(a), len(b)
    if na == 0 or nb == 0:
        return TestResult("exact permutation (unpaired)", None, None, n_a=na, n_b=nb)
    ka, kb = int(a.sum()), int(b.sum())
    total = ka + kb
    observed = kb / nb - ka / na
    support = np.arange(max(0, total - na), min(total, nb) + 1)
    diffs = support / nb - (total - support) / na
    pmf = hypergeom.pmf(support, na + nb, total, nb)
    p = float(min(1.0, pmf[np.abs(diffs) >= abs(observed) - _EPS].sum()))
    rng = np.random.default_rng(seed)
    boot = rng.binomial(nb, kb / nb, BOOTSTRAP) / nb - rng.binomial(na, ka / na, BOOTSTRAP) / na
    low, high = np.quantile(boot, [0.025, 0.975])
    return TestResult(
        "exact permutation (unpaired)",
        p,
        observed,
        float(low),
        float(high),
        "Cohen's h",
        cohens_h(ka / na, kb / nb),
        False,
        na,
        nb,
    )


def paired_rate_test(a: np.ndarray, b: np.ndarray, *, seed: int = 0) -> TestResult:
    """Paired rates (same sessions): exact sign-flip permutation test on discordant pairs."""
    from scipy.stats import binom

    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    n = len(a)
    if n == 0:
        return TestResult("exact sign-flip (paired)", None, None, paired=True)
    gained, lost = int((b & ~a).sum()), int((a & ~b).sum())
    discordant = gained + lost
    observed = (gained - lost) / n
    if discordant == 0:
        p = 1.0
    else:
        k = np.arange(discordant + 1)
        stat = np.abs(2 * k - discordant)
        p = float(min(1.0, binom.pmf(k, discordant, 0.5)[stat >= abs(gained - lost)].sum()))
    # Resampling pairs only matters through how many gained, lost or kept the outcome: a multinomial
    # draw gives the same bootstrap distribution in O(resamples) whatever the number of sessions.
    counts = np.random.default_rng(seed).multinomial(n, [gained / n, lost / n, 1 - discordant / n], BOOTSTRAP)
    low, high = np.quantile((counts[:, 0] - counts[:, 1]) / n, [0.025, 0.975])
    return TestResult(
        "exact sign-flip (paired)",
        p,
        observed,
        float(low),
        float(high),
        "Cohen's h",
        cohens_h(float(a.mean()), float(b.mean())),
        True,
        n,
        n,
    )


STATISTICS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "mean": lambda x: x.mean(axis=-1),
    "median": lambda x: np.median(x, axis=-1),
    "p90": lambda x: np.quantile(x, 0.9, axis=-1),
}


def mean_test(
    a: np.ndarray, b: np.ndarray, *, statistic: str = "mean", seed: int = 0, resamples: int = RESAMPLES
) -> TestResult:
    """Unpaired means (or medians): permutation test, exact when C(n, n_a) ≤ 20,000."""
    stat = STATISTICS[statistic]
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    na, nb = len(a), len(b)
    name = f"permutation of the {statistic} (unpaired)"
    if na == 0 or nb == 0:
        return TestResult(name, None, None, n_a=na, n_b=nb)
    pooled = np.concatenate([a, b])
    observed = float(stat(b) - stat(a))
    n = na + nb
    if math.comb(n, na) <= EXACT_LIMIT:
        combos = np.array(list(itertools.combinations(range(n), na)), dtype=int)
        in_a = np.zeros((len(combos), n), dtype=bool)
        np.put_along_axis(in_a, combos, True, axis=1)
        perm_a = pooled[None, :].repeat(len(combos), 0)[in_a].reshape(len(combos), na)
        perm_b = pooled[None, :].repeat(len(combos), 0)[~in_a].reshape(len(combos), nb)
        null = stat(perm_b) - stat(perm_a)
        p = float((np.abs(null) >= abs(observed) - _EPS).mean())
        name = f"exact permutation of the {statistic} (unpaired)"
    else:
        rng = np.random.default_rng(seed)
        chunk = max(1, min(resamples, 2_000_000 // n))
        hits = done = 0
        while done < resamples:
            size = min(chunk, resamples - done)
            perm = rng.permuted(np.broadcast_to(pooled, (size, n)), axis=1)
            null = stat(perm[:, na:]) - stat(perm[:, :na])
            hits += int((np.abs(null) >= abs(observed) - _EPS).sum())
            done += size
        p = (hits + 1) / (resamples + 1)
    low, high = _bootstrap_diff(a, b, stat, np.random.default_rng(seed + 1), paired=False)
    effect_name, effect = (
        ("Cohen's d", cohens_d(a, b)) if statistic == "mean" else ("Cliff's delta", cliffs_delta(a, b))
    )
    return TestResult(name, p, observed, low, high, effect_name, effect, False, na, nb)


def paired_mean_test(
    a: np.ndarray, b: np.ndarray, *, seed: int = 0, resamples: int = RESAMPLES
) -> TestResult:
    """Paired means: sign-flip permutation test on per-session differences (exact for n ≤ 14)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    keep = ~(np.isnan(a) | np.isnan(b))
    d = b[keep] - a[keep]
    n = len(d)
    name = "sign-flip permutation of the mean difference (paired)"
    if n == 0:
        return TestResult(name, None, None, paired=True)
    observed = float(d.mean())
    if 2**n <= EXACT_LIMIT:
        signs = np.array(list(itertools.product((-1.0, 1.0), repeat=n)))
        null = (signs * d).mean(axis=1)
        p = float((np.abs(null) >= abs(observed) - _EPS).mean())
        name = "exact " + name
    else:
        rng = np.random.default_rng(seed)
        chunk = max(1, min(resamples, 2_000_000 // n))
        hits = done = 0
        while done < resamples:
            size = min(chunk, resamples - done)
            signs = rng.choice((-1.0, 1.0), size=(size, n))
            hits += int((np.abs((signs * d).mean(axis=1)) >= abs(observed) - _EPS).sum())
            done += size
        p = (hits + 1) / (resamples + 1)
    sd = d.std(ddof=1) if n > 1 else 0.0
    low, high = _bootstrap_diff(
        a[keep], b[keep], STATISTICS["mean"], np.random.default_rng(seed + 1), paired=True
    )
    return TestResult(
        name, p, observed, low, high, "Cohen's d_z", float(observed / sd) if sd > 0 else None, True, n, n
    )


def interval_test(
    a: float, a_low: float | None, a_high: float | None, b: float, b_low: float | None, b_high: float | None
) -> TestResult:
    """Without per-session values: a z-test whose standard errors are read from the 95% intervals."""
    delta = b - a
    if None in (a_low, a_high, b_low, b_high):
        return TestResult("none (no interval stored)", None, delta)
    se = math.sqrt(((a_high - a_low) / 3.92) ** 2 + ((b_high - b_low) / 3.92) ** 2)  # type: ignore[operator]
    if se == 0:
        return TestResult(
            "z from 95% intervals (approximate)", 1.0 if delta == 0 else 0.0, delta, delta, delta
        )
    z = delta / se
    return TestResult(
        "z from 95% intervals (approximate)",
        math.erfc(abs(z) / math.sqrt(2)),
        delta,
        delta - 1.96 * se,
        delta + 1.96 * se,
    )


def holm(p_values: list[float | None]) -> list[float | None]:
    """Holm–Bonferroni adjusted p-values (None stays None)."""
    indexed = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(indexed)
    out: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return out
