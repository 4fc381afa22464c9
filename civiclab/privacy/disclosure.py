"""Statistical disclosure control for published breakdowns: primary and secondary cell suppression.

Hiding every group smaller than k (primary suppression) is not enough when the table's total is
published too: with 6 respondents, an overall SUS of 56.7 and "French: 50 (5 people)", the one
English respondent's score is 6 x 56.7 - 5 x 50 = 90. Whatever is not shown can be recovered as
one pooled group, *total minus the shown cells*; so the pooled hidden group must be empty or hold at
least k people. When it holds 1 to k-1, more cells are hidden (secondary suppression), the
smallest first, until it holds k or more.

Use it on every one-way breakdown (one segment attribute) whose total is published alongside, in
scorecards, comparisons and the survey's public results:

    >>> plan = suppress({"fr": 5, "en": 1}, total=6, k=5)
    >>> sorted(plan.shown), sorted(plan.primary), sorted(plan.secondary)
    ([], ['en'], ['fr'])
    >>> suppress({"fr": 9, "en": 6, "de": 2}, total=17, k=5).shown
    {'en': 6, 'fr': 9}

Not covered: two breakdowns crossed with each other (age x language) published together with
their margins need a linked-table method (e.g. tau-argus); publish one-way breakdowns only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SuppressionPlan:
    """Which cells of one breakdown may be published.

    Attributes:
        shown: cell -> count of the cells that may be published (each has at least k people).
        primary: cells hidden because they hold fewer than k people.
        secondary: cells of k or more hidden so that the hidden remainder cannot be derived.
        hidden: people in no shown cell (the remainder a reader can compute): 0 or at least k,
            unless the whole table has fewer than k people, when nothing is shown.
    """

    shown: dict[str, int]
    primary: set[str] = field(default_factory=set)
    secondary: set[str] = field(default_factory=set)
    hidden: int = 0

    @property
    def suppressed(self) -> set[str]:
        return self.primary | self.secondary


def suppress(cells: Mapping[str, int], total: int | None, k: int) -> SuppressionPlan:
    """Plan primary and secondary suppression for one breakdown published with its total.

    Args:
        cells: group label -> number of people in it (all the groups of the breakdown that could
            be shown; groups already withheld upstream need not be listed, `total` accounts for them).
        total: the population size published with the breakdown (an overall n, or the number the
            overall mean is taken over). None means the sum of `cells` (nothing else published).
        k: the smallest group that may be published (k-anonymity threshold), at least 1.

    Returns:
        The plan: `shown` cells are safe to publish together with `total`; no hidden cell and no
        union of hidden cells that a reader can isolate holds between 1 and k-1 people.

    Raises:
        ValueError: k < 1, a negative count, or cells adding up to more than `total`.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if any(n < 0 for n in cells.values()):
        raise ValueError("cell counts must not be negative")
    population = sum(cells.values()) if total is None else total
    if sum(cells.values()) > population:
        raise ValueError(f"cells add up to {sum(cells.values())}, more than the total {population}")
    primary = {label for label, n in cells.items() if n < k}
    shown = {label: n for label, n in cells.items() if label not in primary}
    secondary: set[str] = set()
    hidden = population - sum(shown.values())
    while 0 < hidden < k and shown:
        # Hide the smallest shown cell (ties by label, for a stable result): it holds >= k people,
        # so one is always enough, and the smallest loses the least information.
        label = min(shown, key=lambda c: (shown[c], c))
        hidden += shown.pop(label)
        secondary.add(label)
    return SuppressionPlan(shown=shown, primary=primary, secondary=secondary, hidden=hidden)
