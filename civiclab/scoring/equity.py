"""Equity: who is worst off, within one attribute at a time, with intervals; and who is left behind.

A gap is only meaningful between groups of the same attribute (80+ against 18-24, not 80+ against
"visual disability"): every figure here is taken within one attribute, or within one pair of
attributes for intersections (`age_band=80+&digital_literacy=none`).
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, ConfigDict

from civiclab.plugins.evaluation import metric_from
from civiclab.privacy.grouping import attribute_of
from civiclab.records import Metric
from civiclab.stats import intervals as stats

SUFFIXES = ("equity_gap", "equity_ratio")


def _estimate(m: Metric) -> stats.Estimate:
    return stats.Estimate(float(m.value), m.ci_low, m.ci_high, m.n or 0, m.method)  # type: ignore[arg-type]


def _name(attribute: str) -> str:
    """A metric-name suffix: `age_band`, or `age_band_x_digital_literacy` for a pair."""
    return attribute.replace("&", "_x_")


def _describe(m: Metric) -> str:
    low = "−∞" if m.ci_low is None else f"{m.ci_low:.3g}"
    high = "∞" if m.ci_high is None else f"{m.ci_high:.3g}"
    return f"{m.segment} {float(m.value):.3g} [{low}, {high}] (n = {m.n})"  # type: ignore[arg-type]


def equity(metrics: list[Metric], name: str, k: int) -> list[Metric]:
    """Gap and ratio between the worst-off and best-off segment of `name`, per attribute (and pair).

    Emits `<dimension>.equity_gap.<attribute>` and `.equity_ratio.<attribute>` (for a pair,
    `<a>_x_<b>`) for every attribute with two segments or more, and `<dimension>.equity_gap` / `.equity_ratio` for the attribute with
    the largest gap (smallest ratio), the note naming both groups. Intervals are MOVER intervals
    from each group's own interval (Newcombe's for rates).
    """
    dimension, _ = name.split(".", 1)
    by_attribute: dict[str, list[Metric]] = defaultdict(list)
    for m in metrics:
        if m.name == name and m.segment is not None and not m.is_missing:
            by_attribute[attribute_of(m.segment)].append(m)
    gaps: list[Metric] = []
    ratios: list[Metric] = []
    for attribute, ms in sorted(by_attribute.items()):
        if len(ms) < 2:
            continue
        lower_better = ms[0].higher_is_better is False
        ordered = sorted(ms, key=lambda m: float(m.value))  # type: ignore[arg-type]
        worst, best = (ordered[-1], ordered[0]) if lower_better else (ordered[0], ordered[-1])
        high, low = (worst, best) if lower_better else (best, worst)
        note = f"{name.split('.', 1)[1]} by {attribute}: worst-off {_describe(worst)} vs best-off {_describe(best)}"
        gap = stats.difference(_estimate(high), _estimate(low))
        gaps.append(
            metric_from(
                f"{dimension}.equity_gap.{_name(attribute)}",
                gap,
                dimension=dimension,
                unit=worst.unit,
                higher_is_better=False,
                note=note,
            )
        )
        ratio = stats.ratio(_estimate(low), _estimate(high))
        ratios.append(
            metric_from(
                f"{dimension}.equity_ratio.{_name(attribute)}",
                ratio,
                dimension=dimension,
                unit="ratio",
                higher_is_better=True,
                note=note,
                error=None if ratio.value is not None else "the best-off group is at zero: no ratio",
            )
        )
    if not gaps:
        return [
            Metric(
                name=f"{dimension}.equity_gap",
                value=None,
                dimension=dimension,
                error=f"fewer than two segments of one attribute with at least {k} sessions",
            )
        ]
    single = [g for g in gaps if "_x_" not in g.name]
    widest = max(single or gaps, key=lambda m: float(m.value))  # type: ignore[arg-type]
    headline = [widest.model_copy(update={"name": f"{dimension}.equity_gap"})]
    defined = [r for r in ratios if r.value is not None and "_x_" not in r.name]
    if defined:
        narrowest = min(defined, key=lambda m: float(m.value))  # type: ignore[arg-type]
        headline.append(narrowest.model_copy(update={"name": f"{dimension}.equity_ratio"}))
    return headline + gaps + ratios


class LeftBehind(BaseModel):
    """A group for whom a criterion the whole run is judged on does not hold."""

    model_config = ConfigDict(extra="forbid")

    label: str
    metric: str
    segment: str
    observed: float
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None
    threshold: float
    kind: str
    confident: bool
    enough: bool = True
    severity: str
    census: bool = False
    synthetic: bool = False

    @property
    def blocks_go(self) -> bool:
        """A blocking criterion fails for this group with its whole interval (or exactly, a census)."""
        return self.severity == "blocking" and self.confident

    def describe(self) -> str:
        if self.census:
            return f"{self.segment} {self.observed:.3g} (census of n = {self.n}, exact)"
        low = "−∞" if self.ci_low is None else f"{self.ci_low:.3g}"
        high = "∞" if self.ci_high is None else f"{self.ci_high:.3g}"
        text = f"{self.segment} {self.observed:.3g} [{low}, {high}] (n = {self.n})"
        return text if self.enough else text + " (fewer than min_n)"


def left_behind(criteria: list[object], metrics: list[Metric]) -> list[LeftBehind]:
    """Segments (and intersections) that fail a whole-run threshold criterion, worst first.

    The segments are those the evaluators emitted: k-anonymous groups with secondary suppression
    (`civiclab.privacy.grouping`, through `per_segment`). `confident` is True when the group's whole
    interval is on the failing side (a census fails exactly); `enough` when the group has at least the
    criterion's `min_n` observations. A blocking failure with confidence blocks a go, whatever n.
    """
    from civiclab.spec.experiment import CriterionSpec
    from civiclab.stats import sample_size

    out: list[LeftBehind] = []
    for crit in criteria:
        assert isinstance(crit, CriterionSpec)
        if crit.segment is not None or (crit.at_least is None and crit.at_most is None):
            continue
        at_least = crit.at_least is not None
        threshold = float(crit.at_least if at_least else crit.at_most)  # type: ignore[arg-type]
        for m in metrics:
            if m.name != crit.metric or m.segment is None or m.is_missing:
                continue
            value = float(m.value)  # type: ignore[arg-type]
            fails = value < threshold if at_least else value > threshold
            if not fails:
                continue
            bound = m.ci_high if at_least else m.ci_low
            sure = bound is not None and (bound < threshold if at_least else bound > threshold)
            sure = sure or m.census is not None  # a census has no sampling error: its fail is exact
            needed = sample_size.required_n(m, crit.min_n)
            out.append(
                LeftBehind(
                    label=crit.label or crit.metric,
                    metric=m.name,
                    segment=m.segment,
                    observed=value,
                    ci_low=m.ci_low,
                    ci_high=m.ci_high,
                    n=m.n,
                    threshold=threshold,
                    kind="at_least" if at_least else "at_most",
                    confident=sure,
                    enough=m.census is not None or needed is None or sample_size.sample_of(m) >= needed,
                    severity=crit.severity,
                    census=m.census is not None,
                    synthetic=m.synthetic is not None,
                )
            )

    # Blocking criteria first, then sure and large enough, then the farthest from the threshold
    # relative to it (seconds and shares on one scale).
    def distance(f: LeftBehind) -> float:
        return abs(f.observed - f.threshold) / max(abs(f.threshold), 1e-12)

    return sorted(
        out,
        key=lambda f: (f.severity != "blocking", not f.confident, not f.enough, -distance(f), f.segment),
    )
