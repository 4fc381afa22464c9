"""The scorecard report as PDF, drawn by fpdf2 (pure Python: no browser, works offline).

Fonts are the DejaVu faces matplotlib ships, so every character of a report (≥, —, accents) renders.
The document has a title, a language and an outline (bookmarks) for each section.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from civiclab.reporting.answers import reviews_problem
from civiclab.reporting.document import ReportDocument
from civiclab.reporting.judge_check import judge_check_sentence, judge_check_table
from civiclab.reporting.markdown import committee_line, evidence_line
from civiclab.reporting.plots import Plot
from civiclab.scoring.dimensions import DimensionCoverage
from civiclab.scoring.format import (
    SIGN,
    criterion_interval,
    fmt,
    interval_text,
    left_behind_text,
    sample_text,
    synthetic_banner,
    verdict_text,
)

FONT = "DejaVu"
MONO = "DejaVuMono"
RGB = {
    "pass": (26, 127, 55),
    "covered": (26, 127, 55),
    "go": (26, 127, 55),
    "approve": (26, 127, 55),
    "fail": (179, 38, 30),
    "stop": (179, 38, 30),
    "gap": (179, 38, 30),
    "reject": (179, 38, 30),
    "waived": (138, 90, 0),
    "partial": (138, 90, 0),
    "iterate": (138, 90, 0),
    "advisory": (138, 90, 0),
    "revise": (138, 90, 0),
}


def _fonts_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


class _Writer:
    """Small helpers over FPDF so the report reads as a sequence of sections."""

    def __init__(self, title: str, banner: str | None = None) -> None:
        from fpdf import FPDF

        class _Pages(FPDF):
            def header(self) -> None:
                # Generated data is marked on every page, not only the first.
                if banner:
                    self.set_font(FONT, "B", 9)
                    self.set_text_color(179, 38, 30)
                    self.multi_cell(0, 5, banner, align="C", new_x="LMARGIN", new_y="NEXT")
                    self.set_text_color(0, 0, 0)
                    self.ln(1)

        pdf = _Pages(orientation="portrait", unit="mm", format="A4")
        fonts = _fonts_dir()
        pdf.add_font(FONT, "", str(fonts / "DejaVuSans.ttf"))
        pdf.add_font(FONT, "B", str(fonts / "DejaVuSans-Bold.ttf"))
        pdf.add_font(MONO, "", str(fonts / "DejaVuSansMono.ttf"))
        pdf.set_title(title)
        pdf.set_author("civiclab")
        pdf.set_creator("civiclab (fpdf2)")
        pdf.set_lang("en")
        pdf.set_auto_page_break(auto=True, margin=15)
        pdf.set_margins(15, 15, 15)
        self.pdf = pdf

    def page(self) -> None:
        self.pdf.add_page()

    def heading(self, text: str, level: int = 0) -> None:
        pdf = self.pdf
        if level == 0:
            pdf.ln(3)
        pdf.start_section(text, level=level)
        pdf.set_font(FONT, "B", 14 if level == 0 else 11)
        pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    def text(self, text: str, *, size: int = 9, style: str = "", colour: str | None = None) -> None:
        pdf = self.pdf
        pdf.set_font(FONT, style.replace("I", ""), size)  # no italic face: each font costs ~0.1 s to load
        pdf.set_text_color(*RGB.get(colour or "", (27, 27, 27)))
        pdf.multi_cell(0, 4.6, text, new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(27, 27, 27)

    def bullets(self, items: list[str]) -> None:
        for item in items:
            self.text(f"• {item}")

    def table(
        self,
        header: tuple[str, ...],
        rows: Sequence[tuple[str, ...]],
        widths: tuple[int, ...],
        *,
        mono_col: int | None = None,
        verdict_col: int | None = None,
    ) -> None:
        from fpdf.fonts import FontFace

        pdf = self.pdf
        pdf.set_font(FONT, "", 7.5)
        with pdf.table(
            col_widths=widths,
            line_height=3.8,
            text_align="LEFT",
            first_row_as_headings=True,
            headings_style=FontFace(family=FONT, emphasis="BOLD", fill_color=(238, 241, 244)),
            padding=1,
        ) as table:
            table.row(header)
            for values in rows:
                row = table.row()
                for i, value in enumerate(values):
                    style = None
                    if i == mono_col:
                        style = FontFace(family=MONO, size_pt=6.5)
                    elif i == verdict_col:
                        key = value.split()[0].lower() if value else ""
                        style = FontFace(family=FONT, emphasis="BOLD", color=RGB.get(key, (27, 27, 27)))
                    row.cell(value, style=style)
        pdf.ln(2)

    def image(self, plot: Plot) -> None:
        pdf = self.pdf
        pdf.image(io.BytesIO(plot.png), w=min(pdf.epw, 150), alt_text=plot.alt)
        self.text(plot.title, size=8, style="I")

    def output(self) -> bytes:
        return bytes(self.pdf.output())


_CELL_LINES = 12
"""A PDF table row must fit on one page: a dimension resting on many results lists the first ones."""


def _lines(items: list[str]) -> str:
    if not items:
        return "—"
    shown = items[:_CELL_LINES]
    more = len(items) - len(shown)
    return "\n".join(
        shown + ([f"… and {more} more (HTML and Markdown reports list them all)"] if more else [])
    )


def _coverage(w: _Writer, title: str, rows: list[DimensionCoverage]) -> None:
    w.heading(title)
    w.table(
        ("Dimension", "Coverage", "Evidence", "Gaps"),
        [
            (
                c.label,
                c.status.upper(),
                _lines([*c.rests_on, *c.evidence]),
                _lines(c.gaps),
            )
            for c in rows
        ],
        (30, 21, 65, 64),
        verdict_col=1,
    )


def render_pdf(doc: ReportDocument, plots: list[Plot]) -> bytes:
    """The report as PDF bytes: recommendation and integrity first, then evidence, then decisions."""
    card = doc.scorecard
    banner = synthetic_banner(card).replace("**", "") if card.synthetic else None
    w = _Writer(f"Scorecard — {doc.experiment} — run {doc.run_id}", banner)
    w.page()
    w.heading(f"Scorecard — {doc.experiment}")
    if card.description:
        w.text(card.description.strip())
    w.text(f"Recommendation: {card.recommendation.upper()}", size=13, style="B", colour=card.recommendation)
    w.bullets(card.reasons)
    w.pdf.ln(2)
    v = doc.verification
    w.text(evidence_line(doc).replace("**", ""), style="B", colour="pass" if v.evidence_ok else "fail")
    w.text(committee_line(doc).replace("**", ""), style="B", colour="fail" if reviews_problem(v) else None)
    w.heading("Run", 1)
    run_rows = [
        ("Run", doc.run_id),
        ("Status", f"{doc.status}, started {doc.started}"),
        ("Sessions", str(card.sessions)),
        ("Spec sha256", card.spec_digest),
        ("Audit root", card.audit_root),
    ]
    run_root = doc.verification.found.run_audit_root if doc.verification.found else None
    if run_root and run_root != card.audit_root:
        run_rows.append(("Audit root at run close", run_root))
    if card.energy_method:
        run_rows.append(("Energy", card.energy_method))
    w.table(("Field", "Value"), run_rows, (40, 140), mono_col=1)

    w.page()
    w.heading("Criteria")
    w.table(
        (
            "Criterion",
            "Severity",
            "Observed",
            "95% interval (method); n, units",
            "Threshold",
            "Verdict",
            "Detail",
        ),
        [
            (
                v.label + (f"\n{v.segment}" if v.segment else ""),
                v.severity,
                f"{fmt(v.observed)} {v.unit}".strip(),
                f"{criterion_interval(v)}\n{sample_text(v)}",
                f"{SIGN[v.kind]} {v.threshold:g}",
                verdict_text(v),
                v.detail,
            )
            for v in card.criteria
        ],
        (34, 15, 17, 22, 17, 22, 53),
        verdict_col=5,
    )
    if card.left_behind:
        w.heading("Groups left behind", 1)
        w.table(
            ("Group", "Criterion", "Observed", "95% interval", "n", "Threshold", "Sure"),
            [
                (
                    g.segment,
                    g.label,
                    fmt(g.observed),
                    interval_text(g.ci_low, g.ci_high),
                    "—" if g.n is None else str(g.n),
                    f"{SIGN[g.kind]} {g.threshold:g}",  # type: ignore[index]
                    left_behind_text(g),
                )
                for g in card.left_behind[:40]
            ],
            (38, 42, 17, 26, 12, 20, 25),
        )
    if card.missing:
        w.heading("Missing evidence", 1)
        w.bullets([f"{v.label} ({v.severity}): {v.detail}" for v in card.missing])
    waived = [v for v in card.criteria if v.waiver is not None]
    if waived:
        w.heading("Waivers", 1)
        w.bullets(
            [
                f"{v.label}: granted by {v.waiver.granted_by} — {v.waiver.justification}"  # type: ignore[union-attr]
                for v in waived
            ]
        )
    for plot in plots:
        w.image(plot)

    w.page()
    w.heading("Families of evidence")
    w.table(
        ("Family", "Verdict", "Metrics", "Pass", "Fail", "Missing", "Waived"),
        [
            (
                d.dimension,
                d.verdict.upper(),
                str(d.metrics),
                str(d.passed),
                str(d.failed),
                str(d.missing),
                str(d.waived),
            )
            for d in card.dimensions
        ],
        (40, 30, 22, 22, 22, 22, 22),
        verdict_col=1,
    )
    if card.evaluator_errors:
        w.heading("Evaluator errors", 1)
        w.bullets(card.evaluator_errors)
    _coverage(w, "Public-service dimensions", doc.public_dimensions)
    _coverage(w, "Trustworthy AI requirements (ALTAI)", doc.altai)

    w.page()
    w.heading("Impact assessment")
    if doc.impact is not None:
        i = doc.impact
        w.text(f"Scored as Canada's Algorithmic Impact Assessment: impact level {i.level_name}.", style="B")
        w.bullets(
            [
                f"raw impact score: {i.raw_risk} / {i.max_raw_risk}",
                f"mitigation score: {i.mitigation} / {i.max_mitigation} "
                f"(15% deduction {'applied' if i.mitigation_applied else 'not applied'})",
                f"current score: {i.current}",
                *([f"unanswered (scored 0): {', '.join(i.unanswered)}"] if i.unanswered else []),
                *([f"question bank: {i.bank}"] if i.bank else []),
            ]
        )
        if i.requires:
            w.text(f"Level {i.level_name} requires:", style="B")
            w.bullets(list(i.requires))
        if i.answers:
            w.table(
                ("Question", "Area", "Kind", "Answer", "Points"),
                [
                    (
                        str(a["question"]),
                        str(a["area"] or "—"),
                        str(a["kind"]),
                        str(a["answer"] or "unanswered"),
                        f"{a['points']} / {a['max']}",
                    )
                    for a in i.answers
                ],
                (70, 22, 20, 50, 18),
            )
    else:
        w.text(doc.impact_note or "", style="I")
    _changes(w, doc)
    w.heading("Data governance as declared")
    gov: list[tuple[str, ...]] = [
        (k, ", ".join(map(str, v)) if isinstance(v, list) else str(v)) for k, v in doc.governance.items()
    ]
    if gov:
        w.table(("Field", "Declared"), gov, (45, 135))
    else:
        w.text("Nothing declared.", colour="gap")
    w.heading("Committee reviews")
    w.text(committee_line(doc).replace("**", ""))
    if card.reviews:
        w.table(
            ("Line", "When (UTC)", "Signed by", "Role", "Decision", "Comment", "Conditions", "Counted"),
            [
                (
                    f"#{r.get('line')}",
                    str(r.get("ts")),
                    str(r.get("signer")),
                    str(r.get("role") or "-"),
                    str(r.get("decision", "")).upper(),
                    str(r.get("comment") or "-"),
                    "; ".join(str(c) for c in r.get("conditions") or []) or "-",
                    str(r.get("status")),
                )
                for r in card.reviews
            ],
            (12, 24, 30, 14, 18, 34, 26, 22),
            verdict_col=4,
        )
    else:
        w.text(f"No decision recorded yet (civiclab review {doc.run_id} ...).")
    if doc.judge_check is not None:
        w.heading("The judge checked against people", 1)
        w.text(judge_check_sentence(doc.judge_check))
        header, rows = judge_check_table(doc.judge_check)
        if rows:
            w.table(header, rows, tuple([40] + [30] * (len(header) - 1)))
        w.bullets([f"{g.file}: {g.problem}" for g in doc.judge_check.ignored])
    w.pdf.ln(3)
    w.text(f"Report generated {doc.generated}. Verify with: civiclab verify {doc.run_id}", size=8, style="I")
    return w.output()


def _changes(w: _Writer, doc: ReportDocument) -> None:
    w.heading("Changes since the previous run")
    c = doc.changes
    if c is None:
        w.text("This is the first run of the experiment in this store.")
        return
    w.text(
        f"Previous run {c.previous_run_id} (started {c.previous_started}, recommendation "
        f"{(c.previous_recommendation or 'unknown').upper()}); spec {'changed' if c.spec_digest_changed else 'unchanged'}."
    )
    w.heading("Verdicts that flipped", 1)
    if c.verdict_flips:
        w.bullets([f"{f.label}: {f.previous} → {f.current}" for f in c.verdict_flips])
    else:
        w.text("None.")
    w.heading("Spec changes (parameters that differ)", 1)
    if c.spec_changes:
        w.table(
            ("Parameter", "Previous", "Now"),
            [
                (
                    p.key,
                    str(p.previous) if p.previous is not None else "(absent)",
                    str(p.current) if p.current is not None else "(absent)",
                )
                for p in c.spec_changes
            ],
            (70, 55, 55),
        )
    else:
        w.text("None.")
    w.heading("Metric deltas", 1)
    rows: list[tuple[str, ...]] = [
        (m.name, fmt(m.previous), fmt(m.current), "—" if m.delta is None else f"{m.delta:+.4g}")
        for m in c.metric_deltas
    ]
    w.table(("Metric", "Previous", "Now", "Change"), rows, (90, 30, 30, 30))


def write_pdf(doc: ReportDocument, plots: list[Plot], path: Path) -> Path:
    path.write_bytes(render_pdf(doc, plots))
    return path
