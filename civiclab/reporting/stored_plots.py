"""The report's plots drawn when a run ends, kept among its signed artifacts, and read back.

Drawing them (matplotlib) takes longer than anything else of a committee member's first view of a
scorecard. `civiclab run` draws them once, from the scorecard and the metrics, into `plots/` before
the run is signed, so its statement and its manifest cover them. The desk and `civiclab report` show
those files when the run verifies intact (so they are the signed bytes), and draw the plots only for a
run that has none (made before, or through the Python API without `figures`) or that does not verify.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from civiclab.errors import AuditError
from civiclab.reporting.html import report_plots, scorecard_plots
from civiclab.reporting.plots import Plot, funnel_rows, segment_rows
from civiclab.store.files import read_artifact
from civiclab.store.schema import PLOTS_INDEX_FILE

if TYPE_CHECKING:
    from civiclab.records import Metric
    from civiclab.reporting.document import ReportDocument
    from civiclab.scoring.scorecard import Scorecard
    from civiclab.store.tracker import Tracker

PLOTS_FOLDER = str(Path(PLOTS_INDEX_FILE).parent)
MAX_PLOT_BYTES = 4 * 1024 * 1024


class StoredPlot(BaseModel):
    """One plot of the index: its PNG file (in `plots/`), its title and its text alternative."""

    model_config = ConfigDict(extra="forbid")

    file: str = Field(pattern=r"^[0-9]{2}\.png$")
    title: str
    alt: str


class PlotIndex(BaseModel):
    """`plots/index.json`: the report's plots in the order the report shows them."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    plots: list[StoredPlot]


def draw_run_plots(folder: Path, card: Scorecard, metrics: list[Metric]) -> None:
    """Draw the report's plots of a run that has just been scored into `folder/plots/`."""
    plots = scorecard_plots(card.criteria, funnel_rows(metrics), segment_rows(metrics))
    (folder / PLOTS_FOLDER).mkdir(exist_ok=True)
    index = PlotIndex(plots=[])
    for number, plot in enumerate(plots, start=1):
        name = f"{number:02d}.png"
        (folder / PLOTS_FOLDER / name).write_bytes(plot.png)
        index.plots.append(StoredPlot(file=name, title=plot.title, alt=plot.alt))
    (folder / PLOTS_INDEX_FILE).write_text(json.dumps(index.model_dump(), ensure_ascii=False, indent=1))


def read_run_plots(folder: Path) -> list[Plot] | None:
    """The plots stored in a run's folder, or None when it has none or they cannot be read."""
    try:
        index = PlotIndex.model_validate_json(read_artifact(folder, PLOTS_INDEX_FILE))
        return [
            Plot(p.title, p.alt, read_artifact(folder, f"{PLOTS_FOLDER}/{p.file}", MAX_PLOT_BYTES))
            for p in index.plots
        ]
    except (OSError, AuditError, ValidationError, ValueError):
        return None


def run_plots(tracker: Tracker, doc: ReportDocument) -> list[Plot]:
    """The plots of a run's report: the signed ones when the run verified intact and has them on this
    machine, else drawn now."""
    if doc.verification.evidence_ok:
        folder = tracker.local_artifact_dir(doc.run_id)
        stored = read_run_plots(folder) if folder is not None else None
        if stored is not None:
            return stored
    return report_plots(doc)
