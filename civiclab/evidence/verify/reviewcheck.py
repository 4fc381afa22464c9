"""Checking the committee's signed reviews appended to a run's audit chain."""

from __future__ import annotations

from typing import Any

from civiclab.errors import SigningError
from civiclab.evidence.signing.envelope import Envelope, verify_signature
from civiclab.evidence.signing.statement import REVIEW_PREDICATE_TYPE, subjects_of
from civiclab.evidence.signing.trust import TrustFile
from civiclab.evidence.verify.checks import embedded_key
from civiclab.evidence.verify.result import Check, ReviewRow, failed, ok


def _review_row(entry: dict[str, Any], statement_digest: str, trust: TrustFile | None) -> ReviewRow:
    event = entry["event"]
    payload = event.get("payload") or {}
    row = ReviewRow(
        line=int(entry["seq"]) + 1,
        decision=str(payload.get("decision")),
        ts=str(event.get("ts")),
        signer=str(event.get("actor")),
    )
    raw = payload.get("envelope")
    if raw is None:
        row.problem = "unsigned review (written before reviews were signed)"
        return row
    try:
        envelope = Envelope.model_validate(raw)
        statement = envelope.statement()
    except (ValueError, SigningError) as exc:
        row.problem = f"not a signed review: {str(exc).splitlines()[0]}"
        return row
    predicate = statement.get("predicate") or {}
    if statement.get("predicateType") != REVIEW_PREDICATE_TYPE:
        row.problem = "the envelope is not a civiclab review"
        return row
    if statement_digest not in subjects_of(statement).values():
        row.problem = "the review is for another statement than this run's"
        return row
    for key in ("decision", "comment", "conditions", "ts"):
        signed_value = predicate.get(key)
        shown = payload.get(key) if key != "ts" else event.get("ts")
        if signed_value != shown:
            row.problem = f"{key} in the audit log differs from the signed review"
            return row
    if trust is not None:
        keyid = verify_signature(envelope, trust.member_keys())
        if keyid is not None:
            member = trust.member(keyid)
            assert member is not None
            row.signer, row.role, row.keyid, row.trusted = member.name, member.role, keyid, True
            return row
    keyid = verify_signature(envelope, embedded_key(statement))
    if keyid is None:
        row.problem = "no signature verifies (altered or forged)"
        return row
    row.keyid = keyid
    row.signer = f"{predicate.get('reviewer')} (key {keyid[:16]}…)"
    if trust is not None:
        row.trusted = False
        row.problem = "signed by a key the trust file does not list as a committee member: untrusted"
    return row


def check_reviews(
    entries: list[dict[str, Any]],
    statement_digest: str,
    trust: TrustFile | None,
    recorded: dict[str, int],
) -> tuple[Check, list[ReviewRow]]:
    """Every review signed, for this run's statement, by a trusted member; none removed.

    Args:
        entries: the review lines of the audit log, after the run closed.
        statement_digest: the run statement's digest, which each review must reference.
        trust: the trust file, or None (signers are then shown, not checked).
        recorded: how many reviews other records of the run count (manifest, store tag); fewer
            in the audit log than any of them means a review was cut from the audit log.
    """
    name = "reviews"
    rows = [_review_row(e, statement_digest, trust) for e in entries]
    for where, count in recorded.items():
        if count > len(rows):
            return failed(
                name, f"{where} records {count} reviews, the audit chain holds {len(rows)}: removed"
            ), rows
    bad = next((r for r in rows if r.problem), None)
    if bad is not None:
        return failed(name, f"audit.jsonl: line {bad.line}: {bad.problem}"), rows
    if not rows:
        return ok(name, "no review yet"), rows
    untrusted = "" if trust is not None else "; signers not checked: no trust file"
    return ok(name, f"{len(rows)} signed review(s){untrusted}"), rows
