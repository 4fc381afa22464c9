"""Streaming aggregates: what evaluators keep of a run's records in one pass, in bounded memory.

Each aggregate is filled record by record and can be merged with another of its kind (chunks, or
workers). They hold counts and sums, never records, so any interval method (`civiclab.stats.intervals`)
applies to them: a rate from (successes, n), a quantile from the value distribution.

Memory is a per-segment term: counters per segment, and per segment a quantile sketch that is exact
up to `EXACT_VALUES` values and then a log-bucket histogram with a relative accuracy of 0.1 %
(DDSketch, Masson et al. 2019), so a million sessions cost what a hundred thousand cost.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from civiclab.records import SEGMENT_ATTRIBUTES

if TYPE_CHECKING:
    from civiclab.stats.intervals import Estimate

EXACT_VALUES = 200_000
"""Values a sketch keeps exactly before it turns into a histogram (1.6 MB of floats)."""
RELATIVE_ACCURACY = 0.001
PENDING_VALUES = 4096
"""Values a histogram sketch buffers before counting them into buckets in one vectorised step."""


def segment_names(segment: dict[str, str], attributes: Iterable[str] = SEGMENT_ATTRIBUTES) -> list[str]:
    """The `attribute=value` groups a session belongs to."""
    return [f"{a}={segment[a]}" for a in attributes if segment.get(a) is not None]


@dataclass
class Moments:
    """Count, mean and variance, online (Welford) and mergeable (Chan et al.)."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def add(self, x: float) -> None:
        self.n += 1
        delta = x - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (x - self.mean)

    def merge(self, other: Moments) -> None:
        if other.n == 0:
            return
        n = self.n + other.n
        delta = other.mean - self.mean
        self.mean += delta * other.n / n
        self.m2 += other.m2 + delta * delta * self.n * other.n / n
        self.n = n

    @property
    def variance(self) -> float:
        return self.m2 / (self.n - 1) if self.n > 1 else 0.0


class QuantileSketch:
    """The distribution of one value: exact while small, a 0.1 %-accurate histogram beyond."""

    def __init__(self, exact_limit: int = EXACT_VALUES) -> None:
        self.exact_limit = exact_limit
        self.values: array[float] | None = array("d")
        self.buckets: Counter[int] = Counter()
        self.zeros = 0
        self.n = 0
        self._pending: array[float] = array("d")  # values not yet counted into the histogram
        self._gamma = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
        self._log_gamma = math.log(self._gamma)

    @property
    def exact(self) -> bool:
        return self.values is not None

    def add(self, x: float) -> None:
        if math.isnan(x):
            return
        self.n += 1
        if self.values is not None:
            self.values.append(x)
            if len(self.values) > self.exact_limit:
                self._to_histogram()
            return
        self._pending.append(x)
        if len(self._pending) >= PENDING_VALUES:
            self._flush()

    def _bucket(self, values: array[float]) -> None:
        """Count `values` into the histogram (vectorised: one definition of a bucket for every path)."""
        import numpy as np

        data = np.frombuffer(values, dtype=float)
        positive = data[data > 0]
        self.zeros += int(data.size - positive.size)  # durations: a zero (or clock glitch) counts as zero
        keys, counts = np.unique(
            np.ceil(np.log(positive) / self._log_gamma).astype(np.int64), return_counts=True
        )
        self.buckets.update(dict(zip(keys.tolist(), counts.tolist(), strict=True)))

    def _flush(self) -> None:
        if self._pending:
            self._bucket(self._pending)
            self._pending = array("d")

    def _to_histogram(self) -> None:
        assert self.values is not None
        values, self.values = self.values, None
        self._bucket(values)

    def merge(self, other: QuantileSketch) -> None:
        other._flush()
        if other.values is not None:
            if self.values is not None and len(self.values) + len(other.values) <= self.exact_limit:
                self.values.extend(other.values)  # still exact, as adding them one by one would be
                self.n += other.n
                return
            self._flush()
            if self.values is not None:
                self._to_histogram()
            self._bucket(other.values)
            self.n += other.n
            return
        if self.values is not None:
            self._to_histogram()
        self.buckets.update(other.buckets)
        self.zeros += other.zeros
        self.n += other.n

    def distribution(self) -> tuple[list[float], list[int]]:
        """Sorted distinct values (bucket midpoints once a histogram) and how many fall on each."""
        self._flush()
        if self.values is not None:
            exact: Counter[float] = Counter(self.values)
            distinct = sorted(exact)
            return distinct, [exact[v] for v in distinct]
        keys = sorted(self.buckets)
        values = [2 * self._gamma**i / (self._gamma + 1) for i in keys]
        counts = [self.buckets[i] for i in keys]
        if self.zeros:
            values, counts = [0.0, *values], [self.zeros, *counts]
        return values, counts

    def estimate(self, q: float) -> Estimate:
        """The q-quantile with its order-statistic 95 % interval (exact while the sketch is exact)."""
        import numpy as np

        from civiclab.stats import intervals as stats

        if self.values is not None:
            return stats.quantile(np.frombuffer(self.values, dtype=float), q)
        values, counts = self.distribution()
        return stats.quantile(np.repeat(values, counts), q)


@dataclass
class SegmentValues:
    """One quantile sketch overall and one per segment."""

    attributes: tuple[str, ...] = SEGMENT_ATTRIBUTES
    overall: QuantileSketch = field(default_factory=QuantileSketch)
    by_segment: dict[str, QuantileSketch] = field(default_factory=dict)

    def _sketches(self, segment: dict[str, str]) -> list[QuantileSketch]:
        """The overall sketch and those of the segment's groups (created when first met)."""
        out = [self.overall]
        for name in segment_names(segment, self.attributes):
            sketch = self.by_segment.get(name)
            if sketch is None:
                sketch = self.by_segment[name] = QuantileSketch()
            out.append(sketch)
        return out

    def add(self, segment: dict[str, str], value: float) -> None:
        for sketch in self._sketches(segment):
            sketch.add(value)

    def merge_segment(self, segment: dict[str, str], sketch: QuantileSketch) -> None:
        """Add the values of `sketch`, all of one segment, as `add` would one by one."""
        for mine in self._sketches(segment):
            mine.merge(sketch)

    def get(self, segment: str | None = None) -> QuantileSketch:
        return self.overall if segment is None else self.by_segment.get(segment, QuantileSketch())
