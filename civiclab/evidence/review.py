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
from civiclab.evidence.review_record import DECISIONS, REVIEW_EVENT, Review, pending_path, read_pending
from civiclab.evidence.review_state import RunState, check_envelope, read_state, review_statement
from civiclab.home import text_setting
from civiclab.store.schema import AUDIT_FILE, AUDIT_ROOT_TAG, MANIFEST_SHA256_TAG
from civiclab.store.tracker import Tracker

if TYPE_CHECKING:
    from civiclab.evidence.signing.envelope import Envelope
    from civiclab.evidence.signing.keys import Signer
    from civiclab.evidence.signing.trust import TrustFile

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
        sha256=payload.get("envelope_sha256"),
        anchor=payload.get("anchor"),
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
        {AUDIT_ROOT_TAG: summary.root, MANIFEST_SHA256_TAG: manifest_sha} | dict(wal["tags"]),
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
        wal = read_pending(wal_path)
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


def _append(tracker: Tracker, state: RunState, envelope: Envelope, trust: TrustFile | None) -> Review:
    """Append a checked signed review (the caller holds the run's lock)."""
    from civiclab.evidence.manifest import sha256_file
    from civiclab.evidence.verify.reviewcheck import read_reviews
    from civiclab.store.schema import (
        REVIEW_HEAD_TAG,
        REVIEW_STATUS_TAG,
        REVIEW_TRUST_TAG,
        REVIEWS_TAG,
        SCORECARD_FILE,
    )

    predicate = check_envelope(state, envelope, trust)
    from civiclab.evidence.review_anchor import anchor_review

    # Before anything is written: a review of a run anchored on a node is anchored, or not recorded.
    anchor = anchor_review(state.folder, state.run_id, envelope.digest())
    card = state.folder / SCORECARD_FILE
    event: dict[str, Any] = {
        "session_id": "",
        "seq": len(state.rows),
        "ts": predicate["ts"],
        "kind": REVIEW_EVENT,
        "actor": predicate.get("reviewer"),
        "payload": {
            "decision": predicate["decision"],
            "comment": predicate.get("comment"),
            **({"conditions": predicate["conditions"]} if predicate.get("conditions") else {}),
            "scorecard_sha256": sha256_file(card) if card.exists() else None,
            "previous_manifest_sha256": state.previous_manifest_sha256,
            "statement_sha256": state.subject,
            "keyid": (predicate.get("signer") or {}).get("keyid"),
            "envelope_sha256": envelope.digest(),
            "envelope": envelope.model_dump(by_alias=True),
            **({"anchor": anchor} if anchor else {}),
        },
    }
    landed = {"seq": state.events_before, "hash": "", "event": event}
    rows, status = read_reviews([*state.entries, landed], state.subject if state.signed_run else None, trust)
    tags = {
        REVIEWS_TAG: str(len(rows)),
        REVIEW_HEAD_TAG: envelope.digest(),
        REVIEW_STATUS_TAG: status.state,
        REVIEW_TRUST_TAG: trust.sha256 if trust is not None else "",
    }
    audit_path = state.folder / AUDIT_FILE
    wal_path = pending_path(tracker, state.run_id, state.local)
    wal_path.parent.mkdir(parents=True, exist_ok=True)
    wal = {
        "run_id": state.run_id,
        "event": event,
        "events_before": state.events_before,
        "bytes_before": audit_path.stat().st_size,
        "tags": tags,
    }
    _write_durably(wal_path, json.dumps(wal))
    _fault("review:after-wal")
    review = _commit(tracker, state.run_id, state.folder, state.local, wal)
    wal_path.unlink()
    return review


@contextlib.contextmanager
def _run_state(tracker: Tracker, run_id: str, trust: TrustFile | None) -> Iterator[RunState]:
    """The run's state under its lock, after completing any interrupted review."""
    recover_pending(tracker, run_id)
    local = tracker.local_artifact_dir(run_id)
    with tempfile.TemporaryDirectory(prefix="civiclab-review-") as tmp, _exclusive(local):
        # Read again under the lock: another review may just have landed.
        folder = local if local is not None else tracker.download(run_id, Path(tmp))
        yield read_state(tracker, run_id, folder, local, trust)


