"""Reviews recorded from the desk: signed here with the member's own key (opened with the password just
typed), or signed offline and uploaded.

The review is made by `civiclab.evidence.review.add_review`, the very function `civiclab review` calls,
so the desk's review is the same signed statement, appended to the audit log under the same lock. An
uploaded one (`civiclab review RUN --key K --decision D --out review.json`) is appended by
`append_signed_review`, checked as `civiclab review --signed FILE` checks it.
"""

from __future__ import annotations

from pathlib import Path

from civiclab.desk.accounts import User
from civiclab.errors import CivicLabError, SigningError, SpecError
from civiclab.evidence.review import DECISIONS, Review, add_review, append_signed_review
from civiclab.store.tracker import Tracker

MAX_UPLOAD = 1024 * 1024
"""The largest signed review the desk accepts (a review is a few kilobytes)."""


class ReviewRefused(Exception):
    """A review the desk did not sign, with the reason to show the member."""


def sign_review(
    tracker: Tracker,
    run_id: str,
    user: User,
    password: str,
    decision: str,
    comment: str,
    conditions: str = "",
) -> Review:
    """Sign and append a member's review; refused for anyone but a member, or with a wrong password.

    Raises:
        ReviewRefused: not a member, a bad decision, a wrong password, or the run does not verify
            (nothing is written then: `add_review` checks the run under its lock first).
    """
    if not user.may_sign or not user.key_name:
        raise ReviewRefused("only committee members sign reviews")
    if decision not in DECISIONS:
        raise ReviewRefused(f"decision must be one of {', '.join(DECISIONS)}")
    from civiclab.evidence.signing.keys import load_signer

    try:
        # The key is opened with the password in memory: it never passes through the environment.
        signer = load_signer(user.key_name, passphrase=password)
        return add_review(
            tracker,
            run_id,
            signer=signer,
            reviewer=user.name,
            decision=decision,
            comment=comment.strip(),
            conditions=conditions.splitlines(),  # one per line in the form; signed as their own field
        )
    except SigningError:
        raise ReviewRefused("wrong password") from None
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
