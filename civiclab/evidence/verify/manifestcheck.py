"""The manifest's own consistency: its tag, the audit chain, the files, the reviews it lists, the anchor.

What runs made before signing rely on (`civiclab verify` shows it as the "legacy checks" row of such
a run), what `civiclab review` checks before appending, and what a report states as the run's
integrity. Signed runs are checked against their signed statement by
`civiclab.evidence.verify.verification.verify`. Read-only: nothing here writes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from civiclab.errors import AuditError, ChainError, CivicLabError
from civiclab.evidence.anchoring import check_anchor, describe_anchor
from civiclab.evidence.audit import GENESIS, iter_audit_log
from civiclab.evidence.manifest import Manifest, verify_folder
from civiclab.evidence.review_record import REVIEW_EVENT
from civiclab.evidence.signing.statement import STATEMENT_FILE
from civiclab.evidence.verify.result import AnchorStatus, FolderFacts, RunKind, Verification, failed, ok
from civiclab.store.tracker import Tracker

LEGACY_CHECKS = "legacy checks"
"""The row naming these checks: the whole of what verified a run before runs were signed."""


def review_events(folder: Path) -> tuple[list[dict[str, Any]], str]:
    """The review entries of a (verified) audit log, and the audit log's root before the first review.

    Returns:
        (entries, run_root): each entry is the audit log line (`seq`, `hash`, `event`); `run_root` is the
        root the run closed with, which is what an on-chain anchor holds.
    """
    entries: list[dict[str, Any]] = []
    prev = GENESIS
    run_root: str | None = None
    for entry in iter_audit_log(folder / "audit.jsonl"):
        event = entry.get("event") or {}
        if event.get("kind") == REVIEW_EVENT:
            if run_root is None:
                run_root = prev
            entries.append(entry)
        elif entries:
            raise AuditError(f"audit.jsonl: line {entry['seq'] + 1}: a run event after a committee review")
        prev = entry["hash"]
    return entries, run_root if run_root is not None else prev


def match_listed_reviews(folder: Path, manifest: Manifest) -> tuple[int, str]:
    """Reviews in the manifest and review events in the audit log must be the same, in the same order.

    Returns:
        (reviews, run_root): how many, and the audit log's root before the first of them.
    """
    entries, run_root = review_events(folder)
    listed = manifest.reviews
    for i, entry in enumerate(entries):
        line = entry["seq"] + 1
        if i >= len(listed):
            raise AuditError(f"audit.jsonl: line {line}: review not listed in the manifest")
        review = listed[i]
        if review.get("audit_seq") != entry["seq"] or review.get("hash") != entry["hash"]:
            raise AuditError(f"manifest.json: reviews[{i}]: does not point at audit.jsonl line {line}")
        event = entry["event"]
        payload = event.get("payload") or {}
        expected = {
            "reviewer": event.get("actor"),
            "decision": payload.get("decision"),
            "comment": payload.get("comment"),
            "ts": event.get("ts"),
            "scorecard_sha256": payload.get("scorecard_sha256"),
        }
        for key, value in expected.items():
            if review.get(key) != value:
                raise AuditError(f"manifest.json: reviews[{i}].{key}: differs from audit.jsonl line {line}")
    if len(listed) > len(entries):
        raise AuditError(f"manifest.json: reviews[{len(entries)}]: not found in audit.jsonl")
    return len(entries), run_root


def _check_anchor(anchor: dict[str, Any], root: str) -> tuple[AnchorStatus, str]:
    try:
        check_anchor(anchor, root)
    except (
        ChainError
    ) as exc:  # the node cannot be reached, or the chain is gone: nothing is proven either way
        return "unchecked", str(exc)
    except CivicLabError as exc:
        return "failed", str(exc)
    return "verified", describe_anchor(anchor)


def _facts(folder: Path, tags: dict[str, str], found: FolderFacts) -> str | None:
    """Fill `found` from the folder; the first mismatch, or None."""
    try:
        manifest, audit = verify_folder(folder, tags)
        found.experiment = manifest.experiment
        found.spec_digest = manifest.spec_digest
        found.audit_root = audit.root
        found.audit_events = audit.events
        found.artifacts = len(manifest.artifacts)
        if manifest.audit_events != audit.events:
            raise AuditError(
                f"audit.jsonl: {audit.events} lines but the manifest records {manifest.audit_events}"
            )
        found.reviews, found.run_audit_root = match_listed_reviews(folder, manifest)
    except AuditError as exc:
        return str(exc)
    if manifest.anchor:
        # A signed run anchors its statement's digest, an older run its audit root.
        statement = folder / STATEMENT_FILE
        anchored = found.run_audit_root or ""
        if statement.exists() and manifest.anchor.get("anchors") == "statement":
            from civiclab.evidence.signing.envelope import read_envelope
            from civiclab.store.files import read_artifact

            anchored = read_envelope(read_artifact(folder, statement.name)).digest()
        found.anchor, found.anchor_detail = _check_anchor(manifest.anchor, anchored)
        if found.anchor == "failed":
            return f"anchor: {found.anchor_detail}"
    return None


def verify_manifest(folder: Path | None, tags: dict[str, str], run_id: str) -> Verification:
    """Verify a run's artifact folder against its tags; never raises on a mismatch.

    Args:
        folder: the run's artifacts, or None when it has none.

    Returns:
        One "legacy checks" row, and what was read (`found`) for reports.
    """
    if folder is None:
        return Verification(
            run_id=run_id, kind="incomplete (killed)", checks=[failed("run", "the run has no artifacts")]
        )
    kind: RunKind = "signed" if (folder / STATEMENT_FILE).exists() else "unsigned (legacy)"
    found = FolderFacts()
    problem = _facts(folder, tags, found)
    if problem is None:
        row = ok(LEGACY_CHECKS, ";".join(found.lines()))
    else:
        row = failed(LEGACY_CHECKS, problem or "does not verify")
    return Verification(run_id=run_id, kind=kind, checks=[row], found=found)


def verify_run_manifest(tracker: Tracker, run_id: str, *, strict: bool = True) -> Verification:
    """Recompute a stored run's audit chain, artifact digests, reviews and anchor (`verify_manifest`).

    Args:
        tracker: the MLflow store holding the run.
        run_id: the run to verify.
        strict: raise `AuditError` naming the first mismatch; with False, return a verification
            whose `ok` is False and `problem` names it.

    Raises:
        TrackingError: the run does not exist or its artifacts cannot be read.
        AuditError: (strict only) something does not match.
    """
    run = tracker.get_run(run_id)
    with tempfile.TemporaryDirectory(prefix="civiclab-verify-") as tmp:
        folder = tracker.download(run_id, Path(tmp))
        result = verify_manifest(folder, run.tags, run.run_id)
    if strict and not result.ok:
        raise AuditError(f"run {run_id}: {result.problem}")
    return result
