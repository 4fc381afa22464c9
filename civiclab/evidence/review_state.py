"""What a committee review is signed over and appended after: the run's state under its lock (its
signed statement, the reviews already in sequence), the statement a reviewer signs, and the checks a
signed review passes before it is appended (whether signed here or offline)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from civiclab.errors import AuditError, SpecError
from civiclab.evidence.review_record import DECISIONS
from civiclab.store.schema import MANIFEST_SHA256_TAG
from civiclab.store.tracker import Tracker

if TYPE_CHECKING:
    from civiclab.evidence.signing.envelope import Envelope
    from civiclab.evidence.signing.keys import Signer
    from civiclab.evidence.signing.trust import TrustFile
    from civiclab.evidence.verify.result import ReviewRow


@dataclasses.dataclass
class RunState:
    """What a review is signed over and appended after, read under the run's lock."""

    run_id: str
    folder: Path
    local: Path | None
    subject: str
    signed_run: bool
    rows: list[ReviewRow]
    entries: list[dict[str, Any]]
    events_before: int
    previous_manifest_sha256: str | None


def read_state(
    tracker: Tracker, run_id: str, folder: Path, local: Path | None, trust: TrustFile | None
) -> RunState:
    from civiclab.evidence.signing.envelope import read_envelope
    from civiclab.evidence.signing.statement import STATEMENT_FILE
    from civiclab.evidence.verify.manifestcheck import review_events, verify_manifest
    from civiclab.evidence.verify.reviewcheck import read_reviews
    from civiclab.store.files import read_artifact

    run = tracker.get_run(run_id)
    checked = verify_manifest(folder, run.tags, run.run_id)
    if not checked.ok or checked.found is None:
        raise AuditError(f"run {run_id} does not verify, review refused: {checked.problem}")
    signed_run = (folder / STATEMENT_FILE).exists()
    if signed_run:
        subject = read_envelope(read_artifact(folder, STATEMENT_FILE)).digest()
    else:  # a legacy run: the review points at its manifest
        subject = run.tags.get(MANIFEST_SHA256_TAG, "")
    entries, _ = review_events(folder)
    rows, _ = read_reviews(entries, subject if signed_run else None, trust)
    broken = next((r for r in rows if r.problem), None)
    if broken is not None:
        raise AuditError(f"run {run_id}: audit.jsonl line {broken.line}: {broken.problem}: review refused")
    return RunState(
        run_id=run_id,
        folder=folder,
        local=local,
        subject=subject,
        signed_run=signed_run,
        rows=rows,
        entries=entries,
        events_before=checked.found.audit_events,
        previous_manifest_sha256=run.tags.get(MANIFEST_SHA256_TAG),
    )


def review_statement(
    state: RunState,
    signer: Signer,
    *,
    decision: str,
    comment: str,
    conditions: list[str] | None,
    acknowledges: list[str] | None,
    reviewer: str,
    ts: str,
) -> dict[str, Any]:
    from civiclab.evidence.signing.statement import build_review_statement
    from civiclab.privacy.redaction import redact_text

    return build_review_statement(
        run_id=state.run_id,
        run_statement_sha256=state.subject,
        decision=decision,
        comment=redact_text(comment.strip()),
        ts=ts,
        reviewer=reviewer,
        signer_keyid=signer.keyid,
        signer_public_key=signer.public_key,
        conditions=[redact_text(c.strip()) for c in conditions or [] if c.strip()],
        sequence=len(state.rows),
        previous_review_sha256=state.rows[-1].sha256 if state.rows else None,
        acknowledges=[c for c in acknowledges or [] if c.strip()],
    )


def check_envelope(state: RunState, envelope: Envelope, trust: TrustFile | None) -> dict[str, Any]:
    """The predicate of a signed review that may be appended now; else a one-line refusal."""
    from civiclab.errors import SigningError
    from civiclab.evidence.signing.envelope import verify_signature
    from civiclab.evidence.signing.statement import REVIEW_PREDICATE_TYPE, subjects_of
    from civiclab.evidence.verify.checks import embedded_key

    try:
        statement = envelope.statement()
    except SigningError as exc:
        raise SpecError("review", "envelope", str(exc).splitlines()[0]) from None
    predicate: dict[str, Any] = statement.get("predicate") or {}
    if statement.get("predicateType") != REVIEW_PREDICATE_TYPE:
        raise SpecError("review", "envelope", "not a civiclab review")
    if predicate.get("run_id") != state.run_id or state.subject not in subjects_of(statement).values():
        raise SpecError(
            "review", "envelope", f"signed for another run or statement than run {state.run_id}'s"
        )
    if predicate.get("decision") not in DECISIONS:
        raise SpecError("review", "decision", f"must be one of {', '.join(DECISIONS)}")
    previous = state.rows[-1].sha256 if state.rows else None
    if predicate.get("sequence") != len(state.rows) or predicate.get("previous_review_sha256") != previous:
        raise SpecError(
            "review",
            "envelope",
            f"signed as review {int(predicate.get('sequence') or 0) + 1}, the run now has {len(state.rows)}: "
            "another review landed since it was signed; sign it again",
        )
    if any(r.sha256 == envelope.digest() for r in state.rows):
        raise SpecError("review", "envelope", "this signed review is already recorded")
    ts = str(predicate.get("ts") or "")
    if state.rows and ts < state.rows[-1].ts:
        raise SpecError("review", "ts", f"{ts} is before the last review ({state.rows[-1].ts})")
    keyid = verify_signature(envelope, embedded_key(statement))
    if keyid is None:
        raise SpecError("review", "envelope", "no signature verifies")
    if trust is not None:
        problem = trust.reviewer_problem(keyid)
        if problem is not None:
            raise SpecError("review", "--key", f"key {keyid[:16]}… may not review: {problem}")
    return predicate
