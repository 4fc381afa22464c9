"""A scorecard as text: Markdown for the run's artifacts, a plain table for the terminal."""

from __future__ import annotations

from civiclab.reporting.format import ASCII_SIGN, SIGN, fmt, verdict_text
from civiclab.reporting.format import cell as _cell
from civiclab.scorecard import Scorecard


def to_markdown(card: Scorecard) -> str:
    """The scorecard as Markdown: recommendation, criteria, missing evidence, dimensions, reviews, digests."""
    lines = [f"# Scorecard — {card.experiment}", "", card.description.strip(), ""]
    lines += [
        f"**Recommendation: {card.recommendation.upper()}**",
        "",
        *[f"- {_cell(r)}" for r in card.reasons],
    ]
    lines += [
        "",
        "## Criteria",
        "",
        "| criterion | severity | observed | 95% interval | threshold | verdict | detail |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for v in card.criteria:
        interval = f"[{fmt(v.ci_low)}, {fmt(v.ci_high)}]" if v.ci_low is not None else "—"
        observed = f"{fmt(v.observed)} {v.unit}".strip()
        lines.append(
            f"| {_cell(v.label)} | {v.severity} | {observed} | {interval} | {SIGN[v.kind]} {v.threshold:g} "
            f"| {verdict_text(v)} | {_cell(v.detail)} |"
        )
    if card.missing:
        lines += ["", "## Missing evidence", ""]
        lines += [f"- **{_cell(v.label)}** ({v.severity}): {_cell(v.detail)}" for v in card.missing]
    waivers = [v for v in card.criteria if v.waiver is not None]
    if waivers:
        lines += ["", "## Waivers", ""]
        for v in waivers:
            w = v.waiver
            assert w is not None
            when = f" on {w.date}" if w.date else ""
            lines.append(
                f"- {_cell(v.label)}: granted by {_cell(w.granted_by)}{when} — {_cell(w.justification)}"
            )
    lines += [
        "",
        "## Dimensions",
        "",
        "| dimension | verdict | metrics | pass | fail | missing | waived |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for d in card.dimensions:
        lines.append(
            f"| {d.dimension} | {d.verdict} | {d.metrics} | {d.passed} | {d.failed} | {d.missing} | {d.waived} |"
        )
    if card.energy_method:
        lines += ["", f"Energy: {card.energy_method}."]
    if card.evaluator_errors:
        lines += ["", "## Evaluator errors", "", *[f"- {_cell(e)}" for e in card.evaluator_errors]]
    if card.reviews:
        lines += [
            "",
            "## Committee reviews",
            "",
            "| when | reviewer | decision | comment |",
            "| --- | --- | --- | --- |",
        ]
        for r in card.reviews:
            lines.append(
                f"| {r.get('ts', '')} | {_cell(str(r.get('reviewer', '')))} | {str(r.get('decision', '')).upper()} "
                f"| {_cell(str(r.get('comment', '')))} |"
            )
    lines += [
        "",
        "## Provenance",
        "",
        f"- run: `{card.run_id}`",
        f"- sessions: {card.sessions}",
        f"- spec sha256: `{card.spec_digest}`",
        f"- audit root: `{card.audit_root}`",
        f"- created: {card.created}",
        "",
    ]
    return "\n".join(lines)


def to_table(card: Scorecard) -> str:
    """A plain-text table for the terminal."""
    rows = [("criterion", "observed", "95% interval", "threshold", "verdict")]
    for v in card.criteria:
        mark = v.verdict.upper() + ("*" if v.confident is False else "")
        interval = f"[{fmt(v.ci_low)}, {fmt(v.ci_high)}]" if v.ci_low is not None else "-"
        rows.append((v.label[:48], fmt(v.observed), interval, f"{ASCII_SIGN[v.kind]} {v.threshold:g}", mark))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = [f"Scorecard: {card.experiment}  (run {card.run_id})"]
    for i, row in enumerate(rows):
        out.append("  ".join(cell.ljust(widths[j]) for j, cell in enumerate(row)).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    out.append("dimensions: " + ", ".join(f"{d.dimension}={d.verdict}" for d in card.dimensions))
    if card.energy_method:
        out.append(f"energy: {card.energy_method}")
    if any(v.confident is False for v in card.criteria):
        out.append("* passes on the point estimate only: its 95% interval crosses the threshold")
    for r in card.reviews:
        out.append(f"review: {str(r.get('decision', '')).upper()} by {r.get('reviewer')} ({r.get('ts')})")
    out.append(f"RECOMMENDATION: {card.recommendation.upper()}")
    out.extend(f"  - {r}" for r in card.reasons)
    return "\n".join(out)
