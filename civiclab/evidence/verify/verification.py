"""`civiclab verify`: every check of a run, signed or legacy, as one table.

A signed run is compared against its signed statement and re-derived where it can be (sessions
from the audit log, metrics from the records, verdicts and recommendation from the signed metrics
and spec); a legacy run (made before runs were signed) is verified as before and reported
`unsigned (legacy)`, never as signed, and a run without a statement is legacy only if nothing shows
that a signing civiclab made it (`signing_era`); a killed run is reported as incomplete, with how
far its audit log is valid.

Verifying only reads: a review left half-recorded is named in the table, and completed by the
commands that write (`civiclab verify` and `civiclab review` call `recover_pending` first).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from civiclab.errors import AuditError, SigningError
from civiclab.evidence.manifest import MANIFEST, read_manifest
from civiclab.evidence.review_record import pending_path
from civiclab.evidence.signing.envelope import read_envelope
from civiclab.evidence.signing.statement import STATEMENT_FILE
from civiclab.evidence.signing.trust import TrustFile, load_trust
from civiclab.evidence.verify.anchorcheck import check_review_anchors, check_statement_anchor
from civiclab.evidence.verify.auditcheck import AuditProblem, check_audit_log, valid_prefix
from civiclab.evidence.verify.checks import (
    check_artifacts,
    check_manifest,
    check_metrics,
    check_params,
    check_planted,
    check_rerun,
    check_signature,
    check_store_run,
    check_tags,
    file_digests,
)
from civiclab.evidence.verify.manifestcheck import review_events, verify_manifest
from civiclab.evidence.verify.result import Check, Verification, failed, ok
from civiclab.evidence.verify.reviewcheck import check_reviews, read_reviews
from civiclab.evidence.verify.signing_era import why_signed
from civiclab.evidence.verify.verdictcheck import check_verdicts
from civiclab.plugins.gctune import gc_tuned
from civiclab.store.files import read_artifact
from civiclab.store.schema import (
    AUDIT_FILE,
    AUDIT_ROOT_TAG,
    ERROR_TAG,
    SESSIONS_FILE,
    SIGNER_TAG,
    STATEMENT_SHA256_TAG,
)
from civiclab.store.tracker import RunSummary, Tracker

PENDING_REVIEW = "pending review"
"""The row naming a review whose recording was interrupted (see `civiclab.evidence.review`)."""


def recovered_row(done: str) -> Check:
    """The row saying what completing an interrupted review did, for the command that completed it."""
    return Check(name=PENDING_REVIEW, status="warning", detail=f"an interrupted review was {done}")


def verify(tracker: Tracker, run_id: str, trust_path: str | Path | None = None) -> Verification:
    """Run every check on `run_id`; never raises on a mismatch (the table names it).

    Reads only: neither the store nor the run's artifacts are changed, even when a review's
    recording was interrupted (the table's first row then says so; `recover_pending` completes it).

    Raises:
        TrackingError: the run does not exist or its artifacts cannot be read.
        SpecError: the trust file is missing or invalid.
    """
    loaded = load_trust(trust_path)
    trust, trust_file = (loaded[0], str(loaded[1])) if loaded else (None, None)
    run = tracker.get_run(run_id)
    local = tracker.local_artifact_dir(run_id)
    with tempfile.TemporaryDirectory(prefix="civiclab-verify-") as tmp:
        folder = local if local is not None else tracker.download(run_id, Path(tmp))
        if (folder / STATEMENT_FILE).exists():
            with gc_tuned():  # every session is parsed and kept for the evaluators' re-run
                result = _verify_signed(folder, run, trust)
        elif not (folder / MANIFEST).exists() and STATEMENT_SHA256_TAG not in run.tags:
            result = _verify_killed(folder, run)
        else:
            result = _verify_legacy(folder, run, trust)
        _read_nature(folder, result)
    result.trust_file = trust_file
    if pending_path(tracker, run_id, local).exists():
        # Completing it writes to the run: left to `civiclab verify`, `civiclab review` and the desk's
        # review, which do so before verifying. Until then the checks see the run as it was left.
        result.checks.insert(
            0,
            Check(
                name=PENDING_REVIEW,
                status="warning",
                detail="a review is being recorded, or was interrupted: "
                "civiclab verify or civiclab review completes it",
            ),
        )
    return result


def _read_nature(folder: Path, result: Verification) -> None:
    """What the evidence is (synthetic or observed) and what it recommends, from its scorecard."""
    import json

    from civiclab.store.schema import SCORECARD_FILE

    if result.kind == "incomplete (killed)" or not result.evidence_ok:
        return  # nothing of an unverified run is stated as its nature
    try:
        card = json.loads(read_artifact(folder, SCORECARD_FILE))
    except (OSError, ValueError, AuditError):
        return
    if isinstance(card, dict):
        result.synthetic = [str(s) for s in card.get("synthetic") or []]
        result.recommendation = str(card.get("recommendation") or "") or None


def _verify_killed(folder: Path, run: RunSummary) -> Verification:
    result = Verification(run_id=run.run_id, kind="incomplete (killed)")
    planted = check_planted(folder)
    if planted.status == "failed":  # a killed run's files are read too: never through a link
        result.checks.append(planted)
        return result
    audit_file = folder / AUDIT_FILE
    if not audit_file.exists():
        result.checks.append(failed("run", "incomplete run (killed): no audit chain was written"))
        return result
    facts = valid_prefix(audit_file)
    sessions = folder / SESSIONS_FILE
    stored = sum(1 for line in sessions.open("rb") if line.strip()) if sessions.exists() else 0
    why = run.tags.get(ERROR_TAG, "its process ended before the run closed")
    result.checks.append(
        failed(
            "run",
            f"incomplete run (killed), audit log valid up to event {facts.valid_events} "
            f"({stored} sessions in sessions.jsonl): {why}",
        )
    )
    return result


def _verify_legacy(folder: Path, run: RunSummary, trust: TrustFile | None) -> Verification:
    """A run without a statement: legacy only if nothing shows a signing civiclab made it."""
    try:
        manifest = read_manifest(folder)
    except (AuditError, OSError):
        manifest = None
    signed = why_signed(folder, run.tags, manifest)
    if signed is not None:  # a signed run stripped of its statement is not a legacy run
        result = Verification(run_id=run.run_id, kind="signed")
        result.checks.append(failed("signature", f"{STATEMENT_FILE}: {signed}"))
        return result
    result = verify_manifest(folder, run.tags, run.run_id)
    if result.ok:
        # The manifest check matched its reviews with the audit log; who may count is the rule's.
        entries, _ = review_events(folder)
        result.reviews, result.committee = read_reviews(entries, None, trust)
    if trust is not None:
        signature = failed("signature", "unsigned (legacy): the trust file given requires signed runs")
    else:
        signature = Check(name="signature", status="warning", detail="unsigned (legacy)")
    result.checks.insert(0, signature)
    return result


def _verify_signed(folder: Path, run: RunSummary, trust: TrustFile | None) -> Verification:
    result = Verification(run_id=run.run_id, kind="signed")
    try:
        envelope = read_envelope(read_artifact(folder, STATEMENT_FILE))
        statement = envelope.statement()
    except (SigningError, AuditError, OSError) as exc:
        result.checks.append(failed("signature", f"{STATEMENT_FILE}: {exc}"))
        return result
    digest = envelope.digest()
    result.statement_sha256 = digest
    row, result.signer, result.trusted = check_signature(envelope, run.run_id, trust)
    result.checks.append(row)
    predicate: dict[str, Any] = statement.get("predicate") or {}
    audit = predicate.get("audit") or {}
    planted = check_planted(folder)
    if planted.status == "failed":  # nothing planted is read: a link may lead to a key or /dev/zero
        result.checks.append(planted)
        return result
    digests = file_digests(folder)
    result.checks.append(check_artifacts(folder, statement, digests))

    sessions: list[dict[str, Any]] = []
    audit_row, sessions_row, facts = _audit_rows(folder, audit, sessions)
    result.checks += [audit_row, sessions_row]

    derived = {
        STATEMENT_SHA256_TAG: digest,
        SIGNER_TAG: envelope.signatures[0].keyid,
    }
    if facts is not None:
        derived[AUDIT_ROOT_TAG] = facts.root
    result.checks.append(check_store_run(run, statement))
    result.checks.append(check_metrics(run.metrics, statement))
    result.checks.append(check_params(run.params, statement))
    result.checks.append(check_tags(run.tags, statement, derived))
    # The parsed sessions when the audit log's pass kept them all (a small run); else the re-run streams
    # sessions.jsonl, which the pass has just found equal to the audit log.
    complete = sessions_row.status == "ok" and facts is not None and len(sessions) == facts.closed
    result.checks.append(check_rerun(folder, statement, sessions if complete else None))
    result.checks.append(check_verdicts(folder, statement, digests))

    manifest_row, manifest = check_manifest(
        folder / MANIFEST, run.tags, digests, facts.root if facts else None, facts.events if facts else 0
    )
    result.checks.append(manifest_row)
    if facts is not None:
        review_row, result.reviews, result.committee = check_reviews(
            facts.reviews,
            digest,
            trust,
            manifest_reviews=manifest.reviews if manifest is not None else None,
            tags=run.tags,
        )
        result.checks.append(review_row)
    else:
        result.checks.append(
            Check(name="reviews", status="skipped", detail="the audit chain does not verify")
        )
    result.checks.append(
        check_statement_anchor(
            digest, statement, trust.anchoring if trust else None, manifest.anchor if manifest else None
        )
    )
    if trust is not None and trust.anchoring is not None and facts is not None:
        result.checks.append(check_review_anchors(result.reviews, run.run_id, trust.anchoring))
    return result


def _audit_rows(folder: Path, audit: dict[str, Any], keep: list[dict[str, Any]]) -> tuple[Check, Check, Any]:
    events = int(audit.get("events", 0))
    audit_file = folder / AUDIT_FILE
    sessions = folder / SESSIONS_FILE
    if not audit_file.exists():
        return failed("audit chain", "audit.jsonl: missing"), Check(name="sessions", status="skipped"), None
    try:
        facts = check_audit_log(audit_file, sessions if sessions.exists() else None, events, keep)
        sessions_row = (
            ok("sessions", f"sessions.jsonl re-derived from the audit log: {facts.closed} sessions equal")
            if sessions.exists()
            else failed("sessions", "sessions.jsonl: missing")
        )
    except AuditProblem as exc:
        if not str(exc).startswith(SESSIONS_FILE):
            return (
                failed("audit chain", str(exc)),
                Check(name="sessions", status="skipped", detail="audit log does not verify"),
                None,
            )
        sessions_row = failed("sessions", str(exc))
        try:
            facts = check_audit_log(audit_file, None, events)
        except AuditProblem as exc2:
            return failed("audit chain", str(exc2)), sessions_row, None
    if facts.run_root != audit.get("root"):
        return (
            failed("audit chain", f"audit.jsonl: root at event {events} differs from the signed root"),
            sessions_row,
            None,
        )
    expected = int(audit.get("sessions", -1))
    if not facts.opened == facts.closed == expected:
        return (
            failed(
                "audit chain", f"sessions opened {facts.opened}, closed {facts.closed}, signed {expected}"
            ),
            sessions_row,
            None,
        )
    detail = f"{facts.events} events ({events} signed, closed by run.close), {facts.closed} sessions opened and closed"
    return ok("audit chain", detail), sessions_row, facts
