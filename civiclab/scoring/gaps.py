"""Gap and ratio criteria: the worst-off against the best-off segment, one attribute at a time."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from civiclab.records import Metric
from civiclab.scoring.verdicts import SCORECARD_VERSION, SIGN, CriterionVerdict, Kind, dimension_of
from civiclab.spec.experiment import CriterionSpec
from civiclab.stats import intervals as stats
from civiclab.stats import sample_size


def group_verdict(
    crit: CriterionSpec, metrics: list[Metric], rules: int = SCORECARD_VERSION
) -> CriterionVerdict:
    kind: Kind = "max_gap" if crit.max_gap is not None else "min_ratio"
    threshold = float(crit.max_gap if crit.max_gap is not None else crit.min_ratio)  # type: ignore[arg-type]
    base: dict[str, Any] = dict(
        metric=crit.metric,
        label=crit.label or f"{crit.metric} ({kind.replace('_', ' ')})",
        kind=kind,
        threshold=threshold,
        severity=crit.severity,
        by=crit.by,
        waiver=crit.waiver,
    )
    groups: dict[str, list[Metric]] = defaultdict(list)  # every segment of at least k
    large: dict[str, list[Metric]] = defaultdict(list)  # those of at least min_n too
    too_small: list[Metric] = []
    for m in metrics:
        # One attribute at a time: an intersection (`a=x&b=y`) is never set against a single attribute.
        if m.name != crit.metric or m.segment is None or m.is_missing or "&" in m.segment:
            continue
        attribute = m.segment.split("=", 1)[0]
        if crit.by is not None and attribute != crit.by:
            continue
        groups[attribute].append(m)
        needed = sample_size.required_n(m, crit.min_n)
        if needed is not None and (m.n or 0) < needed:
            too_small.append(m)
        else:
            large[attribute].append(m)
    across = f"by {crit.by}" if crit.by else "by any attribute"
    unjudged = ", ".join(f"{m.segment} (n = {m.n or 0})" for m in too_small)
    if not any(len(ms) >= 2 for ms in groups.values()):
        return CriterionVerdict(
            dimension=dimension_of(crit.metric, metrics),
            verdict="missing",
            detail=f"fewer than two segments ({across}) of at least k sessions to compare",
            **base,
        )
    everyone = _spread(kind, threshold, groups)
    assert everyone is not None  # some attribute has two segments
    judged = _spread(kind, threshold, large)
    small_but_sure = not everyone.ok and everyone.confident is True and rules >= 2
    if small_but_sure and (judged is None or judged.ok or judged.confident is not True):
        # A spread that fails even at the narrowest the intervals allow is a failure whatever n.
        judged, too_small = everyone, []
    if judged is None or judged.ok != everyone.ok:
        # The verdict turns on groups too small to judge: say so rather than pick one.
        return CriterionVerdict(
            dimension=dimension_of(crit.metric, metrics),
            verdict="insufficient",
            observed=everyone.observed,
            detail=f"{everyone.describe()}; the verdict depends on segments ({across}) "
            f"below min_n: {unjudged}",
            **base,
        )
    detail = judged.describe()
    if too_small:
        detail += f"; not judged, fewer than min_n: {unjudged}"
    return CriterionVerdict(
        dimension=judged.high.dimension,
        verdict="pass" if judged.ok else "fail",
        observed=judged.observed,
        ci_low=judged.interval.ci_low,
        ci_high=judged.interval.ci_high,
        method=judged.interval.method,
        n=(judged.low.n or 0) + (judged.high.n or 0),
        confident=judged.confident,
        detail=detail,
        unit=judged.high.unit if kind == "max_gap" else "",
        segment=f"{judged.attribute}: {judged.worst.segment} vs {judged.best.segment}",
        synthetic=judged.low.synthetic is not None
        or judged.high.synthetic is not None,  # a gap between generated figures
        **base,
    )


class _Spread:
    """The widest gap (or smallest ratio) across the attributes judged, and how sure it is."""

    def __init__(
        self, kind: Kind, threshold: float, observed: float, attribute: str, low: Metric, high: Metric
    ):
        self.kind, self.threshold, self.observed, self.attribute = kind, threshold, observed, attribute
        self.low, self.high = low, high
        self.ok = observed <= threshold if kind == "max_gap" else observed >= threshold
        better_high = high.higher_is_better is not False
        self.worst, self.best = (low, high) if better_high else (high, low)
        lo = stats.Estimate(float(low.value), low.ci_low, low.ci_high, low.n or 0, low.method)  # type: ignore[arg-type]
        hi = stats.Estimate(float(high.value), high.ci_low, high.ci_high, high.n or 0, high.method)  # type: ignore[arg-type]
        self.interval = stats.difference(hi, lo) if kind == "max_gap" else stats.ratio(lo, hi)
        self.confident: bool | None = None

    def describe(self) -> str:
        what = "gap" if self.kind == "max_gap" else "ratio"
        text = (
            f"{what} {self.observed:.4g} by {self.attribute}: worst-off {self.worst.segment} "
            f"({float(self.worst.value):.4g}, n = {self.worst.n}) vs best-off {self.best.segment} "  # type: ignore[arg-type]
            f"({float(self.best.value):.4g}, n = {self.best.n})"  # type: ignore[arg-type]
        )
        text += "" if self.ok else f", not {SIGN[self.kind].split()[-1]} {self.threshold:g}"
        if self.confident is False:
            wider = "wider" if self.ok else "narrower"
            text += f" — on the point estimates only (the segments' intervals allow a {wider} spread)"
        return text


def _spread(kind: Kind, threshold: float, groups: dict[str, list[Metric]]) -> _Spread | None:
    """Judge every attribute; the verdict is the worst one, the confidence must hold for all of them."""

    def measure(lo: float, hi: float) -> float:
        if kind == "max_gap":
            return hi - lo
        return lo / hi if hi else 1.0

    def passes(x: float) -> bool:
        return x <= threshold if kind == "max_gap" else x >= threshold

    judged: list[tuple[_Spread, bool | None]] = []
    for attribute, ms in sorted(groups.items()):
        if len(ms) < 2:
            continue
        low = min(ms, key=lambda m: float(m.value))  # type: ignore[arg-type]
        high = max(ms, key=lambda m: float(m.value))  # type: ignore[arg-type]
        spread = _Spread(kind, threshold, measure(float(low.value), float(high.value)), attribute, low, high)  # type: ignore[arg-type]
        sure: bool | None = None
        if all(m.ci_low is not None and m.ci_high is not None for m in ms):
            # Conservative: the widest spread the intervals allow must still satisfy the bound.
            lo_bound = min(float(m.ci_low) for m in ms)  # type: ignore[arg-type]
            hi_bound = max(float(m.ci_high) for m in ms)  # type: ignore[arg-type]
            sure = passes(measure(lo_bound, hi_bound))
        judged.append((spread, sure))
    if not judged:
        return None
    pick = max if kind == "max_gap" else min
    chosen = pick(judged, key=lambda j: j[0].observed)[0]
    if chosen.ok:
        sures = [j[1] for j in judged]
        chosen.confident = None if any(x is None for x in sures) else all(bool(x) for x in sures)
    elif chosen.low.ci_high is not None and chosen.high.ci_low is not None:
        # A fail is sure when even the narrowest spread the two intervals allow fails.
        narrow_lo, narrow_hi = float(chosen.low.ci_high), float(chosen.high.ci_low)
        chosen.confident = narrow_lo < narrow_hi and not passes(measure(narrow_lo, narrow_hi))
    return chosen
