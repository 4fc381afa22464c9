"""The survey store: invitation codes (hashed) and responses, through SQLAlchemy.

SQLite by default (one file, WAL journal), PostgreSQL with a `postgresql+psycopg://` URL.
Every write is one transaction: an import stores all its accepted rows or none, and a web
submission marks its invitation used and stores the response together, so a code can never
be used twice, even by concurrent requests. An import stores each response once: one whose
content (`SurveyResponse.fingerprint`) is already stored, from whichever file or wave, is skipped.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from civiclab.errors import SurveyError
from civiclab.privacy.secrets import lab_secret
from civiclab.survey.codes import SECRET_NAME, hash_code, legacy_hash_code, new_code
from civiclab.survey.codes import normalise_code as normalise_code  # re-exported for the web form
from civiclab.survey.outcome import StoredImport
from civiclab.survey.responses import Answer, SurveyResponse

metadata = sa.MetaData()

invitations = sa.Table(
    "survey_invitations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("experiment", sa.String(64), nullable=False, index=True),
    sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("segment", sa.JSON, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("used_at", sa.String(32), nullable=True),
)

responses = sa.Table(
    "survey_responses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("experiment", sa.String(64), nullable=False, index=True),
    sa.Column("uid", sa.String(128), nullable=False),
    sa.Column("source", sa.String(300), nullable=False),
    sa.Column("complete", sa.Boolean, nullable=False),
    sa.Column("submitted_at", sa.String(32), nullable=True),
    sa.Column("lastpage", sa.Integer, nullable=True),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("segment", sa.JSON, nullable=False),
    sa.Column("answers", sa.JSON, nullable=False),
    sa.Column("stored_at", sa.String(32), nullable=False),
    sa.Column("missing_items", sa.JSON, nullable=True),  # added after 0.1: see `_migrate`
    sa.Column("filename", sa.String(500), nullable=True),  # added with content identity: see `_migrate`
    sa.Column("synthetic", sa.String(300), nullable=True),  # why it is not a real person's, if it is not
    sa.Column(
        "person", sa.String(64), nullable=True
    ),  # keyed hash of a participant token: one person's waves
    sa.UniqueConstraint("experiment", "uid", name="uq_survey_response_uid"),
)

imports = sa.Table(
    "survey_imports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("experiment", sa.String(64), nullable=False, index=True),
    sa.Column("filename", sa.String(500), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("imported_at", sa.String(32), nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("accepted", sa.Integer, nullable=False),
    sa.Column("rejected", sa.Integer, nullable=False),
    sa.Column("duplicates", sa.Integer, nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=True),  # the raw file, so nothing imported is ever lost
)


class InvitationUnknown(SurveyError):
    """No invitation has this code for this experiment."""


class InvitationUsed(SurveyError):
    """The invitation code has already been used for a submission."""


@dataclass(frozen=True)
class Invitation:
    state: Literal["open", "used"]
    segment: dict[str, str]


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _sqlite_folder(url: str) -> None:
    """Create the folder of a SQLite store (`mlruns/` in a new lab folder), in one line if it cannot be."""
    folder = Path(url.removeprefix("sqlite:///")).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SurveyError(
            f"survey store {url}: cannot create the folder {folder}: {exc.strerror or exc}"
        ) from None


def _engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        _sqlite_folder(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")  # psycopg 3, not psycopg2
    try:
        if url.startswith("sqlite"):
            engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

            @sa.event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cursor = dbapi_conn.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.close()

            return engine
        return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    except (sa.exc.ArgumentError, ImportError) as exc:
        raise SurveyError(f"survey store {url.split('@')[-1]!r}: {exc}") from None


def _migrate(engine: Engine) -> None:
    """Bring a store created by an earlier civiclab up to date (columns added since, nullable)."""
    columns = {c["name"] for c in sa.inspect(engine).get_columns("survey_responses")}
    added = {
        "missing_items": "JSON",
        "filename": "VARCHAR(500)",
        "synthetic": "VARCHAR(300)",
        "person": "VARCHAR(64)",
    }
    for name, kind in added.items():
        if name not in columns:
            with engine.begin() as conn:
                conn.execute(sa.text(f"ALTER TABLE survey_responses ADD COLUMN {name} {kind}"))


def _continues(stored: dict[str, Any], later: SurveyResponse) -> bool:
    """Whether `later` is the same participant further on: every stored answer kept, more given or submitted."""
    same = all(later.answers.get(column) == value for column, value in stored.items())
    return same and (later.complete or len(later.answers) > len(stored))


def _row_values(r: SurveyResponse) -> dict[str, Any]:
    return {
        "uid": r.uid,
        "source": r.source[:300],
        "complete": r.complete,
        "submitted_at": r.submitted_at,
        "lastpage": r.lastpage,
        "language": r.language,
        "segment": r.segment,
        "answers": r.answers,
        "missing_items": list(r.missing_items) or None,
        "filename": (r.filename or None) and str(r.filename)[:500],
        "synthetic": (r.synthetic or None) and str(r.synthetic)[:300],
        "person": r.person,
    }


def _stored_response(row: Any) -> SurveyResponse:
    return SurveyResponse(
        uid=row.uid,
        complete=bool(row.complete),
        answers=dict(row.answers or {}),
        segment=dict(row.segment or {}),
        language=row.language,
        lastpage=row.lastpage,
        source=row.source,
        submitted_at=row.submitted_at,
        missing_items=list(row.missing_items or []),
        local_id=row.uid.removeprefix(f"{row.source}:"),
        synthetic=row.synthetic,
        filename=row.filename,
        person=row.person,
    )


class SurveyStore:
    """Invitations and responses of every experiment, in one SQL database."""

    def __init__(self, url: str, *, secret: bytes | None = None) -> None:
        self.url = url
        self._secret = secret
        self.engine = _engine(url)
        # SQLite has one writer at a time: serialise writes in-process rather than retry on "locked".
        self._write_lock = threading.Lock() if url.startswith("sqlite") else None
        try:
            metadata.create_all(self.engine)
            _migrate(self.engine)
        except sa.exc.SQLAlchemyError as exc:
            shown = sa.engine.make_url(url).render_as_string(hide_password=True)
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise SurveyError(
                f"cannot open the survey store {shown}: {type(exc).__name__}: {detail}"
            ) from None

    def _hash(self, experiment: str, code: str) -> str:
        if self._secret is None:
            self._secret = lab_secret(SECRET_NAME)
        return hash_code(experiment, code, self._secret)

    def code_hashes(self, experiment: str, code: str) -> tuple[str, str]:
        """The code's hash, and its legacy hash (codes handed out before the lab secret still work)."""
        return self._hash(experiment, code), legacy_hash_code(experiment, code)

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """One write transaction (on SQLite, one at a time in this process)."""
        if self._write_lock is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._write_lock, self.engine.begin() as conn:
            yield conn

    def close(self) -> None:
        self.engine.dispose()

    # -- invitations -------------------------------------------------------------------------
    def create_invitations(
        self, experiment: str, count: int, segment: dict[str, str] | None = None
    ) -> list[str]:
        """Create `count` codes; only their hashes are stored, so print or hand them out now."""
        if count < 1:
            raise SurveyError("--count: give at least 1")
        codes = [new_code() for _ in range(count)]
        created = now_iso()
        rows = [
            {
                "experiment": experiment,
                "code_hash": self._hash(experiment, c),
                "segment": dict(segment or {}),
                "created_at": created,
                "used_at": None,
            }
            for c in codes
        ]
        with self.writing() as conn:
            for i in range(0, len(rows), 500):
                conn.execute(invitations.insert(), rows[i : i + 500])
        if self.engine.dialect.name == "postgresql":
            # Fresh statistics, so that submissions find their code by its unique hash from the first one
            # (a table the planner believes empty is scanned whole for each code of a batch).
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE survey_invitations"))
        return codes

    def invitation(self, experiment: str, code: str) -> Invitation:
        """The state of a code, or `InvitationUnknown`."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(invitations.c.used_at, invitations.c.segment).where(
                    invitations.c.code_hash.in_(self.code_hashes(experiment, code)),
                    invitations.c.experiment == experiment,
                )
            ).first()
        if row is None:
            raise InvitationUnknown("unknown invitation code")
        return Invitation("used" if row.used_at else "open", dict(row.segment or {}))

    def invited_count(self, experiment: str) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(invitations)
                    .where(invitations.c.experiment == experiment)
                ).scalar_one()
            )

    # -- responses ---------------------------------------------------------------------------
    def submit(
        self, experiment: str, code: str, answers: dict[str, Answer], language: str, lastpage: int
    ) -> str:
        """Store a web submission and use up its code, atomically; returns the response uid.

        Raises:
            InvitationUnknown: no such code for this experiment.
            InvitationUsed: the code was already used (also under a concurrent submission).
        """
        code_hash, legacy = self.code_hashes(experiment, code)
        stamp = now_iso()
        uid = f"web:{code_hash[:32]}"
        with self.writing() as conn:
            # One statement both checks and uses the code: concurrent submissions of one code
            # cannot both see it unused (the row is locked by the UPDATE, or SQLite has one writer).
            row = conn.execute(
                invitations.update()
                .where(
                    invitations.c.code_hash.in_((code_hash, legacy)),
                    invitations.c.experiment == experiment,
                    invitations.c.used_at.is_(None),
                )
                .values(used_at=stamp)
                .returning(invitations.c.segment)
            ).first()
            if row is None:
                known = conn.execute(
                    sa.select(invitations.c.id).where(
                        invitations.c.code_hash.in_((code_hash, legacy)),
                        invitations.c.experiment == experiment,
                    )
                ).first()
                if known is None:
                    raise InvitationUnknown("unknown invitation code")
                raise InvitationUsed("this invitation code has already been used")
            try:
                conn.execute(
                    responses.insert().values(
                        experiment=experiment,
                        uid=uid,
                        source="web",
                        complete=True,
                        submitted_at=stamp,
                        lastpage=lastpage,
                        language=language,
                        segment={**dict(row.segment or {}), "language": language},
                        answers=answers,
                        stored_at=stamp,
                    )
                )
            except sa.exc.IntegrityError:
                raise InvitationUsed("this invitation code has already been used") from None
        return uid

    def add_responses(
        self,
        experiment: str,
        rows: Iterable[SurveyResponse],
        *,
        filename: str = "",
        sha256: str = "",
        total_rows: int = 0,
        rejected: int = 0,
        content: bytes | None = None,
    ) -> StoredImport:
        """Store imported responses in one transaction.

        A response whose content is already stored (`SurveyResponse.fingerprint`: the same respondent's
        same answers, from this file or another, under any wave) is skipped and counted by the file it
        was first imported from. Otherwise, one whose uid (source and id) is new is added; one stored
        incomplete that a later export shows further on (same answers, more of them or submitted) is
        updated; an identical one is left as is; one with the same uid but different answers is a
        collision, reported and left unchanged.
        The raw file is archived once per content (a re-import of the same file is not archived again).
        """
        items = list(rows)
        stamp = now_iso()
        outcome = StoredImport()
        with self.writing() as conn:
            table = conn.execute(sa.select(responses).where(responses.c.experiment == experiment)).all()
            stored = {r.uid: r for r in table}
            first_seen = {_stored_response(r).fingerprint: (r.filename or "", r.source) for r in table}
            fresh = []
            for r in items:
                earlier = first_seen.get(r.fingerprint)
                if earlier is not None:
                    outcome.skipped[earlier] = outcome.skipped.get(earlier, 0) + 1
                    outcome.unchanged += 1
                    continue
                first_seen[r.fingerprint] = (r.filename or filename, r.source)
                old = stored.get(r.uid)
                if old is None:
                    fresh.append(r)
                elif dict(old.answers or {}) == r.answers and bool(old.complete) == r.complete:
                    outcome.unchanged += 1
                elif not old.complete and _continues(dict(old.answers or {}), r):
                    conn.execute(
                        responses.update()
                        .where(responses.c.id == old.id)
                        .values(**_row_values(r), stored_at=stamp)
                    )
                    outcome.updated += 1
                else:
                    outcome.collisions.append(r.uid)
            payload = [{"experiment": experiment, **_row_values(r), "stored_at": stamp} for r in fresh]
            for i in range(0, len(payload), 500):
                conn.execute(responses.insert(), payload[i : i + 500])
            outcome.added = len(fresh)
            if filename:
                seen = (
                    sha256
                    and conn.execute(
                        sa.select(imports.c.id).where(
                            imports.c.experiment == experiment,
                            imports.c.sha256 == sha256,
                            imports.c.content.is_not(None),
                        )
                    ).first()
                )
                outcome.archived = not seen and content is not None
                conn.execute(
                    imports.insert().values(
                        experiment=experiment,
                        filename=filename[:500],
                        sha256=sha256,
                        imported_at=stamp,
                        rows=total_rows,
                        accepted=len(fresh) + outcome.updated,
                        rejected=rejected,
                        duplicates=outcome.unchanged + len(outcome.collisions),
                        content=content if outcome.archived else None,
                    )
                )
        return outcome

    def responses(self, experiment: str) -> list[SurveyResponse]:
        """Every stored response of an experiment, complete or not, in the order stored."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(responses).where(responses.c.experiment == experiment).order_by(responses.c.id)
            ).all()
        return [_stored_response(r) for r in rows]

    def raw_imports(self, experiment: str) -> list[tuple[str, str, bytes]]:
        """(filename, sha256, raw bytes) of every file archived for an experiment, each content once."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(imports.c.filename, imports.c.sha256, imports.c.content)
                .where(imports.c.experiment == experiment, imports.c.content.is_not(None))
                .order_by(imports.c.id)
            ).all()
        return [(r.filename, r.sha256, bytes(r.content or b"")) for r in rows]

    def count(self, experiment: str) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(responses)
                    .where(responses.c.experiment == experiment)
                ).scalar_one()
            )
