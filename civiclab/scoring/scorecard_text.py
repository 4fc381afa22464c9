"""A scorecard as text: Markdown for the run's artifacts, a plain table for the terminal."""

from __future__ import annotations

from civiclab.scoring.format import (
    ASCII_SIGN,
    SIGN,
    criterion_interval,
    fmt,
    interval_text,
    left_behind_text,
    no_raw_html,
    sample_text,
    synthetic_banner,
    verdict_text,
)
from civiclab.scoring.format import cell as _cell
from civiclab.scoring.scorecard import CriterionVerdict, Scorecard


def to_markdown(card: Scorecard) -> str:
    """The scorecard as Markdown: recommendation, criteria, missing evidence, dimensions, reviews, digests."""
    lines = [f"# Scorecard — {card.experiment}", ""]
    lines += [synthetic_banner(card), ""] if card.synthetic else []
    lines += [card.description.strip(), ""]
    lines += [
        f"**Recommendation: {card.recommendation.upper()}**",
        "",
        *[f"- {_cell(r)}" for r in card.reasons],
    ]
    lines += [
        "",
        "## Criteria",
        "",
        "| criterion | severity | observed | 95% interval (method) | n, units (min) | threshold | verdict | detail |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for v in card.criteria:
        interval = criterion_interval(v)
        observed = f"{fmt(v.observed)} {v.unit}".strip()
        n = sample_text(v)
        lines.append(
            f"| {_cell(v.label)} | {v.severity} | {observed} | {interval} | {n} | {SIGN[v.kind]} {v.threshold:g} "
            f"| {verdict_text(v)} | {_cell(v.detail)} |"
        )
    if card.left_behind:
        lines += [
            "",
            "## Groups left behind",
            "",
            "Groups (k-anonymous segments and intersections) for whom a criterion does not hold. A group whose "
            "whole interval fails a blocking criterion blocks a GO.",
            "",
            "| group | criterion | observed | 95% interval | n | threshold | sure |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for g in card.left_behind:
            sure = left_behind_text(g)
            lines.append(
                f"| {_cell(g.segment)} | {_cell(g.label)} | {fmt(g.observed)} | {interval_text(g.ci_low, g.ci_high)} "
                f"| {g.n if g.n is not None else '—'} | {SIGN[g.kind]} {g.threshold:g} | {sure} |"  # type: ignore[index]
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
            "| when | signed by | role | decision | comment | conditions | counted |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in card.reviews:
            conditions = "; ".join(str(c) for c in r.get("conditions") or []) or "—"
            lines.append(
                f"| {r.get('ts', '')} | {_cell(r.get('signer', ''))} | {_cell(r.get('role') or '—')} "
                f"| {str(r.get('decision', '')).upper()} | {_cell(r.get('comment') or '—')} "
                f"| {_cell(conditions)} | {_cell(r.get('status', ''))} |"
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
    return no_raw_html("\n".join(lines))


def _n_units(v: CriterionVerdict) -> str:
    """'201 (33 questions)' when observations repeat units, '480 sessions', or n alone."""
    from civiclab.stats.sample_size import plural

    if v.n is None:
        return "-"
    if v.unit_of_replication is None:
        return str(v.n)
    if v.units is not None and v.units != v.n:
        return f"{v.n} ({v.units} {plural(v.unit_of_replication)})"
    return f"{v.n} {plural(v.unit_of_replication)}"


def to_table(card: Scorecard) -> str:
    """A plain-text table for the terminal."""
    rows = [("criterion", "observed", "95% interval", "n (units)", "threshold", "verdict")]
    for v in card.criteria:
        mark = v.verdict.upper() + ("*" if v.confident is False else "")
        mark += " (uninformative)" if v.uninformative else ""
        mark += " SYNTHETIC (model prediction)" if v.synthetic else ""
        interval = interval_text(v.ci_low, v.ci_high).replace("—", "-")
        interval = "census" if v.census is not None else interval
        interval += " Monte Carlo" if v.synthetic and v.ci_low is not None else ""
        rows.append(
            (
                v.label[:48],
                fmt(v.observed),
                interval,
                _n_units(v),
                f"{ASCII_SIGN[v.kind]} {v.threshold:g}",
                mark,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = [f"Scorecard: {card.experiment}  (run {card.run_id})"]
    out += [synthetic_banner(card).replace("**", "")] if card.synthetic else []
    for i, row in enumerate(rows):
        out.append("  ".join(cell.ljust(widths[j]) for j, cell in enumerate(row)).rstrip())
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    out.append("dimensions: " + ", ".join(f"{d.dimension}={d.verdict}" for d in card.dimensions))
    # Segments with the same n and value on one criterion are the same people (80+, no device, ...).
    same: dict[tuple[str, int | None, float], list[str]] = {}
    for g in card.left_behind:
        if g.confident:
            same.setdefault((g.label, g.n, g.observed), []).append(g.segment)
    shown = {(g.label, g.n, g.observed): g for g in card.left_behind}
    for key, names in list(same.items())[:8]:
        g = shown[key]
        out.append(
            f"left behind: {' = '.join(names)}: {g.label[:40]} {fmt(g.observed)} "
            f"{interval_text(g.ci_low, g.ci_high)} (n={g.n}) vs {ASCII_SIGN[g.kind]} {g.threshold:g}"
        )
    if len(same) > 8:
        out.append(f"left behind: {len(same) - 8} more (see the scorecard)")
    if card.energy_method:
        out.append(f"energy: {card.energy_method}")
    if any(v.confident is False for v in card.criteria):
        out.append("* on the point estimate only: its 95% interval crosses the threshold")
    for r in card.reviews:
        out.append(
            f"review: {str(r.get('decision', '')).upper()} signed by {r.get('signer')} ({r.get('ts')}), "
            f"{r.get('status')}"
        )
    out.append(f"RECOMMENDATION: {card.recommendation.upper()}")
    out.extend(f"  - {r}" for r in card.reasons)
    return "\n".join(out)