def _reviewer_signer(key: str, signer: Signer | None, trust: TrustFile | None) -> Signer:
    """The reviewer's key, refused when it may not sign a review (before anything is written)."""
    from civiclab.evidence.signing.keys import load_signer, reviewer_key_problem

    if signer is None:
        if not key:
            raise SpecError("review", "--key", "a review is signed: name the reviewer's key")
        problem = reviewer_key_problem(key, lab_keyids=trust.lab_keys() if trust is not None else ())
        if problem is not None:
            raise SpecError("review", "--key", problem)
        signer = load_signer(key)
    if trust is not None:
        problem = trust.reviewer_problem(signer.keyid)
        if problem is not None:
            raise SpecError("review", "--key", f"key {signer.name or key!r} may not review: {problem}")
    return signer


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
    acknowledges: list[str] | None = None,
    trust_path: str | Path | None = None,
) -> Review:
    """Sign a committee decision with the key `key` and append it to a run that verifies.

    Args:
        tracker: the store holding the run.
        run_id: the run reviewed.
        key: the reviewer's key name (under CIVICLAB_HOME); the trust file says whose it is.
        signer: the reviewer's key already opened (the desk opens it with the member's password).
        decision: approve, revise or reject.
        comment: free text; personal data in it is redacted before it is signed and recorded.
        conditions: what the decision requires, one item each (redacted, then signed as a field).
        acknowledges: conditions of earlier reviews this review accepts.
        now: the review's timestamp (ISO 8601, UTC); the current time by default.
        reviewer: the name signed with the decision; the key's name by default. Every surface shows
            the name the trust file gives the key instead, when it lists it.
        trust_path: the trust file (default CIVICLAB_TRUST): a key it does not list for a reviewing
            role is refused before anything is written; the status tag is computed under its rule.

    Raises:
        SpecError: a bad decision or reviewer, a key that does not exist or may not review.
        AuditError: the run's audit log, manifest, artifacts or reviews do not verify: nothing is written.
        TrackingError: the run does not exist.
    """
    trust = _trust(trust_path)
    if decision not in DECISIONS:
        raise SpecError("review", "decision", f"must be one of {', '.join(DECISIONS)}, not {decision!r}")
    signer = _reviewer_signer(key, signer, trust)
    shown = (reviewer if reviewer is not None else signer.name).strip()
    if not shown:
        raise SpecError("review", "reviewer", "a reviewer name is required")
    with _run_state(tracker, run_id, trust) as state:
        ts = now or _now()
        if state.rows and ts < state.rows[-1].ts:
            ts = state.rows[-1].ts  # a clock behind the last review's: never sign a time before it
        envelope = _sign(
            state,
            signer,
            decision=decision,
            comment=comment,
            conditions=conditions,
            acknowledges=acknowledges,
            reviewer=shown,
            ts=ts,
        )
        return _append(tracker, state, envelope, trust)


def sign_offline(
    tracker: Tracker,
    run_id: str,
    *,
    key: str,
    decision: str,
    comment: str = "",
    reviewer: str | None = None,
    conditions: list[str] | None = None,
    acknowledges: list[str] | None = None,
    trust_path: str | Path | None = None,
) -> Envelope:
    """A signed review of the run as it is now, written nowhere (`civiclab review --out`).

    The member's key never has to leave their machine: the desk (or `civiclab review --signed FILE`)
    appends the envelope later, if no other review landed meanwhile.
    """
    trust = _trust(trust_path)
    if decision not in DECISIONS:
        raise SpecError("review", "decision", f"must be one of {', '.join(DECISIONS)}, not {decision!r}")
    signer = _reviewer_signer(key, None, trust)
    local = tracker.local_artifact_dir(run_id)
    with tempfile.TemporaryDirectory(prefix="civiclab-review-") as tmp:
        folder = local if local is not None else tracker.download(run_id, Path(tmp))
        state = read_state(tracker, run_id, folder, local, trust)
        ts = max(_now(), state.rows[-1].ts) if state.rows else _now()
        return _sign(
            state,
            signer,
            decision=decision,
            comment=comment,
            conditions=conditions,
            acknowledges=acknowledges,
            reviewer=(reviewer or signer.name).strip(),
            ts=ts,
        )


def append_signed_review(
    tracker: Tracker, run_id: str, envelope: Envelope, *, trust_path: str | Path | None = None
) -> Review:
    """Append a review signed offline (its envelope), checked like one signed here.

    Raises:
        SpecError: the envelope is not a review of this run's current state, or its key may not review.
        AuditError: the run does not verify.
    """
    trust = _trust(trust_path)
    with _run_state(tracker, run_id, trust) as state:
        return _append(tracker, state, envelope, trust)


def _sign(state: RunState, signer: Signer, **fields: Any) -> Envelope:
    from civiclab.evidence.signing.envelope import sign_statement

    return sign_statement(review_statement(state, signer, **fields), signer)


def _trust(trust_path: str | Path | None) -> TrustFile | None:
    from civiclab.evidence.signing.trust import load_trust

    loaded = load_trust(trust_path)
    return loaded[0] if loaded else None
