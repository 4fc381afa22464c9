"""Verification of a finished run: audit chain, artifact digests, tags, committee reviews and anchor.

The manifest's own consistency (its tag, the chain, the files, the reviews it lists): what runs made
before signing rely on, and what `civiclab review` checks before appending. `civiclab verify RUN_ID`
runs `civiclab.evidence.verify.verification.verify`, which checks signed runs against their signed statement
and uses this module for legacy runs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from civiclab.errors import AuditError, ChainError, CivicLabError
from civiclab.evidence.anchoring import check_anchor, describe_anchor
from civiclab.evidence.audit import GENESIS, iter_chain
from civiclab.evidence.manifest import Manifest, verify_folder
from civiclab.store.schema import AUDIT_FILE, STATEMENT_FILE
from civiclab.store.tracker import Tracker

REVIEW_EVENT = "review"

AnchorStatus = Literal["none", "verified", "unchecked", "failed"]


class VerifyReport(BaseModel):
    """What `civiclab verify` found: ok, or the first thing that does not match."""

    run_id: str
    ok: bool
    problem: str | None = None
    experiment: str | None = None
    spec_digest: str | None = None
    audit_root: str | None = None
    run_audit_root: str | None = Field(
        default=None, description="the chain's root when the run closed, before any review was appended"
    )
    audit_events: int = 0
    artifacts: int = 0
    reviews: int = 0
    anchor: AnchorStatus = "none"
    anchor_detail: str = ""
    checked: list[str] = Field(default_factory=list)

    def summary(self) -> str:
        """A few lines for the terminal; the first says OK or names the mismatch."""
        if not self.ok:
            return f"FAILED: run {self.run_id}: {self.problem}"
        lines = [f"OK: run {self.run_id} verifies ({self.experiment})"]
        lines.append(f"  audit chain: {self.audit_events} events, root {self.audit_root}")
        lines.append(f"  artifacts: {self.artifacts} files match the manifest")
        lines.append(f"  spec sha256: {self.spec_digest}")
        lines.append(f"  reviews: {self.reviews} recorded in the chain and the manifest")
        anchor = {
            "none": "not anchored",
            "verified": f"verified {self.anchor_detail}".strip(),
            "unchecked": f"anchor NOT checked: {self.anchor_detail}",
            "failed": f"anchor FAILED: {self.anchor_detail}",
        }[self.anchor]
        lines.append(f"  anchor: {anchor}")
        return "\n".join(lines)


def review_events(folder: Path) -> tuple[list[dict[str, Any]], str]:
    """The review entries of a (verified) chain, and the chain's root before the first review.

    Returns:
        (entries, run_root): each entry is the chain line (`seq`, `hash`, `event`); `run_root` is the
        root the run closed with, which is what an on-chain anchor holds.
    """
    entries: list[dict[str, Any]] = []
    prev = GENESIS
    run_root: str | None = None
    for entry in iter_chain(folder / AUDIT_FILE):
        event = entry.get("event") or {}
        if event.get("kind") == REVIEW_EVENT:
            if run_root is None:
                run_root = prev
            entries.append(entry)
        elif entries:
            raise AuditError(f"audit.jsonl: line {entry['seq'] + 1}: a run event after a committee review")
        prev = entry["hash"]
    return entries, run_root if run_root is not None else prev


def check_reviews(folder: Path, manifest: Manifest) -> tuple[int, str]:
    """Reviews in the manifest and review events in the chain must be the same, in the same order."""
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


def verify_folder_report(folder: Path, tags: dict[str, str], run_id: str) -> VerifyReport:
    """Verify a run's artifact folder against its tags; never raises on a mismatch."""
    report = VerifyReport(run_id=run_id, ok=False)
    try:
        manifest, chain = verify_folder(folder, tags)
        report.checked += ["manifest digest", "spec digest", "audit chain", "artifact digests"]
        report.experiment = manifest.experiment
        report.spec_digest = manifest.spec_digest
        report.audit_root = chain.root
        report.audit_events = chain.events
        report.artifacts = len(manifest.artifacts)
        if manifest.audit_events != chain.events:
            raise AuditError(
                f"audit.jsonl: {chain.events} lines but the manifest records {manifest.audit_events}"
            )
        report.reviews, report.run_audit_root = check_reviews(folder, manifest)
        report.checked.append("reviews")
    except AuditError as exc:
        report.problem = str(exc)
        return report
    if manifest.anchor:
        # A signed run anchors its statement's digest, an older run its audit root.
        statement = folder / STATEMENT_FILE
        anchored = report.run_audit_root or ""
        if statement.exists() and manifest.anchor.get("anchors") == "statement":
            from civiclab.evidence.signing.envelope import read_envelope
            from civiclab.store.files import read_artifact

            anchored = read_envelope(read_artifact(folder, statement.name)).digest()
        report.anchor, report.anchor_detail = _check_anchor(manifest.anchor, anchored)
        report.checked.append("anchor")
        if report.anchor == "failed":
            report.problem = f"anchor: {report.anchor_detail}"
            return report
    report.ok = True
    return report


def verify_run(tracker: Tracker, run_id: str, *, strict: bool = True) -> VerifyReport:
    """Recompute a run's audit chain, artifact digests, reviews and anchor.

    Args:
        tracker: the MLflow store holding the run.
        run_id: the run to verify.
        strict: raise `AuditError` naming the first mismatch (the default, for the CLI: exit 1);
            with False, return a report whose `ok` is False and `problem` names it.

    Raises:
        TrackingError: the run does not exist or its artifacts cannot be read.
        AuditError: (strict only) something does not match.
    """
    run = tracker.get_run(run_id)
    with tempfile.TemporaryDirectory(prefix="civiclab-verify-") as tmp:
        folder = tracker.download(run_id, Path(tmp))
        report = verify_folder_report(folder, run.tags, run.run_id)
    if strict and not report.ok:
        raise AuditError(f"run {run_id}: {report.problem}")
    return report
