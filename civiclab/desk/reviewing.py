"""Signing a review from the desk: the member's own key, opened with the password just typed.

The review is made by `civiclab.evidence.review.add_review`, the very function `civiclab review` calls,
so the desk's review is the same signed statement, appended to the audit log under the same lock.
"""

from __future__ import annotations

from civiclab.desk.accounts import User
from civiclab.errors import CivicLabError, SigningError, SpecError
from civiclab.evidence.review import DECISIONS, Review, add_review
from civiclab.store.tracker import Tracker


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
