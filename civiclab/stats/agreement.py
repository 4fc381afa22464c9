"""Agreement between two raters grading the same items: Cohen's kappa with its interval, and the table.

For a judge model checked against people: each item graded by both, kappa corrects the share of equal
grades for the agreement their marginal frequencies would give by chance. The 95% interval is a BCa
bootstrap over items (`stats.intervals.statistic`); the confusion table counts items by (first, second).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from civiclab.stats.intervals import DEFAULT_RESAMPLES, Estimate, statistic

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Agreement:
    """Cohen's kappa of two raters, and how many items each pair of grades got.

    `confusion[i][j]` counts items the first rater graded `categories[i]` and the second `categories[j]`.
    """

    kappa: Estimate
    categories: list[str]
    confusion: list[list[int]]


def _kappa(stack: np.ndarray, k: int) -> np.ndarray:
    """Kappa of each sample in a stack of (first, second) category indices, shape (samples, items, 2)."""
    import numpy as np

    eye = np.eye(k)
    first, second = eye[stack[..., 0].astype(int)], eye[stack[..., 1].astype(int)]
    table = np.einsum("sni,snj->sij", first, second) / stack.shape[1]
    observed = np.trace(table, axis1=1, axis2=2)
    chance = (table.sum(axis=2) * table.sum(axis=1)).sum(axis=1)
    # Both raters always giving one same grade: chance agreement is 1, and their agreement is complete.
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(chance < 1, (observed - chance) / (1 - chance), 1.0)


def cohen_kappa(
    first: Sequence[str], second: Sequence[str], *, seed: int = 0, resamples: int = DEFAULT_RESAMPLES
) -> Agreement:
    """Cohen's kappa of two raters' grades of the same items, with a 95% bootstrap interval.

    Raises:
        ValueError: the two raters did not grade the same number of items.
    """
    if len(first) != len(second):
        raise ValueError(f"{len(first)} grades against {len(second)}: each item needs both raters' grades")
    categories = sorted(set(first) | set(second))
    index = {c: i for i, c in enumerate(categories)}
    pairs = [(index[a], index[b]) for a, b in zip(first, second, strict=True)]
    confusion = [[0] * len(categories) for _ in categories]
    for a, b in pairs:
        confusion[a][b] += 1
    if not pairs:
        return Agreement(Estimate(None, None, None, 0), categories, confusion)
    k = len(categories)
    kappa = statistic(pairs, lambda stack: _kappa(stack, k), seed=seed, resamples=resamples)
    return Agreement(kappa, categories, confusion)
