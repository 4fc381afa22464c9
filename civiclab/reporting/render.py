"""Write a run's report as HTML, Markdown or PDF.

Reports are written OUTSIDE the run's artifacts (default `reports/RUN_ID/scorecard.EXT` under the current
folder), so a finished run's manifest, and `civiclab verify`, never change because a report was made.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Literal

from civiclab.errors import SpecError
from civiclab.reporting.document import ReportDocument, load_document
from civiclab.reporting.plots import Plot
from civiclab.store.tracker import Tracker

Format = Literal["html", "md", "pdf"]
FORMATS: tuple[str, ...] = ("html", "md", "pdf")
REPORTS_DIR = Path("reports")


def default_path(run_id: str, fmt: str, root: Path | None = None) -> Path:
    return (root or REPORTS_DIR) / run_id / f"scorecard.{fmt}"


def render(doc: ReportDocument, fmt: str, plots: list[Plot] | None = None) -> bytes:
    """The report in one format, as bytes (`plots` are drawn when not given)."""
    if fmt == "md":
        from civiclab.reporting.markdown import render_markdown

        return render_markdown(doc).encode("utf-8")
    from civiclab.reporting.html import report_plots

    plots = report_plots(doc) if plots is None else plots
    if fmt == "html":
        from civiclab.reporting.html import render_html

        return render_html(doc, plots).encode("utf-8")
    if fmt == "pdf":
        from civiclab.reporting.pdf import render_pdf

        return render_pdf(doc, plots)
    raise ValueError(f"unknown report format {fmt!r}: use one of {', '.join(FORMATS)}")


def write_report(
    tracker: Tracker,
    run_id: str,
    fmt: str = "html",
    output: Path | None = None,
    trust: str | Path | None = None,
) -> Path:
    """Render a run's report and write it (atomically) to `output` or the default path.

    Raises:
        SpecError: the report cannot be written there (`--output` in a read-only or special folder).
    """
    doc = load_document(tracker, run_id, trust)
    path = output or default_path(run_id, fmt)
    if path.is_dir():
        path = path / f"scorecard.{fmt}"
    from civiclab.reporting.stored_plots import run_plots

    data = render(doc, fmt, run_plots(tracker, doc))
    tmp = path.with_name(path.name + ".part")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)  # what a full disk left half-written
        raise SpecError(path, "--output", f"cannot write the report: {exc.strerror or exc}") from None
    return path
