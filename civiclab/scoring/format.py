"""How numbers and verdicts are written in every report (Markdown, HTML, PDF, terminal)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from civiclab.scoring.equity import LeftBehind
from civiclab.scoring.scorecard import SIGN, CriterionVerdict, Scorecard

__all__ = [
    "ASCII_SIGN",
    "SIGN",
    "cell",
    "criterion_interval",
    "fmt",
    "interval_text",
    "no_raw_html",
    "sample_text",
    "synthetic_banner",
    "verdict_text",
]

ASCII_SIGN = {"at_least": ">=", "at_most": "<=", "max_gap": "gap<=", "min_ratio": "ratio>="}


def fmt(value: float | None) -> str:
    """A number with four significant digits, or an em dash when there is none."""
    if value is None:
        return "—"
    return f"{value:.4g}"


def interval_text(low: float | None, high: float | None, method: str | None = None) -> str:
    """`[low, high] (method)`; a side the method cannot bound at this n is shown open (∞)."""
    if low is None and high is None:
        return "—"
    text = f"[{fmt(low) if low is not None else '−∞'}, {fmt(high) if high is not None else '∞'}]"
    return f"{text} ({method})" if method else text


def criterion_interval(v: CriterionVerdict) -> str:
    """A criterion's interval as reports show it: `census (exact)` for a census, else `interval_text`."""
    if v.census is not None:
        return "census (exact, no sampling interval)"
    if v.synthetic and (v.ci_low is not None or v.ci_high is not None):
        # The spread of a simulation's own randomness, not of citizens: it shrinks with more runs.
        return interval_text(v.ci_low, v.ci_high, f"Monte Carlo, {v.method}" if v.method else "Monte Carlo")
    return interval_text(v.ci_low, v.ci_high, v.method)


def sample_text(v: CriterionVerdict) -> str:
    """n with its unit of replication and min_n: '201 turns from 39 questions (min 30)', '480 sessions (min 30)'."""
    from civiclab.stats.sample_size import plural

    if v.n is None:
        return "—"
    minimum = "" if v.min_n is None else f" (min {v.min_n})"
    unit = v.unit_of_replication
    if unit is None:
        return f"{v.n}{minimum}"
    if v.units is not None and v.units != v.n:
        return f"{v.n} observations from {v.units} {plural(unit)}{minimum}"
    return f"{v.n} {plural(unit)}{minimum}"


def left_behind_text(g: LeftBehind) -> str:
    """How sure a group's failure is, and whether it blocks a go (its whole interval fails a blocking criterion)."""
    if g.confident:
        text = "yes, exact (census)" if g.census else "yes (whole interval)"
        text += "" if g.enough else ", though n is below min_n"
        return text + (" — blocks GO" if g.blocks_go else "")
    return "point estimate only" if g.enough else "fewer than min_n"


def verdict_text(v: CriterionVerdict) -> str:
    """PASS / FAIL / MISSING / INSUFFICIENT / WAIVED, "(point estimate only)" when the interval does not decide."""
    text = v.verdict.upper() + (" (point estimate only)" if v.confident is False else "")
    text += " (uninformative threshold)" if v.uninformative else ""
    return text + (" — model prediction, SYNTHETIC data" if v.synthetic else "")


def synthetic_banner(card: Scorecard) -> str:
    """The warning every rendering of a scorecard built on generated data starts with."""
    return "**SYNTHETIC DATA — not real people:** " + "; ".join(card.synthetic)


def no_raw_html(markdown: str) -> str:
    """Markdown in which no text a lab, a reviewer or a participant wrote opens an HTML tag.

    Markdown passes raw HTML through (`<script>` in a description would run where the file is shown);
    civiclab's own Markdown holds no HTML, so every `<` is written as the entity `&lt;`.
    """
    return markdown.replace("<", "&lt;")


def cell(text: object) -> str:
    """Text safe inside a Markdown table cell (no pipe, no line break)."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def shown_comment(entry: Mapping[str, Any]) -> str:
    """A review's comment as reports show it, followed by its conditions (signed as their own field)."""
    comment = str(entry.get("comment") or "")
    conditions = [str(c) for c in entry.get("conditions") or []]
    if conditions:
        comment = (comment + " — " if comment else "") + "Conditions: " + "; ".join(conditions)
    return comment
