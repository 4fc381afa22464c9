"""Committee reviews: a signed decision appended to the run's audit chain, manifest and tags.

A review is a DSSE envelope signed by the reviewer's key over an in-toto statement whose subject
is the run's signed statement; it is appended to the audit chain like any event, so it cannot be
altered without `civiclab verify` naming the line, nor forged without the reviewer's key.

Recording a review touches three places (audit log, manifest, tags). It is one atomic step: a
write-ahead record is stored first, next to the run's artifacts; a review interrupted at any
point is completed (or, if its audit log line never landed, rolled back) by `recover_pending`, which
`civiclab review`, `civiclab verify` and the desk's review call before anything else. Verifying
itself never writes. The event and manifest formats are in `civiclab.evidence.review_record`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from civiclab.errors import AuditError, SpecError
from civiclab.evidence.audit import AuditWriter, verify_audit_log
from civiclab.evidence.manifest import read_manifest, sha256_file, write_manifest
from civiclab.evidence.review_record import DECISIONS, REVIEW_EVENT, Review, pending_path
from civiclab.evidence.verify.manifestcheck import verify_manifest
from civiclab.home import text_setting
from civiclab.privacy.redaction import redact_text
from civiclab.store.schema import (
    AUDIT_FILE,
    AUDIT_ROOT_TAG,
    MANIFEST_SHA256_TAG,
    REVIEW_DECISION_TAG,
    REVIEW_REVIEWER_TAG,
    REVIEWS_TAG,
    SCORECARD_FILE,
)
from civiclab.store.tracker import Tracker

if TYPE_CHECKING:
    from civiclab.evidence.signing.keys import Signer

log = logging.getLogger(__name__)

FAULT_ENV = "CIVICLAB_FAULT_AT"  # tests only: SIGKILL this process at a named step


def _fault(point: str) -> None:
    """Die here, as a power cut would, when a test asks for it (CIVICLAB_FAULT_AT=point)."""
    if text_setting(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


@contextlib.contextmanager
def _exclusive(folder: Path | None) -> Iterator[None]:
    """Hold an exclusive lock on the run's audit.jsonl so that two reviews never interleave.

    The lock is taken on the audit log itself: a lock file in the artifact folder would be an artifact
    the manifest does not list. Stores whose artifacts are remote are not locked.
    """
    audit_file = folder / AUDIT_FILE if folder is not None else None
    if audit_file is None or not audit_file.exists():
        yield
        return
    import fcntl

    with audit_file.open("rb") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _write_durably(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _commit(tracker: Tracker, run_id: str, folder: Path, local: Path | None, wal: dict[str, Any]) -> Review:
    """Everything after the write-ahead record; each step can be redone after an interruption."""
    audit_path = folder / AUDIT_FILE
    event = wal["event"]
    summary = verify_audit_log(audit_path) if audit_path.exists() else None
    events_before = int(wal["events_before"])
    if summary is None or summary.events == events_before:
        with AuditWriter(audit_path, resume=True) as writer:
            writer.append(event)
        _fault("review:after-audit")
        summary = verify_audit_log(audit_path)
    if summary.events != events_before + 1:
        raise AuditError(
            f"audit.jsonl: {summary.events} events, the pending review expected {events_before + 1}"
        )
    from civiclab.evidence.audit import iter_audit_log

    last: dict[str, Any] | None = None
    for entry in iter_audit_log(audit_path):
        last = entry
    assert last is not None
    if last["event"] != event:
        raise AuditError("audit.jsonl: the last line is not the pending review")
    payload = event["payload"]
    review = Review(
        reviewer=event["actor"],
        decision=payload["decision"],
        comment=payload["comment"],
        conditions=list(payload.get("conditions") or []),
        ts=event["ts"],
        scorecard_sha256=payload.get("scorecard_sha256"),
        audit_seq=int(last["seq"]),
        hash=str(last["hash"]),
        keyid=payload.get("keyid"),
        statement_sha256=payload.get("statement_sha256"),
    )
    manifest = read_manifest(folder)
    manifest.audit_root = summary.root
    manifest.audit_events = summary.events
    manifest.artifacts[AUDIT_FILE] = sha256_file(audit_path)
    if not any(r.get("audit_seq") == review.audit_seq for r in manifest.reviews):
        manifest.reviews.append(review.model_dump(mode="json", exclude_none=True))
    manifest_sha = write_manifest(folder, manifest)
    _fault("review:after-manifest")
    if local is None:
        tracker.log_artifacts(run_id, folder)
    tracker.set_tags(
        run_id,
        {
            AUDIT_ROOT_TAG: summary.root,
            MANIFEST_SHA256_TAG: manifest_sha,
            REVIEWS_TAG: str(len(manifest.reviews)),
            REVIEW_DECISION_TAG: review.decision,
            REVIEW_REVIEWER_TAG: review.reviewer,
        },
    )
    _fault("review:after-tags")
    return review


def recover_pending(tracker: Tracker, run_id: str) -> str | None:
    """Complete or roll back a review that was interrupted; returns what was done, or None.

    An audit log line cut half-way (killed while writing it) is removed: the review is rolled back.
    A complete line is kept and the manifest and tags are brought up to it: the review is completed.

    Raises:
        TrackingError: the run does not exist.
        AuditError: a completed chain line is not the pending review.
    """
    tracker.get_run(run_id)  # a TrackingError naming the run when it does not exist
    local = tracker.local_artifact_dir(run_id)
    wal_path = pending_path(tracker, run_id, local)
    if not wal_path.exists():
        return None
    with tempfile.TemporaryDirectory(prefix="civiclab-review-") as tmp, _exclusive(local):
        # Read under the lock: a record seen before it may be a review in progress, finished and
        # removed by its writer by the time the lock is ours. Only a record still here is interrupted.
        if not wal_path.exists():
            return None
        wal = json.loads(wal_path.read_text(encoding="utf-8"))
        folder = local if local is not None else tracker.download(run_id, Path(tmp))
        audit_path = folder / AUDIT_FILE
        size = audit_path.stat().st_size
        done: str
        if size > int(wal["bytes_before"]) and not audit_path.read_bytes().endswith(b"\n"):
            with audit_path.open("r+b") as fh:
                fh.truncate(int(wal["bytes_before"]))
            done = "rolled back (its audit log line was cut)"
        elif size == int(wal["bytes_before"]):
            done = "rolled back (it had not reached the audit log)"
        else:
            _commit(tracker, run_id, folder, local, wal)
            done = "completed"
        wal_path.unlink()
    log.warning("run %s: an interrupted review was %s", run_id, done)
    return done


def add_review(
    tracker: Tracker,
    run_id: str,
    *,
    key: str = "",
    decision: str,
    comment: str = "",
    now: str | None = None,
    reviewer: str | None = None,
    signer: Signer | None = None,
    conditions: list[str] | None = None,
) -> Review:
    """Sign a committee decision with the key `key` and append it to a run that verifies.

    Args:
        tracker: the store holding the run.
        run_id: the run reviewed.
        key: the reviewer's key name (under CIVICLAB_HOME); the trust file says whose it is.
        conditions: what the decision requires, one item each (redacted, then signed as a field).
        signer: the reviewer's key already opened (the desk opens it with the member's password);
            used instead of loading `key`.
        decision: approve, revise or reject.
        comment: free text; personal data in it is redacted before it is signed and recorded.
        now: the review's timestamp (ISO 8601, UTC); the current time by default.
        reviewer: the name shown in reports (signed with the decision); the key's name by default.
            Who the key belongs to, and in which role, is what the trust file says.

    Raises:
        SpecError: a bad decision or reviewer, or the key does not exist.
        AuditError: the run's audit log, manifest or artifacts do not verify: nothing is written.
        TrackingError: the run does not exist.
    """
    from civiclab.evidence.signing.envelope import sign_statement
    from civiclab.evidence.signing.keys import load_signer
    from civiclab.evidence.signing.statement import STATEMENT_FILE, build_review_statement

    if decision not in DECISIONS:
        raise SpecError("review", "decision", f"must be one of {', '.join(DECISIONS)}, not {decision!r}")
    if signer is None:
        if not key:
            raise SpecError("review", "--key", "a review is signed: name the reviewer's key")
        signer = load_signer(key)
    shown = (reviewer if reviewer is not None else signer.name).strip()
    if not shown:
        raise SpecError("review", "reviewer", "a reviewer name is required")
    recover_pending(tracker, run_id)
    local = tracker.local_artifact_dir(run_id)
    with tempfile.TemporaryDirectory(prefix="civiclab-review-") as tmp, _exclusive(local):
        run = tracker.get_run(run_id)  # read again under the lock: another review may just have landed
        folder = local if local is not None else tracker.download(run_id, Path(tmp))
        checked = verify_manifest(folder, run.tags, run.run_id)
        if not checked.ok or checked.found is None:
            raise AuditError(f"run {run_id} does not verify, review refused: {checked.problem}")
        statement_file = folder / STATEMENT_FILE
        if statement_file.exists():
            from civiclab.evidence.signing.envelope import read_envelope
            from civiclab.store.files import read_artifact

            subject = read_envelope(read_artifact(folder, STATEMENT_FILE)).digest()
        else:  # a legacy run: the review points at its manifest
            subject = run.tags.get(MANIFEST_SHA256_TAG, "")
        manifest = read_manifest(folder)
        card = folder / SCORECARD_FILE
        clean_comment = redact_text(comment.strip())
        clean_conditions = [redact_text(c.strip()) for c in conditions or [] if c.strip()]
        ts = now or _now()
        envelope = sign_statement(
            build_review_statement(
                run_id=run_id,
                run_statement_sha256=subject,
                decision=decision,
                comment=clean_comment,
                ts=ts,
                reviewer=shown,
                signer_keyid=signer.keyid,
                signer_public_key=signer.public_key,
                conditions=clean_conditions,
            ),
            signer,
        )
        event: dict[str, Any] = {
            "session_id": "",
            "seq": len(manifest.reviews),
            "ts": ts,
            "kind": REVIEW_EVENT,
            "actor": shown,
            "payload": {
                "decision": decision,
                "comment": clean_comment,
                **({"conditions": clean_conditions} if clean_conditions else {}),
                "scorecard_sha256": sha256_file(card) if card.exists() else None,
                "previous_manifest_sha256": run.tags.get(MANIFEST_SHA256_TAG),
                "statement_sha256": subject,
                "keyid": signer.keyid,
                "envelope": envelope.model_dump(by_alias=True),
            },
        }
        audit_path = folder / AUDIT_FILE
        wal_path = pending_path(tracker, run_id, local)
        wal_path.parent.mkdir(parents=True, exist_ok=True)
        wal = {
            "run_id": run_id,
            "event": event,
            "events_before": checked.found.audit_events,
            "bytes_before": audit_path.stat().st_size,
        }
        _write_durably(wal_path, json.dumps(wal))
        _fault("review:after-wal")
        review = _commit(tracker, run_id, folder, local, wal)
        wal_path.unlink()
    return review
