"""What a desk does once at start, in its background worker, so that a committee member's first click
does not pay for it: import what verifying, reporting, comparing and signing need (scipy, matplotlib, fpdf2),
open MLflow's client (a review's tags are written through it: ≈2 s, more on a loaded machine), and
verify the newest runs, the ones people open first.
"""

from __future__ import annotations

import importlib
import logging
import time
from typing import TYPE_CHECKING

from civiclab.errors import CivicLabError

if TYPE_CHECKING:
    from civiclab.store.tracker import Tracker

log = logging.getLogger(__name__)

WARM_MODULES = (
    "civiclab.evidence.verify.verification",
    "civiclab.evidence.review",
    "civiclab.evidence.labels.agreement",
    "civiclab.reporting.document",
    "civiclab.reporting.html",
    "civiclab.reporting.pdf",
    "civiclab.reporting.compare",
    "civiclab.reporting.compare_html",
    "scipy.optimize",  # verifying re-runs the evaluators, whose small-group suppression solves LPs
    "scipy.stats",  # a comparison's tests
    "fpdf",
)
NEWEST_VERIFIED = 20  # runs verified at start, newest first (the runs page queues the others it shows)


def warm_up(tracker: Tracker) -> float:
    """Import the modules a first view needs and open MLflow's client; the seconds it took."""
    started = time.perf_counter()
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError as exc:  # an optional part missing: its page says so when asked
            log.info("desk warm-up: %s not imported: %s", name, exc)
    try:
        import matplotlib

        matplotlib.use("Agg")  # as `civiclab.reporting.plots` does: files, never a window
        importlib.import_module("matplotlib.pyplot")
    except ImportError as exc:
        log.info("desk warm-up: matplotlib not imported: %s", exc)
    try:
        tracker.client  # noqa: B018 - opening it is the point
    except CivicLabError as exc:  # the store cannot be written: a review will say so, one line
        log.warning("desk warm-up: %s", exc)
    return time.perf_counter() - started


def newest_runs(tracker: Tracker, n: int = NEWEST_VERIFIED) -> list[str]:
    """The ids of the newest civiclab runs of the store ([] when it cannot be read now)."""
    try:
        return [s.run_id for s in tracker.list_run_heads((), max_results=n)]
    except CivicLabError as exc:
        log.warning("desk warm-up: %s", exc)
        return []
