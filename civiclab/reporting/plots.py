"""Plots of reports and comparisons as PNG bytes (matplotlib, Agg backend, imported lazily)."""

from __future__ import annotations

import base64
import io
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from civiclab.records import Metric
    from civiclab.scoring.scorecard import CriterionVerdict

SHORT = {"at_least": "≥", "at_most": "≤", "max_gap": "gap ≤", "min_ratio": "ratio ≥"}
COLOURS = {"pass": "#1a7f37", "fail": "#b3261e", "missing": "#6e6e6e", "waived": "#8a5a00"}


@dataclass(frozen=True)
class Plot:
    """A PNG with the text alternative a screen reader reads instead."""

    title: str
    alt: str
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def segment_rows(metrics: list[Metric]) -> list[Metric]:
    """The measured per-segment metrics of a run (what the per-segment plot and tables read)."""
    return [m for m in metrics if m.segment is not None and not m.is_missing]


def funnel_rows(metrics: list[Metric]) -> list[Metric]:
    """The run-wide `<dimension>.funnel_reached.<step>` metrics, in journey order (as logged)."""
    return [m for m in metrics if ".funnel_reached." in m.name and m.segment is None]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    # Labels are what a lab wrote (`cost in $ per file`): text, never TeX to parse (a lone `$` crashed it).
    matplotlib.rcParams["text.parse_math"] = False
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    _pyplot().close(fig)
    return buf.getvalue()


def criteria_plot(criteria: list[CriterionVerdict]) -> Plot | None:
    """Every measured criterion on one axis, as a ratio to its threshold (1 = the threshold).

    One axis, not one panel per criterion: a figure with many panels takes seconds to draw.
    """
    rows = [v for v in criteria if v.observed is not None and v.threshold != 0][:24]
    if not rows:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(rows) + 1.1), layout="constrained")
    for y, v in enumerate(rows):
        t = abs(v.threshold)
        value = float(v.observed) / t  # type: ignore[arg-type]
        lo = (v.ci_low if v.ci_low is not None else float(v.observed)) / t  # type: ignore[arg-type]
        hi = (v.ci_high if v.ci_high is not None else float(v.observed)) / t  # type: ignore[arg-type]
        ax.errorbar(
            [value],
            [y],
            xerr=[[max(value - lo, 0)], [max(hi - value, 0)]],
            fmt="o",
            color=COLOURS.get(v.verdict, "#333333"),
            capsize=3,
        )
    ax.axvline(1.0 if rows[0].threshold > 0 else -1.0, color="#222222", linestyle="--", linewidth=1)
    ax.set_yticks(
        range(len(rows)), [f"{v.label[:40]} ({SHORT[v.kind]}) {v.verdict.upper()}" for v in rows], fontsize=7
    )
    ax.invert_yaxis()
    ax.set_xlabel("observed ÷ threshold (dashed line: the threshold)", fontsize=8)
    ax.tick_params(axis="x", labelsize=7)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Criteria: value and 95% interval relative to the threshold", fontsize=10)
    alt = "; ".join(
        f"{v.label}: {float(v.observed):.3g} against threshold {v.threshold:g}, {v.verdict}"  # type: ignore[arg-type]
        for v in rows
    )
    return Plot("Criteria against their thresholds", alt, _png(fig))


