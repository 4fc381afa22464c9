"""Reviews recorded from the desk: signed here with the member's own key (opened with the password just
typed), or signed offline and uploaded.

The review is made by `civiclab.evidence.review.add_review`, the very function `civiclab review` calls,
so the desk's review is the same signed statement, appended to the audit log under the same lock.
The desk signs only with a key its trust file lists in the committee: a review it cannot attribute
to a member of the committee is not made at all. An
uploaded one (`civiclab review RUN --key K --decision D --out review.json`) is appended by
`append_signed_review`, checked as `civiclab review --signed FILE` checks it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from civiclab.desk.accounts import User
from civiclab.desk.auth import SigningLimiter
from civiclab.errors import CivicLabError, SigningError, SpecError
from civiclab.evidence.review import DECISIONS, Review, add_review, append_signed_review
from civiclab.store.tracker import Tracker

if TYPE_CHECKING:
    from civiclab.evidence.signing.keys import Signer

NO_TRUST = "the desk has no trust file: reviews cannot be attributed"
WRONG_PASSWORD = "wrong password"

MAX_UPLOAD = 1024 * 1024
"""The largest signed review the desk accepts (a review is a few kilobytes)."""


class ReviewRefused(Exception):
    """A review the desk did not sign, with the reason to show the member."""


class TooManyAttempts(ReviewRefused):
    """Too many wrong passwords lately: the key is not tried before `wait_s` seconds."""

    def __init__(self, wait_s: float) -> None:
        self.wait_s = max(1, math.ceil(wait_s))
        super().__init__(f"too many wrong passwords: try again in {self.wait_s} seconds")


def committee_key_problem(key_name: str, trust: Path | None) -> str | None:
    """Why the desk may not sign with this key, or None: it must be a reviewer's key of the committee."""
    from civiclab.evidence.signing.keys import key_info, reviewer_key_problem
    from civiclab.evidence.signing.trust import load_trust

    if trust is None:
        return NO_TRUST
    loaded = load_trust(trust)
    if loaded is None:
        return NO_TRUST
    trust_file = loaded[0]
    info = key_info(key_name)
    problem = reviewer_key_problem(info, lab_keyids=trust_file.lab_keys())
    if problem:
        return problem
    if trust_file.member(info.keyid) is None:
        return f"key {key_name!r} is not in the committee of the desk's trust file ({trust})"
    return None


def open_member_key(
    user: User,
    password: str,
    *,
    trust: Path | None,
    limiter: SigningLimiter | None = None,
    session_id: str = "",
    what: str = "reviews",
) -> Signer:
    """The member's committee key, opened with the password just typed (reviews and grades alike).

    Raises:
        TooManyAttempts: too many wrong passwords in the limiter's window.
        ReviewRefused: not a member, no key linked, no trust file or a key it does not list in the
            committee, or a wrong password.
    """
    if not user.may_sign:
        raise ReviewRefused(f"only committee members sign {what}")
    if not user.key_name:
        raise ReviewRefused("no signing key is linked to this account: ask the desk's secretary to link one")
    from civiclab.evidence.signing.keys import load_signer

    try:
        problem = committee_key_problem(user.key_name, trust)
    except CivicLabError as exc:
        raise ReviewRefused(str(exc)) from None
    if problem:
        raise ReviewRefused(problem)
    if limiter is not None:
        wait = limiter.blocked(user.name, session_id)
        if wait > 0:
            raise TooManyAttempts(wait)
    try:
        # The key is opened with the password in memory: it never passes through the environment.
        return load_signer(user.key_name, passphrase=password)
    except SigningError:
        if limiter is not None:
            limiter.failed(user.name, session_id)
        raise ReviewRefused(WRONG_PASSWORD) from None
    except CivicLabError as exc:
        raise ReviewRefused(str(exc)) from None


def sign_review(
    tracker: Tracker,
    run_id: str,
    user: User,
    password: str,
    decision: str,
    comment: str,
    conditions: str = "",
    *,
    trust: Path | None,
    limiter: SigningLimiter | None = None,
    session_id: str = "",
) -> Review:
    """Sign and append a member's review; refused for anyone but a member, or with a wrong password.

    Args:
        trust: the desk's trust file; the member's key must be in its committee.
        limiter: counts wrong passwords per session (`session_id`) and per member; past its limit
            the key is not tried.

    Raises:
        TooManyAttempts: too many wrong passwords in the limiter's window.
        ReviewRefused: not a member, no key linked, a bad decision, no trust file or a key it does
            not list in the committee, a wrong password, or the run does not verify (nothing is
            written then: `add_review` checks the run under its lock first).
    """
    if decision not in DECISIONS and user.may_sign and user.key_name:
        raise ReviewRefused(f"decision must be one of {', '.join(DECISIONS)}")
    signer = open_member_key(user, password, trust=trust, limiter=limiter, session_id=session_id)
    try:
        return add_review(
            tracker,
            run_id,
            signer=signer,
            reviewer=user.name,
            decision=decision,
            comment=comment.strip(),
            conditions=conditions.splitlines(),  # one per line in the form; signed as their own field
            trust_path=trust,  # the status tag is the desk's decision rule's outcome
        )
    except (SpecError, CivicLabError) as exc:
        raise ReviewRefused(str(exc)) from None


def append_uploaded(tracker: Tracker, run_id: str, data: bytes, trust: Path | None) -> Review:
    """Append a review signed offline (the uploaded file's bytes), under the desk's trust file.

    Raises:
        ReviewRefused: not a signed review, too large, signed for another run or state of the run, a
            key the trust file does not let review, or a run that does not verify (nothing is written).
    """
    from civiclab.evidence.signing.envelope import read_envelope

    if len(data) > MAX_UPLOAD:
        raise ReviewRefused("the file is larger than 1 MB: not a signed review")
    try:
        envelope = read_envelope(data)
    except SigningError as exc:
        raise ReviewRefused(_one_line(str(exc))) from None
    try:
        return append_signed_review(tracker, run_id, envelope, trust_path=trust)
    except SpecError as exc:
        raise ReviewRefused(_one_line(exc.problem)) from None
    except CivicLabError as exc:
        raise ReviewRefused(_one_line(str(exc))) from None


def _one_line(text: str) -> str:
    return text.splitlines()[0] if text else "refused"
