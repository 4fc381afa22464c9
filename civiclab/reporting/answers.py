"""The two answers every surface gives about a run, worded once: is its evidence intact, and what has the
committee decided. Both are read from `civiclab verify`'s `Verification` and from nothing else (never the
manifest's copy of the reviews, the store's tags or the audit log's unsigned fields).

The reports (Markdown, HTML, PDF), the desk and the scorecard's committee table call these functions, so
they say the same thing as `civiclab verify --json` (`evidence_ok`, `committee`).
"""

from __future__ import annotations

from typing import Any

from civiclab.evidence.verify.result import REVIEW_CHECKS, Check, ReviewRow, Verification
from civiclab.scoring.dimensions import CountedReview

NOT_READ = "skipped"
"""The committee state surfaces show when verify read no review: the evidence it would rest on fails."""

NOT_READ_WORDS = {  # what surfaces say of the committee then
    "en": "reviews not read: the evidence they rest on does not verify",
    "fr": "avis non lus : les preuves sur lesquelles ils reposent ne se vérifient pas",
}


def evidence_failure(v: Verification) -> Check | None:
    """The first failed check about the evidence (the reviews' own rows answer the other question)."""
    return next((c for c in v.checks if c.status == "failed" and c.name not in REVIEW_CHECKS), None)


def evidence_words(v: Verification) -> str:
    """ "intact", or "DOES NOT VERIFY — <first failed row>"."""
    failure = evidence_failure(v)
    if failure is None:
        return "intact"
    return f"DOES NOT VERIFY — {failure.name}: {failure.detail}"


def evidence_detail(v: Verification) -> str:
    """Who signed an intact run and whether a trust file vouches for them; a warning when it does not verify."""
    if not v.evidence_ok:
        return "Do not rely on this scorecard."
    if v.kind == "unsigned (legacy)":
        return "unsigned (legacy) run: its manifest, audit log and tags agree"
    if v.trusted:
        return f"signed by {v.signer}, trusted by {v.trust_file}; every check of civiclab verify passes"
    return f"signed by {v.signer}, signer not checked (no trust file); every other check passes"


def committee_state(v: Verification) -> str:
    """The decision rule's state, or `NOT_READ` when verify read no review."""
    return v.committee.state if v.committee is not None else NOT_READ


def committee_words(v: Verification, lang: str = "en") -> str:
    """The committee's one-sentence status in English or French (`CommitteeStatus.words`)."""
    if v.committee is None:
        return NOT_READ_WORDS["fr" if lang == "fr" else "en"]
    return v.committee.words(lang)


def reviews_problem(v: Verification) -> str | None:
    """Why the record of reviews does not verify (a copy differs, a link is broken), or None."""
    failed = next((c for c in v.checks if c.status == "failed" and c.name in REVIEW_CHECKS), None)
    return failed.detail if failed is not None else None


def shown_signer(row: ReviewRow) -> str:
    """Who signed a review, as reports show it: the trust file's name, never a name a stranger signed.

    A key the trust file does not list is shown by its id only: the name signed with it is the
    signer's own claim (anyone can sign "Dr Martin").
    """
    if row.trusted is False:
        return f"key {row.keyid[:16]}… (not in the trust file)"
    if row.trusted is None and row.keyid:
        return f"{row.signer}, not checked (no trust file)"
    return row.signer


def counted_words(row: ReviewRow) -> str:
    """ "counted", or "ignored: <why>" (the broken record's reason, the decision rule's, or no trust file)."""
    if row.counted:
        return "counted"
    return f"ignored: {row.problem or row.ignored or 'no trust file, signers not checked'}"


def review_entries(v: Verification) -> list[dict[str, Any]]:
    """The scorecard's committee table: one entry per signed review, in the order they were signed."""
    return [
        {
            "line": r.line,
            "ts": r.ts,
            "signer": shown_signer(r),
            "role": r.role,
            "decision": r.decision,
            "comment": r.comment,
            "conditions": list(r.conditions),
            "counted": r.counted,
            "status": counted_words(r),
        }
        for r in v.reviews
    ]


def counted_reviews(v: Verification) -> list[CountedReview]:
    """The reviews the decision rule counts, with the trust file's names: what scoring weighs."""
    return [CountedReview(name=r.signer, role=r.role, decision=r.decision) for r in v.reviews if r.counted]
