"""Which per-segment metrics may be published beside their overall value (secondary suppression).

Evaluators already publish k-anonymous segments with secondary suppression (`civiclab.plugins.evaluation`);
this filter applies the same rule to any list of metrics — a run scored before it existed, survey
scores, a comparison — so that a group hidden in one place cannot be recovered by subtracting the
groups shown from the total.
"""

from __future__ import annotations

from collections import defaultdict

from civiclab.privacy.disclosure import suppress
from civiclab.privacy.grouping import attribute_of
from civiclab.records import Metric


def publishable(metrics: list[Metric], k: int) -> list[Metric]:
    """The metrics that may be shown together: per metric and attribute (or pair of attributes), segments
    go through secondary suppression against the metric's overall n, so that a group hidden in a run
    (fewer than k, or a run scored before secondary suppression existed) cannot be recovered by
    subtracting the groups shown from the total."""
    totals = {m.name: m.n for m in metrics if m.segment is None}
    tables: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for m in metrics:
        if m.segment is not None and m.n is not None:
            tables[(m.name, attribute_of(m.segment))][m.segment] = m.n
    hidden: set[tuple[str, str]] = set()
    for (name, _), cells in tables.items():
        total = totals.get(name)
        if total is not None and total < sum(cells.values()):
            total = None  # an overall n over other units than the segments' (e.g. turns vs sessions)
        hidden |= {(name, s) for s in suppress(cells, total, k).suppressed}
    return [m for m in metrics if m.segment is None or (m.name, m.segment) not in hidden]
