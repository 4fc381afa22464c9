"""A served pilot's participants in the survey store: enrolment with a single-use code, answers given in
parts (before and after the pilot) under the participant's pseudonym, and withdrawal.

The same tables and transactions as the web form (`SurveyStore`): a code is used up in the statement
that checks it, so two enrolments with one code cannot both succeed.
"""

from __future__ import annotations

import sqlalchemy as sa

from civiclab.survey.responses import Answer
from civiclab.survey.store import (
    InvitationUnknown,
    InvitationUsed,
    SurveyStore,
    invitations,
    now_iso,
    responses,
)


def redeem(store: SurveyStore, experiment: str, code: str) -> dict[str, str]:
    """Use up a code on its own (enrolment in a served pilot); returns the segment it was made for.

    Raises:
        InvitationUnknown: no such code for this experiment.
        InvitationUsed: the code was already used (also under a concurrent enrolment).
    """
    code_hash, legacy = store.code_hashes(experiment, code)
    with store.writing() as conn:
        row = conn.execute(
            invitations.update()
            .where(
                invitations.c.code_hash.in_((code_hash, legacy)),
                invitations.c.experiment == experiment,
                invitations.c.used_at.is_(None),
            )
            .values(used_at=now_iso())
            .returning(invitations.c.segment)
        ).first()
        if row is None:
            known = conn.execute(
                sa.select(invitations.c.id).where(
                    invitations.c.code_hash.in_((code_hash, legacy)),
                    invitations.c.experiment == experiment,
                )
            ).first()
            raise (InvitationUsed if known else InvitationUnknown)("unknown or used invitation code")
    return {str(k): str(v) for k, v in dict(row.segment or {}).items()}


def store_answers(
    store: SurveyStore,
    experiment: str,
    person: str,
    answers: dict[str, Answer],
    language: str,
    segment: dict[str, str],
    source: str = "journey",
) -> str:
    """Add answers to a served pilot's participant's response (one per person, answered in parts:
    before and after the pilot); returns its uid. The person is a pseudonym, never a code."""
    uid = f"{source}:{person}"
    stamp = now_iso()
    with store.writing() as conn:
        row = conn.execute(
            sa.select(responses.c.answers).where(responses.c.experiment == experiment, responses.c.uid == uid)
        ).first()
        if row is None:
            conn.execute(
                responses.insert().values(
                    experiment=experiment,
                    uid=uid,
                    source=source,
                    complete=True,
                    submitted_at=stamp,
                    lastpage=None,
                    language=language,
                    segment={**segment, "language": language},
                    answers=answers,
                    stored_at=stamp,
                    person=person,
                )
            )
        else:
            merged = {**dict(row.answers or {}), **answers}
            conn.execute(
                responses.update()
                .where(responses.c.experiment == experiment, responses.c.uid == uid)
                .values(answers=merged, submitted_at=stamp)
            )
    return uid


def withdraw_person(store: SurveyStore, experiment: str, person: str) -> int:
    """Delete every response of a person (a participant who withdraws); returns how many."""
    with store.writing() as conn:
        result = conn.execute(
            responses.delete().where(responses.c.experiment == experiment, responses.c.person == person)
        )
    return int(result.rowcount or 0)
