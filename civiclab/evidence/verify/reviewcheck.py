"""Checking the committee's signed reviews appended to a run's audit chain, and every copy of them.

Reviews form a signed sequence: each signs the run statement's digest, its position and the previous
review's digest, so a review dropped from the middle, moved or replayed breaks the chain. What any
surface shows of a review (decision, reviewer, comment, conditions) comes from its verified envelope;
the audit event's unsigned fields, the manifest's list and the store's tags are copies compared with
it field by field. Which reviews then count is `civiclab.evidence.verify.committee.decide`.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from civiclab.errors import SigningError
from civiclab.evidence.signing.envelope import Envelope, verify_signature
from civiclab.evidence.signing.statement import REVIEW_PREDICATE_TYPE, subjects_of
from civiclab.evidence.signing.trust import TrustFile
from civiclab.evidence.verify.checks import embedded_key
from civiclab.evidence.verify.committee import decide
from civiclab.evidence.verify.result import Check, CommitteeStatus, ReviewRow, failed, ok
from civiclab.store.schema import REVIEW_HEAD_TAG, REVIEW_STATUS_TAG, REVIEW_TRUST_TAG, REVIEWS_TAG

# Fields a manifest entry copies from the signed review, and the row field each is compared with.
_MANIFEST_FIELDS = {
    "reviewer": "reviewer",
    "decision": "decision",
    "comment": "comment",
    "conditions": "conditions",
    "ts": "ts",
    "keyid": "keyid",
}


def _read(
    entry: dict[str, Any],
    statement_digest: str | None,
    trust: TrustFile | None,
    previous: list[str | None] | None = None,
) -> ReviewRow:
    """One audit line as a review row, every shown field from the verified envelope.

    `previous`, when given, receives the digest of the review this one signs as the one before it
    (None when it signs none, or its envelope cannot be read), for the sequence check.
    """
    link: list[str | None] = [None]
    try:
        return _read_row(entry, statement_digest, trust, link)
    finally:
        if previous is not None:
            previous.append(link[0])


def _read_row(
    entry: dict[str, Any], statement_digest: str | None, trust: TrustFile | None, link: list[str | None]
) -> ReviewRow:
    event = entry["event"]
    payload = event.get("payload") or {}
    row = ReviewRow(line=int(entry["seq"]) + 1, decision=str(payload.get("decision")), ts="", signer="?")
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
    predicate: dict[str, Any] = statement.get("predicate") or {}
    link[0] = predicate.get("previous_review_sha256")
    if statement.get("predicateType") != REVIEW_PREDICATE_TYPE:
        row.problem = "the envelope is not a civiclab review"
        return row
    row.sha256 = envelope.digest()
    row.decision = str(predicate.get("decision"))
    row.ts = str(predicate.get("ts"))
    row.reviewer = str(predicate.get("reviewer") or "")
    row.comment = str(predicate.get("comment") or "")
    row.conditions = [str(c) for c in predicate.get("conditions") or []]
    row.acknowledges = [str(c) for c in predicate.get("acknowledges") or []]
    sequence = predicate.get("sequence")
    row.sequence = int(sequence) if isinstance(sequence, int) else None
    if statement_digest is not None and statement_digest not in subjects_of(statement).values():
        row.problem = "the review is for another statement than this run's"
        return row
    shown = {
        "decision": payload.get("decision"),
        "comment": payload.get("comment"),
        "conditions": payload.get("conditions"),
        "ts": event.get("ts"),
        "reviewer": event.get("actor"),
    }
    for key, value in shown.items():
        if predicate.get(key) != value:
            row.problem = f"{key} in the audit log differs from the signed review"
            return row
    if trust is not None:
        keyid = verify_signature(envelope, trust.member_keys())
        member = trust.member(keyid) if keyid is not None else None
        if member is not None and keyid is not None:
            row.signer, row.role, row.keyid, row.trusted = member.name, member.role, keyid, True
            return row
    keyid = verify_signature(envelope, embedded_key(statement))
    if keyid is None:
        row.problem = "no signature verifies (altered or forged)"
        return row
    row.keyid = keyid
    row.signer = f"{predicate.get('reviewer')} (key {keyid[:16]}…)"
    row.trusted = False if trust is not None else None
    return row


def _sequence_problem(rows: list[ReviewRow], links: list[str | None]) -> None:
    """Name, on the first row out of place, a review dropped, moved, replayed or back-dated."""
    seen: dict[str, int] = {}
    chained = False
    for i, (row, link) in enumerate(zip(rows, links, strict=True)):
        if row.problem:
            return
        if row.sha256 in seen:
            row.problem = f"the same signed review as line {seen[row.sha256]}: replayed"
            return
        seen[row.sha256] = row.line
        if row.sequence is None:
            if chained:
                row.problem = "an unchained review after chained ones: replayed from elsewhere"
                return
            continue
        chained = True
        previous = rows[i - 1].sha256 if i else None
        if row.sequence != i or link != previous:
            row.problem = (
                f"signed as review {row.sequence + 1} after another review than the one before it: "
                "a review was dropped, moved or replayed"
            )
            return
        if i and row.ts < rows[i - 1].ts:
            row.problem = f"signed at {row.ts}, before the review before it ({rows[i - 1].ts})"
            return


def read_reviews(
    entries: list[dict[str, Any]], statement_digest: str | None, trust: TrustFile | None
) -> tuple[list[ReviewRow], CommitteeStatus]:
    """The reviews of the audit log as rows, checked as a sequence, and the committee's status.

    Args:
        statement_digest: the run statement's digest each review must name; None for a run made
            before runs were signed (its reviews name the manifest as it was when each was signed).
    """
    previous: list[str | None] = []
    rows = [_read(e, statement_digest, trust, previous) for e in entries]
    _sequence_problem(rows, previous)
    return rows, decide(rows, trust)


def _copies_problem(
    rows: list[ReviewRow],
    manifest_reviews: list[dict[str, Any]] | None,
    tags: dict[str, str],
    status: CommitteeStatus,
    trust: TrustFile | None,
) -> str | None:
    """The first copy of the reviews (manifest entries, store tags) that differs from the signed ones."""
    held = len(rows)
    if manifest_reviews is not None:
        if len(manifest_reviews) != held:
            gone = ": a review was removed" if len(manifest_reviews) > held else ""
            return (
                f"manifest.json lists {len(manifest_reviews)} review(s), the audit chain holds {held}{gone}"
            )
        for i, (listed, row) in enumerate(zip(manifest_reviews, rows, strict=True)):
            for key, attr in _MANIFEST_FIELDS.items():
                value = listed.get(key, [] if key == "conditions" else None)
                if key == "keyid" and value is None:
                    continue  # entries written before key ids were listed
                if value != getattr(row, attr):
                    return (
                        f"manifest.json: reviews[{i}].{key} differs from the signed review (line {row.line})"
                    )
            if listed.get("audit_seq") != row.line - 1:
                return f"manifest.json: reviews[{i}] does not point at audit.jsonl line {row.line}"
    count = tags.get(REVIEWS_TAG, "0") or "0"
    if count != str(held):
        gone = ": a review was removed" if count.isdigit() and int(count) > held else ""
        return f"tag {REVIEWS_TAG} says {count}, the audit chain holds {held}{gone}"
    chained = bool(rows) and rows[-1].sequence is not None
    if (chained or not rows) and tags.get(REVIEW_HEAD_TAG, "") != (rows[-1].sha256 if rows else ""):
        return f"tag {REVIEW_HEAD_TAG} is not the last signed review's digest"
    if REVIEW_STATUS_TAG not in tags:
        return None
    written_with = tags.get(REVIEW_TRUST_TAG, "")
    if written_with == "":
        expected = decide([r.model_copy() for r in rows], None).state
    elif trust is not None and written_with == trust.sha256:
        expected = status.state
    else:
        return None  # computed with another trust file: not comparable (the row says so)
    if tags[REVIEW_STATUS_TAG] != expected:
        return (
            f"tag {REVIEW_STATUS_TAG} says {tags[REVIEW_STATUS_TAG]!r}, the signed reviews give {expected!r}"
        )
    return None


def check_reviews(
    entries: list[dict[str, Any]],
    statement_digest: str | None,
    trust: TrustFile | None,
    *,
    manifest_reviews: list[dict[str, Any]] | None,
    tags: dict[str, str],
) -> tuple[Check, list[ReviewRow], CommitteeStatus]:
    """The "reviews" row: every review a sound link of the signed sequence, every copy equal to it.

    Args:
        entries: the review lines of the audit log, after the run closed.
        statement_digest: the run statement's digest, which each review must reference.
        trust: the trust file, or None (signers are then shown, not checked).
        manifest_reviews: the manifest's review list (None when the manifest could not be read).
        tags: the run's tags in the store.

    An untrusted review is not a failure: it is listed, ignored, and the row says so.
    """
    name = "reviews"
    rows, status = read_reviews(entries, statement_digest, trust)
    bad = next((r for r in rows if r.problem), None)
    if bad is not None:
        return failed(name, f"audit.jsonl: line {bad.line}: {bad.problem}"), rows, status
    problem = _copies_problem(rows, manifest_reviews, tags, status, trust)
    if problem is not None:
        return failed(name, problem), rows, status
    if not rows:
        return ok(name, "no review yet"), rows, status
    detail = f"{len(rows)} signed review(s) in sequence"
    written_with = tags.get(REVIEW_TRUST_TAG, "")
    if written_with and (trust is None or written_with != trust.sha256):
        detail += (
            f"; the status tag was computed with another trust file ({written_with[:12]}…): not compared"
        )
    if trust is None:
        detail += "; signers not checked: no trust file"
    else:
        reasons = Counter(_reason(r.ignored) for r in rows if not r.counted)
        detail += f": {status.counted} counted"
        detail += "".join(f", {n} {why}, ignored" for why, n in sorted(reasons.items()))
    return ok(name, detail), rows, status


def _reason(ignored: str) -> str:
    if ignored.startswith("untrusted"):
        return "untrusted"
    return "superseded" if "superseded" in ignored else "not by a reviewing member"
