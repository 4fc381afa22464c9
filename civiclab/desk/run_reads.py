"""What the run pages read, once per state of the run: its facts (the run as stored, its verification,
the judge's agreement, the lab's comments) and its rendered reports."""

from __future__ import annotations

import threading
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException

from civiclab.desk import label_routes
from civiclab.desk.views import Desk
from civiclab.errors import TrackingError

RunFacts = tuple[Any, Any, tuple[bool, Any], list[Any]]
"""The run as stored, its verification, (judged?, the judge's agreement), the lab's comments."""


def run_facts(desk: Desk, run_id: str) -> RunFacts:
    """What a run's page reads, in one trip to a worker thread: the run as stored, its current
    verification, the judge's agreement with people, the lab's comments."""
    try:
        state = desk.cache.state(run_id)
    except TrackingError:
        raise StarletteHTTPException(404) from None
    verification = desk.cache.verify(run_id, state)
    agreement = label_routes.agreement_for_page(desk, run_id, state)
    assert agreement is not None
    return state.summary, verification, agreement, desk.accounts.comments(run_id)


def kept_facts(desk: Desk, run_id: str) -> RunFacts | None:
    """`run_facts` when all of it is in memory and current (checked with a few `stat` calls and one
    query of desk.db), else None. Served on the event loop: under many readers, a trip to a worker
    thread costs more than the page, each thread waiting its turn for the interpreter."""
    state = desk.cache.kept_state(run_id)
    if state is None:
        return None
    verification = desk.cache.kept(run_id, state)
    if verification is None:
        return None
    agreement = label_routes.agreement_for_page(desk, run_id, state, compute=False)
    if agreement is None:
        return None
    return state.summary, verification, agreement, desk.accounts.comments(run_id)


class ReportCache:
    """Rendered reports per run state: drawing the plots is the slow part of a scorecard page."""

    def __init__(self, limit: int = 64) -> None:
        self._items: dict[tuple[str, str, str], bytes] = {}
        self._lock = threading.Lock()
        self.limit = limit

    def kept(self, desk: Desk, run_id: str, fmt: str) -> bytes | None:
        """The report of the run as it is now when already rendered (checked with `stat` calls only,
        served without a worker thread, as `kept_facts`), else None."""
        state = desk.cache.kept_state(run_id)
        if state is None:
            return None
        key = (run_id, fmt, desk.cache.key(state) + label_routes.grades_stamp(desk, run_id, state))
        with self._lock:
            return self._items.get(key)

    def get(self, desk: Desk, run_id: str, fmt: str) -> bytes:
        from civiclab.reporting.document import load_document
        from civiclab.reporting.render import render as render_report
        from civiclab.reporting.stored_plots import run_plots

        try:
            state = desk.cache.state(run_id)
        except TrackingError:
            raise StarletteHTTPException(404) from None
        # Members' grades sit beside the run, outside its state: a new grade is a new report.
        key = (run_id, fmt, desk.cache.key(state) + label_routes.grades_stamp(desk, run_id, state))
        with self._lock:
            hit = self._items.get(key)
        if hit is not None:
            return hit
        verification = desk.cache.verify(run_id, state)
        doc = load_document(desk.tracker, run_id, desk.cache.trust, verification=verification)
        # The plots signed with the run when it verifies (drawing them is most of a first view).
        data = render_report(doc, fmt, run_plots(desk.tracker, doc))
        with self._lock:
            if len(self._items) >= self.limit:
                self._items.pop(next(iter(self._items)))
            self._items[key] = data
        return data


class CompareCache:
    """Rendered comparisons per state of every run compared: its plots are most of a first view."""

    def __init__(self, limit: int = 32) -> None:
        self._items: dict[tuple[Any, ...], str] = {}
        self._lock = threading.Lock()
        self.limit = limit

    def get(self, desk: Desk, run_ids: list[str]) -> str:
        from civiclab.reporting.compare import compare_runs
        from civiclab.reporting.compare_html import render_compare_html

        try:
            key = tuple((r, desk.cache.key(desk.cache.state(r))) for r in run_ids)
            with self._lock:
                hit = self._items.get(key)
            if hit is not None:
                return hit
            html = render_compare_html(compare_runs(desk.tracker, run_ids=run_ids, experiment=None))[0]
        except TrackingError:
            raise StarletteHTTPException(404) from None
        with self._lock:
            if len(self._items) >= self.limit:
                self._items.pop(next(iter(self._items)))
            self._items[key] = html
        return html
