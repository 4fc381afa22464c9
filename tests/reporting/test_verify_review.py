"""Reviews are appended to the audit chain; tampering after a review is detected."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from civiclab.errors import AuditError
from civiclab.evidence.review import add_review
from civiclab.evidence.verify.manifestcheck import verify_run_manifest
from civiclab.store.tracker import Tracker

from .conftest import REVIEW_KEY

pytestmark = pytest.mark.slow  # whole experiments: left out of `make test-fast`


def test_fresh_run_verifies(run_toy: Callable[..., Any], store: str) -> None:
    result = run_toy()
    report = verify_run_manifest(Tracker(store), result.run_id)
    assert report.ok and report.problem is None
    assert report.found.audit_root == result.audit_root == report.found.run_audit_root
    assert report.found.reviews == 0 and report.found.anchor == "none"
    assert report.table().startswith(f"NOT CHECKED: run {result.run_id}")  # no trust file given


def test_review_is_chained_and_verifies(run_toy: Callable[..., Any], store: str) -> None:
    result = run_toy()
    tracker = Tracker(store)
    review = add_review(
        tracker,
        result.run_id,
        key=REVIEW_KEY,
        reviewer="Dr Martin",
        decision="revise",
        comment="Check the rural gap; call me at 06 12 34 56 78",
        now="2026-11-25T17:00:00Z",
    )
    assert review.comment == "Check the rural gap; call me at [PHONE]"
    report = verify_run_manifest(tracker, result.run_id)
    assert report.ok, report.problem
    assert report.found.reviews == 1
    assert report.found.audit_root != result.audit_root
    assert report.found.run_audit_root == result.audit_root  # what an anchor holds is unchanged
    run = tracker.get_run(result.run_id)
    assert run.tags["civiclab.audit_root"] == report.found.audit_root
    # The tags cache the signed sequence: its head, and the status under no trust file (not checked).
    assert run.tags["civiclab.review.head"] == review.sha256
    assert (run.tags["civiclab.review.status"], run.tags["civiclab.review.trust_sha256"]) == (
        "not checked",
        "",
    )
    folder = tracker.local_artifact_dir(result.run_id)
    assert folder is not None
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["reviews"][0]["reviewer"] == "Dr Martin"
    assert manifest["reviews"][0]["audit_seq"] == report.found.audit_events - 1
    add_review(tracker, result.run_id, key=REVIEW_KEY, reviewer="Pr Durand", decision="approve", comment="ok")
    assert verify_run_manifest(tracker, result.run_id).found.reviews == 2


def _reviewed(run_toy: Callable[..., Any], store: str) -> tuple[Tracker, str, Any]:
    result = run_toy()
    tracker = Tracker(store)
    add_review(
        tracker,
        result.run_id,
        key=REVIEW_KEY,
        reviewer="Dr Martin",
        decision="reject",
        comment="too many abandon",
    )
    folder = tracker.local_artifact_dir(result.run_id)
    return tracker, result.run_id, folder


def test_editing_the_review_line_is_detected(run_toy: Callable[..., Any], store: str) -> None:
    tracker, run_id, folder = _reviewed(run_toy, store)
    lines = (folder / "audit.jsonl").read_text().splitlines()
    lines[-1] = lines[-1].replace('"reject"', '"approve"')
    (folder / "audit.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(AuditError, match=rf"audit.jsonl: line {len(lines)}: hash does not match"):
        verify_run_manifest(tracker, run_id)


def test_removing_the_review_is_detected(run_toy: Callable[..., Any], store: str) -> None:
    tracker, run_id, folder = _reviewed(run_toy, store)
    lines = (folder / "audit.jsonl").read_text().splitlines()
    (folder / "audit.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    report = verify_run_manifest(tracker, run_id, strict=False)
    assert not report.ok and "audit.jsonl: root" in (report.problem or "")


def test_rewriting_the_manifest_review_is_detected(run_toy: Callable[..., Any], store: str) -> None:
    tracker, run_id, folder = _reviewed(run_toy, store)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["reviews"][0]["decision"] = "approve"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    report = verify_run_manifest(tracker, run_id, strict=False)
    assert report.problem == "manifest.json: content does not match the digest recorded in the run's tags"


def test_review_of_a_tampered_run_is_refused(run_toy: Callable[..., Any], store: str) -> None:
    result = run_toy()
    tracker = Tracker(store)
    folder = tracker.local_artifact_dir(result.run_id)
    assert folder is not None
    metrics = folder / "metrics.json"
    metrics.write_text(metrics.read_text().replace("completion_rate", "completion_ratE", 1))
    before = (folder / "audit.jsonl").read_bytes()
    with pytest.raises(AuditError, match="review refused: metrics.json: sha256 does not match"):
        add_review(tracker, result.run_id, key=REVIEW_KEY, reviewer="X", decision="approve")
    assert (folder / "audit.jsonl").read_bytes() == before  # nothing written


def test_concurrent_reviews_do_not_interleave(run_toy: Callable[..., Any], store: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    result = run_toy()
    tracker = Tracker(store)

    def review(i: int) -> int:
        return add_review(
            Tracker(store), result.run_id, key=REVIEW_KEY, reviewer=f"member {i}", decision="approve"
        ).audit_seq

    with ThreadPoolExecutor(max_workers=3) as pool:
        seqs = sorted(pool.map(review, range(3)))
    report = verify_run_manifest(tracker, result.run_id)
    assert report.ok and report.found.reviews == 3
    assert seqs == [
        report.found.audit_events - 3,
        report.found.audit_events - 2,
        report.found.audit_events - 1,
    ]


def test_review_of_an_unknown_run(store: str) -> None:
    from civiclab.errors import TrackingError

    with pytest.raises(TrackingError, match="no run 'nope'"):
        add_review(Tracker(store), "nope", key=REVIEW_KEY, reviewer="X", decision="approve")


def test_a_review_in_progress_is_not_taken_for_an_interrupted_one(
    run_toy: Callable[..., Any], store: str
) -> None:
    """A second review that sees the first one's write-ahead record waits for the lock; by then the
    first review has landed and removed its record, so nothing is "recovered" a second time."""
    import threading

    from civiclab.evidence.review import _exclusive, recover_pending
    from civiclab.evidence.review_record import pending_path

    result = run_toy()
    tracker = Tracker(store)
    local = tracker.local_artifact_dir(result.run_id)
    wal = pending_path(tracker, result.run_id, local)
    wal.parent.mkdir(parents=True, exist_ok=True)
    outcome: list[str | None] = []
    with _exclusive(local):  # the first review, holding the chain's lock with its record written
        wal.write_text(json.dumps({"event": {}, "events_before": 0, "bytes_before": 0}))
        second = threading.Thread(target=lambda: outcome.append(recover_pending(tracker, result.run_id)))
        second.start()
        second.join(timeout=0.5)
        assert second.is_alive()  # waiting for the lock, having seen the record
        wal.unlink()  # the first review commits and removes its record, then releases the lock
    second.join(timeout=30)
    assert outcome == [None]
    assert verify_run_manifest(tracker, result.run_id).ok


def test_conditions_are_signed_shown_and_checked_against_the_chain(
    run_toy: Callable[..., Any], store: str
) -> None:
    from civiclab.evidence.signing.envelope import read_envelope
    from civiclab.evidence.signing.statement import STATEMENT_FILE
    from civiclab.evidence.verify.reviewcheck import _read as _review_row
    from civiclab.reporting.document import load_document
    from civiclab.reporting.render import render

    result = run_toy()
    tracker = Tracker(store)
    review = add_review(
        tracker,
        result.run_id,
        key=REVIEW_KEY,
        reviewer="Dr Martin",
        decision="approve",
        comment="good enough",
        conditions=["keep the counter open", "  ", "call 06 12 34 56 78 for the rural test"],
    )
    assert review.conditions == ["keep the counter open", "call [PHONE] for the rural test"]
    assert verify_run_manifest(tracker, result.run_id).ok
    markdown = render(load_document(tracker, result.run_id), "md").decode()
    assert "| APPROVE | good enough | keep the counter open; call [PHONE] for the rural test |" in markdown

    folder = tracker.local_artifact_dir(result.run_id)
    assert folder is not None
    entry = json.loads((folder / "audit.jsonl").read_text().splitlines()[-1])
    digest = read_envelope((folder / STATEMENT_FILE).read_bytes()).digest()
    assert not _review_row(entry, digest, None).problem
    entry["event"]["payload"]["conditions"] = ["keep the counter open"]  # a condition dropped
    assert (
        _review_row(entry, digest, None).problem
        == "conditions in the audit log differs from the signed review"
    )
