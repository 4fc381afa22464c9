"""The scorecard as one self-contained HTML file: inline CSS, plots as base64 PNG, no external asset."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from civiclab.reporting.answers import committee_words, evidence_detail, evidence_words, reviews_problem
from civiclab.reporting.document import ReportDocument
from civiclab.reporting.judge_check import judge_check_sentence
from civiclab.reporting.plots import Plot, criteria_plot, funnel_plot, segments_plot
from civiclab.scoring.format import (
    SIGN,
    criterion_interval,
    fmt,
    interval_text,
    left_behind_text,
    sample_text,
    verdict_text,
)

if TYPE_CHECKING:
    from civiclab.records import Metric
    from civiclab.scoring.scorecard import CriterionVerdict

HERE = Path(__file__).parent


def signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.4g}"


def environment() -> Any:
    """The Jinja2 environment of civiclab's report templates (autoescaped)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        fmt=fmt,
        signed=signed,
        sign=SIGN,
        verdict_text=verdict_text,
        interval_text=interval_text,
        evidence_words=evidence_words,
        evidence_detail=evidence_detail,
        committee_words=committee_words,
        reviews_problem=reviews_problem,
        criterion_interval=criterion_interval,
        sample_text=sample_text,
        left_behind_text=left_behind_text,
    )
    return env


def report_plots(doc: ReportDocument) -> list[Plot]:
    """The criteria plot, the journey funnel (if the run has one), and the per-segment plot of the
    first metric a gap criterion bounds."""
    return scorecard_plots(doc.scorecard.criteria, doc.funnel, doc.segment_metrics)


def scorecard_plots(
    criteria: list[CriterionVerdict], funnel: list[Metric], segment_metrics: list[Metric]
) -> list[Plot]:
    """`report_plots` from the scorecard's criteria and the run's funnel and per-segment metrics."""
    plots = [criteria_plot(criteria), funnel_plot(funnel)]
    groups = [v.metric for v in criteria if v.kind in ("max_gap", "min_ratio")]
    names = groups or sorted({m.name for m in segment_metrics})[:1]
    if names:
        plots.append(segments_plot(segment_metrics, names[0]))
    return [p for p in plots if p is not None]


def render_html(doc: ReportDocument, plots: list[Plot] | None = None) -> str:
    """The report as one HTML document readable offline."""
    template = environment().get_template("scorecard.html.j2")
    return str(
        template.render(
            d=doc,
            judge_check_sentence=judge_check_sentence,
            card=doc.scorecard,
            css=(HERE / "style.css.j2").read_text(encoding="utf-8"),
            plots=report_plots(doc) if plots is None else plots,
            coverage=[
                ("Public-service dimensions", "public", doc.public_dimensions),
                ("Trustworthy AI requirements (ALTAI)", "altai", doc.altai),
            ],
        )
    )