def segments_plot(metrics: list[Metric], name: str) -> Plot | None:
    """The metric `name` per segment with 95% intervals, grouped by attribute."""
    rows = [m for m in metrics if m.name == name and m.segment is not None and not m.is_missing]
    if len(rows) < 2:
        return None
    groups: dict[str, list[Metric]] = defaultdict(list)
    for m in rows:
        groups[str(m.segment).split("=", 1)[0]].append(m)
    ordered = [
        m for attribute in sorted(groups) for m in sorted(groups[attribute], key=lambda x: str(x.segment))
    ]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(ordered) + 1.0), layout="constrained")
    ys = list(range(len(ordered)))
    values = [float(m.value) for m in ordered]  # type: ignore[arg-type]
    lows = [v - (m.ci_low if m.ci_low is not None else v) for v, m in zip(values, ordered, strict=True)]
    highs = [(m.ci_high if m.ci_high is not None else v) - v for v, m in zip(values, ordered, strict=True)]
    ax.errorbar(values, ys, xerr=[lows, highs], fmt="o", color="#0b5cad", capsize=3)
    ax.set_yticks(ys, [str(m.segment) for m in ordered], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(name, fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(f"{name} per segment (95% intervals)", fontsize=10)
    alt = "; ".join(f"{m.segment}: {float(m.value):.3g}" for m in ordered)  # type: ignore[arg-type]
    return Plot(f"{name} per segment", alt, _png(fig))


def funnel_plot(metrics: list[Metric]) -> Plot | None:
    """The journey funnel: the share of sessions reaching each step, in journey order (as logged),
    with 95% intervals, from the `<dimension>.funnel_reached.<step>` metrics of the whole run."""
    rows = [m for m in metrics if ".funnel_reached." in m.name and m.segment is None and m.value is not None]
    if not rows:
        return None
    steps = [m.name.split(".funnel_reached.", 1)[1] for m in rows]
    shares = [float(m.value) for m in rows]  # type: ignore[arg-type]
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 0.38 * len(rows) + 1.2), layout="constrained")
    ys = list(range(len(rows)))
    ax.barh(ys, shares, color="#1f5aa6")
    lows = [v - (m.ci_low if m.ci_low is not None else v) for v, m in zip(shares, rows, strict=True)]
    highs = [(m.ci_high if m.ci_high is not None else v) - v for v, m in zip(shares, rows, strict=True)]
    ax.errorbar(shares, ys, xerr=[lows, highs], fmt="none", ecolor="#222222", capsize=2)
    ax.set_yticks(ys, steps, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.08)
    ax.set_xlabel("share of sessions reaching the step (95% intervals)", fontsize=8)
    for y, share in zip(ys, shares, strict=True):
        ax.text(min(share + 0.02, 0.98), y, f"{share:.0%}", va="center", fontsize=7)
    ax.set_title(f"Journey funnel (n = {rows[0].n})", fontsize=10)
    alt = "; ".join(f"{step}: {share:.0%} reach it" for step, share in zip(steps, shares, strict=True))
    return Plot("Journey funnel", alt, _png(fig))


def comparison_plot(
    name: str,
    labels: list[str],
    values: list[float | None],
    lows: list[float | None],
    highs: list[float | None],
) -> Plot | None:
    """One metric across runs: a point and its interval per run (a line for many runs)."""
    points = [
        (lab, v, lo, hi) for lab, v, lo, hi in zip(labels, values, lows, highs, strict=True) if v is not None
    ]
    if not points:
        return None
    plt = _pyplot()
    many = len(points) > 40
    fig, ax = plt.subplots(figsize=(7, 2.6 if many else 0.3 * len(points) + 1.0), layout="constrained")
    if many:
        xs = list(range(len(points)))
        ax.plot(xs, [p[1] for p in points], ".", markersize=2, color="#0b5cad")
        ax.set_xlabel("run (in the order compared)", fontsize=8)
        ax.set_ylabel(name, fontsize=8)
    else:
        ys = list(range(len(points)))
        vals = [float(p[1]) for p in points]  # type: ignore[arg-type]
        lo = [v - (p[2] if p[2] is not None else v) for v, p in zip(vals, points, strict=True)]
        hi = [(p[3] if p[3] is not None else v) - v for v, p in zip(vals, points, strict=True)]
        ax.errorbar(vals, ys, xerr=[lo, hi], fmt="o", color="#0b5cad", capsize=3)
        ax.set_yticks(ys, [p[0] for p in points], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel(name, fontsize=8)
    ax.grid(alpha=0.3)
    ax.set_title(f"{name} by run", fontsize=10)
    alt = (
        f"{name} across {len(points)} runs: "
        + "; ".join(
            f"{p[0]}: {float(p[1]):.3g}"
            for p in points[:20]  # type: ignore[arg-type]
        )
        + ("; …" if len(points) > 20 else "")
    )
    return Plot(f"{name} by run", alt, _png(fig))
