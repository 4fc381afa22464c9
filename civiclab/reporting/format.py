"""How numbers and verdicts are written in every report (Markdown, HTML, PDF, terminal)."""

from __future__ import annotations

from civiclab.scorecard import SIGN, CriterionVerdict

__all__ = ["ASCII_SIGN", "SIGN", "cell", "fmt", "verdict_text"]

ASCII_SIGN = {"at_least": ">=", "at_most": "<=", "max_gap": "gap<=", "min_ratio": "ratio>="}


def fmt(value: float | None) -> str:
    """A number with four significant digits, or an em dash when there is none."""
    if value is None:
        return "—"
    return f"{value:.4g}"


def verdict_text(v: CriterionVerdict) -> str:
    """PASS / FAIL / MISSING / WAIVED, with "(point only)" for a pass the interval does not support."""
    return v.verdict.upper() + (" (point estimate only)" if v.confident is False else "")


def cell(text: object) -> str:
    """Text safe inside a Markdown table cell (no pipe, no line break)."""
    return str(text).replace("|", "\\|").replace("\n", " ")
