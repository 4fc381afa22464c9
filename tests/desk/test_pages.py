"""What the pages read: the store's SQL reads equal MLflow's, and the verification cache follows the run."""

from __future__ import annotations

import time

import pytest

from civiclab.desk.pages import VerifyCache, run_rows
from civiclab.store.tracker import Tracker
from tests.desk.conftest import DeskStore


@pytest.mark.slow
def test_fast_reads_equal_mlflow(desk_store: DeskStore) -> None:
    tracker, mlflow_only = Tracker(desk_store.uri), Tracker(desk_store.uri, fast_reads=False)
    assert tracker.sql is not None and mlflow_only.sql is None
    for run_id in desk_store.runs:
        assert tracker.get_run(run_id) == mlflow_only.get_run(run_id)
    assert tracker.list_runs() == mlflow_only.list_runs()  # same runs, same order (newest first)
    assert tracker.list_runs(max_results=2) == mlflow_only.list_runs(max_results=2)
    heads = {h.run_id: h for h in tracker.list_run_heads(["civiclab.recommendation"])}
    assert set(desk_store.runs) <= set(heads)
    full = tracker.get_run(desk_store.runs[0])
    head = heads[desk_store.runs[0]]
    assert head.tags["civiclab.recommendation"] == full.tags["civiclab.recommendation"]
    assert (head.start_time, head.artifact_uri, head.experiment) == (
        full.start_time,
        full.artifact_uri,
        full.experiment,
    )


@pytest.mark.slow
def test_background_worker_fills_statuses_and_a_review_invalidates_them(desk_store: DeskStore) -> None:
    from civiclab.desk.accounts import AccountStore
    from civiclab.desk.reviewing import sign_review
    from tests.desk.conftest import PASSWORDS

    tracker = Tracker(desk_store.uri)
    cache = VerifyCache(tracker, desk_store.trust, background=True)
    try:
        run = desk_store.runs[1]
        rows, names = run_rows(tracker, cache)
        assert names and {r.run_id: r.verify for r in rows}[run] == "unchecked"
        deadline = time.monotonic() + 240
        while {r.run_id: r.verify for r in run_rows(tracker, cache)[0]}[run] == "unchecked":
            assert time.monotonic() < deadline, "the background worker never verified the run"
            time.sleep(0.5)
        row = {r.run_id: r for r in run_rows(tracker, cache)[0]}[run]
        assert row.verify == "trusted"
        user = AccountStore(desk_store.db).get("carol")
        assert user is not None
        sign_review(tracker, run, user, PASSWORDS["carol"], "reject", "not yet", trust=desk_store.trust)
        after = {r.run_id: r for r in run_rows(tracker, cache)[0]}[run]
        # Re-checked, never shown stale: the committee's state is verify's, and unknown until then.
        assert (after.verify, after.review, after.committee) == ("unchecked", "unchecked", {})
        while (row := {r.run_id: r for r in run_rows(tracker, cache)[0]}[run]).review == "unchecked":
            assert time.monotonic() < deadline, "the background worker never verified the reviewed run"
            time.sleep(0.5)
        from civiclab.evidence.verify.verification import verify

        expected = verify(tracker, run, desk_store.trust)
        assert expected.committee is not None and expected.reviews[-1].decision == "reject"
        assert row.review == expected.committee.state
        assert row.committee == {"en": expected.committee.words("en"), "fr": expected.committee.words("fr")}
        assert run in {r.run_id for r in run_rows(tracker, cache, review=expected.committee.state)[0]}
    finally:
        cache.close()
