"""What `civiclab demo` calls after each run: the HTML and PDF scorecards under reports/RUN_ID/."""

from __future__ import annotations

from pathlib import Path

from civiclab.reporting.document import load_document
from civiclab.reporting.html import report_plots
from civiclab.reporting.render import default_path, render
from civiclab.store.tracker import Tracker


def demo_reports(run_id: str, tracking_uri: str | None = None) -> Path:
    """Write reports/RUN_ID/scorecard.html and .pdf; returns the folder."""
    doc = load_document(Tracker(tracking_uri), run_id)
    folder = default_path(run_id, "html").parent
    folder.mkdir(parents=True, exist_ok=True)
    plots = report_plots(doc)  # drawn once for both the HTML and the PDF
    for fmt in ("html", "pdf", "md"):
        (folder / f"scorecard.{fmt}").write_bytes(render(doc, fmt, plots))
    return folder
