"""The scorecard report as Markdown: the evidence and committee answers, the scorecard, then dimensions,
impact and changes."""

from __future__ import annotations

from civiclab.reporting.answers import committee_words, evidence_detail, evidence_words, reviews_problem
from civiclab.reporting.document import ReportDocument
from civiclab.reporting.judge_check import judge_check_lines
from civiclab.scoring.dimensions import DimensionCoverage
from civiclab.scoring.format import fmt, no_raw_html, synthetic_banner
from civiclab.scoring.scorecard_text import to_markdown


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def evidence_line(doc: ReportDocument) -> str:
    """ "Evidence: intact" or "Evidence: DOES NOT VERIFY — <first failed row>", as `civiclab verify` says."""
    return f"**Evidence: {evidence_words(doc.verification)}** — {evidence_detail(doc.verification)}."


def committee_line(doc: ReportDocument) -> str:
    """ "Committee: <the decision rule's status in one sentence>", and what breaks the record of reviews."""
    line = f"**Committee: {committee_words(doc.verification)}.**"
    problem = reviews_problem(doc.verification)
    return line + (f" The record of reviews does not verify: {problem}." if problem else "")


def _coverage(title: str, rows: list[DimensionCoverage]) -> list[str]:
    lines = [
        "",
        f"## {title}",
        "",
        "| dimension | status | results it rests on | evidence | gaps |",
        "| --- | --- | --- | --- | --- |",
    ]
    for c in rows:
        lines.append(
            f"| {_cell(c.label)} | {c.status.upper()} | {_cell('; '.join(c.rests_on) or '—')} "
            f"| {_cell('; '.join(c.evidence) or '—')} | {_cell('; '.join(c.gaps) or '—')} |"
        )
    return lines


def render_markdown(doc: ReportDocument) -> str:
    """The whole report as Markdown."""
    head, _, rest = to_markdown(doc.scorecard).partition("\n")
    lines = [head, "", evidence_line(doc), "", committee_line(doc), rest.rstrip()]
    lines += _coverage("Public-service dimensions", doc.public_dimensions)
    lines += _coverage("Trustworthy AI requirements (ALTAI)", doc.altai)
    lines += ["", "## Impact assessment", ""]
    if doc.impact is not None:
        i = doc.impact
        lines += [
            f"Scored as Canada's Algorithmic Impact Assessment: **impact level {i.level_name}**.",
            "",
            f"- raw impact score: {i.raw_risk} / {i.max_raw_risk}",
            f"- mitigation score: {i.mitigation} / {i.max_mitigation} "
            f"(15% deduction {'applied' if i.mitigation_applied else 'not applied'})",
            f"- current score: {i.current}",
        ]
        if i.unanswered:
            lines.append(f"- unanswered (scored 0): {', '.join(i.unanswered)}")
        if i.bank:
            lines.append(f"- question bank: {i.bank}")
        if i.requires:
            lines += ["", f"Level {i.level_name} requires:", "", *[f"- {_cell(r)}" for r in i.requires]]
        if i.answers:
            lines += ["", "| question | area | kind | answer | points |", "| --- | --- | --- | --- | --- |"]
            lines += [
                f"| {_cell(a['question'])} | {a['area'] or '—'} | {a['kind']} | {_cell(a['answer'] or 'unanswered')} "
                f"| {a['points']} / {a['max']} |"
                for a in i.answers
            ]
    else:
        lines.append(f"_{doc.impact_note}_")
    lines += ["", "## Changes since the previous run", ""]
    c = doc.changes
    if c is None:
        lines.append("This is the first run of the experiment in this store.")
    else:
        lines += [
            f"Previous run `{c.previous_run_id}` (started {c.previous_started}, recommendation "
            f"{(c.previous_recommendation or 'unknown').upper()}); spec "
            f"{'changed' if c.spec_digest_changed else 'unchanged'}.",
            "",
            "### Verdicts that flipped",
            "",
        ]
        lines += [f"- {_cell(f.label)}: {f.previous} → **{f.current}**" for f in c.verdict_flips] or ["None."]
        lines += ["", "### Spec changes (parameters that differ)", ""]
        if c.spec_changes:
            lines += ["| parameter | previous | now |", "| --- | --- | --- |"]
            lines += [
                f"| `{p.key}` | {_cell(p.previous if p.previous is not None else '(absent)')} "
                f"| {_cell(p.current if p.current is not None else '(absent)')} |"
                for p in c.spec_changes
            ]
        else:
            lines.append("None.")
        lines += [
            "",
            "### Metric deltas",
            "",
            "| metric | previous | now | change |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| {m.name} | {fmt(m.previous)} | {fmt(m.current)} | "
            f"{'—' if m.delta is None else f'{m.delta:+.4g}'} |"
            for m in c.metric_deltas
        ]
    lines += judge_check_lines(doc.judge_check)
    if doc.scorecard.synthetic:
        lines += ["", synthetic_banner(doc.scorecard)]
    lines += ["", f"_Report generated {doc.generated}. Verify with `civiclab verify {doc.run_id}`._", ""]
    return no_raw_html("\n".join(lines))
