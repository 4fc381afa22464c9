"""Committee reviews: a decision appended to the run's audit chain, manifest and tags.

A review is an event of the audit chain like any other, so it cannot be altered or removed without
`civiclab verify` naming the line; the manifest lists it and the run's tags carry the new root.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from civiclab.audit import AuditWriter
from civiclab.errors import AuditError, SpecError
from civiclab.manifest import read_manifest, sha256_file, write_manifest
from civiclab.redaction import redact_text
from civiclab.tracking import Tracker
from civiclab.verify import REVIEW_EVENT, verify_folder_report

Decision = Literal["approve", "revise", "reject"]
DECISIONS: tuple[str, ...] = ("approve", "revise", "reject")


class Review(BaseModel):
    """One committee decision as the manifest lists it and the scorecard shows it."""

    model_config = ConfigDict(extra="forbid")

    reviewer: str = Field(min_length=1)
    decision: Decision
    comment: str = ""
    ts: str
    scorecard_sha256: str | None = None
    audit_seq: int
    hash: str


@contextlib.contextmanager
def _exclusive(folder: Path | None) -> Iterator[None]:
    """Hold an exclusive lock on the run's audit.jsonl so that two reviews never interleave.

    The lock is taken on the chain file itself: a lock file in the artifact folder would be an artifact
    the manifest does not list. Stores whose artifacts are remote are not locked.
    """
    chain = folder / "audit.jsonl" if folder is not None else None
    if chain is None or not chain.exists():
        yield
        return
    import fcntl

    with chain.open("rb") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def add_review(
    tracker: Tracker,
    run_id: str,
    *,
    reviewer: str,
    decision: str,
    comment: str = "",
    now: str | None = None,
) -> Review:
    """Append a committee decision to a run that verifies; refuse one that does not.

    Args:
        tracker: the store holding the run.
        run_id: the run reviewed.
        reviewer: who decides (a name or a committee role); recorded as the event's actor.
        decision: approve, revise or reject.
        comment: free text; personal data in it is redacted before it is recorded.
        now: the review's timestamp (ISO 8601, UTC); the current time by default.

    Raises:
        SpecError: a bad reviewer or decision.
        AuditError: the run's chain, manifest or artifacts do not verify: nothing is written.
        TrackingError: the run does not exist.
    """
    reviewer = reviewer.strip()
    if not reviewer:
        raise SpecError("review", "reviewer", "a reviewer name is required")
    if decision not in DECISIONS:
        raise SpecError("review", "decision", f"must be one of {', '.join(DECISIONS)}, not {decision!r}")
    tracker.get_run(run_id)  # a TrackingError naming the run when it does not exist
    local = tracker.local_artifact_dir(run_id)
    with tempfile.TemporaryDirectory(prefix="civiclab-review-") as tmp, _exclusive(local):
        run = tracker.get_run(run_id)  # read again under the lock: another review may just have landed
        folder = local if local is not None else tracker.download(run_id, Path(tmp))
        report = verify_folder_report(folder, run.tags, run.run_id)
        if not report.ok:
            raise AuditError(f"run {run_id} does not verify, review refused: {report.problem}")
        manifest = read_manifest(folder)
        card = folder / "scorecard.json"
        clean_comment = redact_text(comment.strip())
        ts = now or _now()
        card_sha = sha256_file(card) if card.exists() else None
        event: dict[str, Any] = {
            "session_id": "",
            "seq": len(manifest.reviews),
            "ts": ts,
            "kind": REVIEW_EVENT,
            "actor": reviewer,
            "payload": {
                "decision": decision,
                "comment": clean_comment,
                "scorecard_sha256": card_sha,
                "previous_manifest_sha256": run.tags.get("civiclab.manifest_sha256"),
            },
        }
        with AuditWriter(folder / "audit.jsonl", resume=True) as writer:
            digest = writer.append(event)
            seq, root, events = writer.seq - 1, writer.root, writer.seq
        review = Review(
            reviewer=reviewer,
            decision=decision,  # type: ignore[arg-type]
            comment=clean_comment,
            ts=ts,
            scorecard_sha256=card_sha,
            audit_seq=seq,
            hash=digest,
        )
        manifest.audit_root = root
        manifest.audit_events = events
        manifest.artifacts["audit.jsonl"] = sha256_file(folder / "audit.jsonl")
        manifest.reviews.append(review.model_dump(mode="json"))
        manifest_sha = write_manifest(folder, manifest)
        if local is None:
            tracker.log_artifacts(run_id, folder)
        tracker.set_tags(
            run_id,
            {
                "civiclab.audit_root": root,
                "civiclab.manifest_sha256": manifest_sha,
                "civiclab.reviews": str(len(manifest.reviews)),
                "civiclab.review.decision": decision,
                "civiclab.review.reviewer": reviewer,
            },
        )
    return review


def reviews_of(manifest_reviews: list[dict[str, object]]) -> list[Review]:
    """The manifest's review entries as models (entries that do not parse are left out)."""
    out: list[Review] = []
    for entry in manifest_reviews:
        try:
            out.append(Review.model_validate(entry))
        except ValueError:
            continue
    return out
