"""Storing a batch of web submissions in one transaction, each code used once.

What one submission does (`SurveyStore.submit`) is done here for many at once: the invitation is
marked used only if it was open, and the response is stored only if it was, in the same transaction.
On PostgreSQL the whole batch is one statement (its invitations found by their unique code hash,
which the experiment is part of: the experiment is checked, never searched by): the UPDATE marks the open invitations of the batch
used (a code sent twice in the batch matches its row once, so only one of the two is stored; a
concurrent transaction holding the row makes this one wait, then see it used), and the INSERT stores
a response for each row the UPDATE returned. Elsewhere (SQLite) each submission is two statements,
still in one transaction. Should the batch fail as a whole (a deadlock between two batches that share
a code, a response already stored under that code), it is rolled back and each submission is stored
alone, as if no batch had been tried.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from civiclab.errors import SurveyError
from civiclab.survey.responses import Answer
from civiclab.survey.store import SurveyStore, now_iso

WEB_SOURCE = "web"

_POSTGRES_BATCH = sa.text(
    """
    WITH input AS (
        SELECT * FROM unnest(
            CAST(:code_hashes AS text[]), CAST(:legacy_hashes AS text[]), CAST(:uids AS text[]),
            CAST(:answers AS text[]), CAST(:languages AS text[]), CAST(:lastpages AS int[]),
            CAST(:positions AS int[])
        ) AS t(code_hash, legacy_hash, uid, answers, language, lastpage, position)
    ), used AS (
        UPDATE survey_invitations AS inv SET used_at = :stamp
        FROM input
        WHERE inv.code_hash = ANY (ARRAY[input.code_hash, input.legacy_hash]) AND inv.used_at IS NULL
          AND (inv.experiment = :experiment) IS TRUE
        RETURNING inv.segment, input.uid, input.answers, input.language, input.lastpage, input.position
    ), stored AS (
        INSERT INTO survey_responses (
            experiment, uid, source, complete, submitted_at, lastpage, language, segment, answers, stored_at
        )
        SELECT :experiment, uid, :source, true, :stamp, lastpage, language,
               CAST(CAST(segment AS jsonb) || jsonb_build_object('language', language) AS json),
               CAST(answers AS json), :stamp
        FROM used
        RETURNING uid
    )
    SELECT position FROM used WHERE uid IN (SELECT uid FROM stored)
    """
)


@dataclass(frozen=True)
class Submission:
    """A participant's complete answers, posted with their invitation code."""

    code: str
    answers: dict[str, Answer]
    language: str
    lastpage: int


def store_submissions(store: SurveyStore, experiment: str, batch: Sequence[Submission]) -> list[str | None]:
    """Store `batch` in one transaction; per submission, the response's uid, or None when its code was
    unknown or already used (also by another submission of the batch, or by a concurrent one)."""
    if not batch:
        return []
    hashes = [store.code_hashes(experiment, s.code) for s in batch]
    try:
        with store.writing() as conn:
            if conn.dialect.name == "postgresql":
                return _postgres_batch(conn, experiment, batch, hashes)
            if conn.dialect.name == "sqlite":
                return _sqlite_batch(conn, experiment, batch, hashes)
    except sa.exc.DBAPIError:
        pass  # rolled back: each one alone, below
    return [_alone(store, experiment, s) for s in batch]


def _uid(code_hash: str) -> str:
    return f"{WEB_SOURCE}:{code_hash[:32]}"


def _postgres_batch(
    conn: Connection, experiment: str, batch: Sequence[Submission], hashes: list[tuple[str, str]]
) -> list[str | None]:
    params: dict[str, Any] = {
        "experiment": experiment,
        "stamp": now_iso(),
        "source": WEB_SOURCE,
        "code_hashes": [h for h, _ in hashes],
        "legacy_hashes": [legacy for _, legacy in hashes],
        "uids": [_uid(h) for h, _ in hashes],
        "answers": [json.dumps(s.answers, ensure_ascii=False) for s in batch],
        "languages": [s.language for s in batch],
        "lastpages": [s.lastpage for s in batch],
        "positions": list(range(len(batch))),
    }
    stored = {row.position for row in conn.execute(_POSTGRES_BATCH, params)}
    return [_uid(h) if i in stored else None for i, (h, _) in enumerate(hashes)]


_SQLITE_USE = (
    "UPDATE survey_invitations SET used_at = ? WHERE code_hash IN (?, ?) AND experiment = ? "
    "AND used_at IS NULL RETURNING segment"
)
_SQLITE_STORE = (
    "INSERT INTO survey_responses (experiment, uid, source, complete, submitted_at, lastpage, language, "
    "segment, answers, stored_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?)"
)


def _sqlite_batch(
    conn: Connection, experiment: str, batch: Sequence[Submission], hashes: list[tuple[str, str]]
) -> list[str | None]:
    """Per submission, the store's own two statements, in plain SQL: the batch's cost is the driver's."""
    stamp = now_iso()
    outcomes: list[str | None] = []
    rows: list[tuple[Any, ...]] = []
    for s, (code_hash, legacy) in zip(batch, hashes, strict=True):
        used = conn.exec_driver_sql(_SQLITE_USE, (stamp, code_hash, legacy, experiment)).first()
        if used is None:
            outcomes.append(None)
            continue
        uid = _uid(code_hash)
        segment = {**dict(json.loads(used[0] or "{}")), "language": s.language}
        # The same JSON text as the store's JSON columns write.
        rows.append(
            (
                experiment,
                uid,
                WEB_SOURCE,
                stamp,
                s.lastpage,
                s.language,
                json.dumps(segment),
                json.dumps(s.answers),
                stamp,
            )
        )
        outcomes.append(uid)
    if rows:
        conn.exec_driver_sql(_SQLITE_STORE, rows)
    return outcomes


def _alone(store: SurveyStore, experiment: str, s: Submission) -> str | None:
    try:
        return store.submit(experiment, s.code, s.answers, s.language, s.lastpage)
    except SurveyError:  # unknown or used: the same answer to the participant
        return None
