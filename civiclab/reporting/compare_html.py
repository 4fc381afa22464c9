"""The comparison as one self-contained HTML page with its plots embedded."""

from __future__ import annotations

from pathlib import Path

from civiclab.reporting.compare import CompareReport
from civiclab.reporting.html import HERE, environment
from civiclab.reporting.plots import Plot, comparison_plot

MAX_ROWS = 2000


def _p(p: float | None) -> str:
    if p is None:
        return "—"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def compare_plots(report: CompareReport, max_plots: int = 8) -> list[Plot]:
    """One plot per overall metric (the first `max_plots` by name): baseline and every run."""
    overall = [r for r in report.rows if r.segment is None]
    names = sorted({r.metric for r in overall if r.value is not None or r.baseline is not None})[:max_plots]
    plots: list[Plot] = []
    for name in names:
        mine = [r for r in overall if r.metric == name]
        first = mine[0]
        labels = [f"{report.baseline[:8]} (baseline)"] + [r.run_id[:8] for r in mine]
        values = [first.baseline] + [r.value for r in mine]
        lows = [first.baseline_low] + [r.low for r in mine]
        highs = [first.baseline_high] + [r.high for r in mine]
        plot = comparison_plot(name, labels, values, lows, highs)
        if plot is not None:
            plots.append(plot)
    return plots


def render_compare_html(report: CompareReport, max_plots: int = 8) -> tuple[str, list[Plot]]:
    """The page and the plots it embeds."""
    from civiclab.reporting.html import signed
    from civiclab.scoring.format import fmt

    # With many runs each plot is a dense scatter; fewer of them keep the page quick to build.
    plots = compare_plots(report, max_plots if len(report.runs) <= 40 else min(max_plots, 4))
    overall = [r for r in report.rows if r.segment is None][:MAX_ROWS]
    segments = [r for r in report.rows if r.segment is not None][:MAX_ROWS]
    html = (
        environment()
        .get_template("compare.html.j2")
        .render(
            r=report,
            css=(HERE / "style.css.j2").read_text(encoding="utf-8"),
            plots=plots,
            tables=[("Metrics", "overall", overall), ("Per segment", "segments", segments)],
            f=fmt,
            signed=signed,
            p=_p,
            max_rows=MAX_ROWS,
            max_runs=200,
            params_runs=12,
        )
    )
    return str(html), plots


def write_compare_html(report: CompareReport, folder: Path, max_plots: int = 8) -> Path:
    """compare.html (self-contained) and one PNG per plotted metric in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    html, plots = render_compare_html(report, max_plots=max_plots)
    for i, plot in enumerate(plots):
        (folder / f"plot-{i + 1:02d}.png").write_bytes(plot.png)
    (folder / "compare.json").write_text(report.model_dump_json(indent=1), encoding="utf-8")
    page = folder / "compare.html"
    page.write_text(html, encoding="utf-8")
    return page
