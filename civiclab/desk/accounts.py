"""Desk accounts: who may read, comment and sign, stored in SQLite under CIVICLAB_HOME.

Passwords are hashed with Argon2id (argon2-cffi). A committee member is linked to an Ed25519 key
of the signing helper (`civiclab.evidence.signing.keys`), encrypted with the member's password: the desk
never holds the key in clear, and unlocks it only while signing, with the password just typed.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from civiclab.errors import SpecError

log = logging.getLogger(__name__)

Role = Literal["member", "lab", "viewer"]
ROLES: tuple[str, ...] = ("member", "lab", "viewer")
DB_FILE = "desk.db"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MIN_PASSWORD = 10

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('member', 'lab', 'viewer')),
    password_hash TEXT NOT NULL,
    key_name TEXT,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS comments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    author TEXT NOT NULL,
    role TEXT NOT NULL,
    body TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS comments_run ON comments (run_id, id);
"""


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    key_name: str | None

    @property
    def may_sign(self) -> bool:
        return self.role == "member"

    @property
    def may_comment(self) -> bool:
        return self.role in ("member", "lab")


@dataclass(frozen=True)
class Comment:
    run_id: str
    author: str
    role: str
    body: str
    created: str


def default_db() -> Path:
    from civiclab.home import lab_home

    return lab_home() / DB_FILE


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def passphrase_variable(key_name: str) -> str:
    """The environment variable the signing helper reads this key's passphrase from, while signing."""
    return "CIVICLAB_DESK_KEY_" + re.sub(r"[^A-Z0-9]", "_", key_name.upper())


class AccountStore:
    """Users and lab comments of the desk (one SQLite file; safe across threads)."""

    def __init__(self, path: Path | None = None) -> None:
        from argon2 import PasswordHasher

        self.path = path or default_db()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._hasher = PasswordHasher()
        # Checked against when the user is unknown, so that a wrong name costs as long as a wrong password.
        self._dummy = self._hasher.hash("not a password of anyone")
        self._lock = threading.Lock()
        with self._db() as db:
            db.executescript(SCHEMA)
        os.chmod(self.path, 0o600)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:
                yield db
        finally:
            db.close()

    def add_user(self, name: str, role: str, password: str, *, key: str | None = None) -> User:
        """Create an account; a member gets a new key encrypted with `password`, or links `key`.

        Raises:
            SpecError: a bad name or role, a short password, an existing user, a key that does not
                exist or that this password does not unlock.
        """
        if not _NAME.match(name):
            raise SpecError("desk user", "name", f"{name!r}: use letters, digits, '.', '_' or '-'")
        if role not in ROLES:
            raise SpecError("desk user", "--role", f"must be one of {', '.join(ROLES)}, not {role!r}")
        if len(password) < MIN_PASSWORD:
            raise SpecError("desk user", "password", f"at least {MIN_PASSWORD} characters")
        if self.get(name) is not None:
            raise SpecError("desk user", "name", f"a user named {name!r} already exists")
        key_name: str | None = None
        if role == "member":
            key_name = key or f"desk-{name}"
            if key is None:
                _create_member_key(key_name, password)
            else:
                _check_key_unlocks(key_name, password)
        elif key is not None:
            raise SpecError("desk user", "--key", "only committee members (--role member) sign reviews")
        with self._lock, self._db() as db:
            db.execute(
                "INSERT INTO users (name, role, password_hash, key_name, created) VALUES (?, ?, ?, ?, ?)",
                (name, role, self._hasher.hash(password), key_name, _now()),
            )
        log.info("desk user %s added (%s)", name, role)
        return User(name=name, role=role, key_name=key_name)  # type: ignore[arg-type]

    def get(self, name: str) -> User | None:
        with self._db() as db:
            row = db.execute("SELECT name, role, key_name FROM users WHERE name = ?", (name,)).fetchone()
        return User(name=row[0], role=row[1], key_name=row[2]) if row else None

    def users(self) -> list[User]:
        with self._db() as db:
            rows = db.execute("SELECT name, role, key_name FROM users ORDER BY name").fetchall()
        return [User(name=r[0], role=r[1], key_name=r[2]) for r in rows]

    def authenticate(self, name: str, password: str) -> User | None:
        """The user when the password is right; None otherwise (same cost either way)."""
        from argon2.exceptions import VerificationError

        with self._db() as db:
            row = db.execute("SELECT password_hash FROM users WHERE name = ?", (name,)).fetchone()
        try:
            self._hasher.verify(row[0] if row else self._dummy, password)
        except VerificationError:
            return None
        return self.get(name) if row else None

    def add_comment(self, run_id: str, user: User, text: str) -> Comment:
        """Store a comment on a run, redacted of personal data first."""
        from civiclab.privacy.redaction import redact_text

        body = redact_text(text.strip())
        comment = Comment(run_id=run_id, author=user.name, role=user.role, body=body, created=_now())
        with self._lock, self._db() as db:
            db.execute(
                "INSERT INTO comments (run_id, author, role, body, created) VALUES (?, ?, ?, ?, ?)",
                (comment.run_id, comment.author, comment.role, comment.body, comment.created),
            )
        return comment

    def comments(self, run_id: str) -> list[Comment]:
        with self._db() as db:
            rows = db.execute(
                "SELECT run_id, author, role, body, created FROM comments WHERE run_id = ? ORDER BY id",
                (run_id,),
            ).fetchall()
        return [Comment(*r) for r in rows]


def _key_info(key_name: str):  # type: ignore[no-untyped-def]
    from civiclab.evidence.signing.keys import list_keys

    info = next((k for k in list_keys() if k.name == key_name), None)
    if info is None:
        raise SpecError("desk user", "--key", f"no signing key named {key_name!r} (civiclab keys list)")
    if not info.encrypted:
        raise SpecError(
            "desk user",
            "--key",
            f"key {key_name!r} is not encrypted: the desk holds only keys encrypted with the member's password",
        )
    return info


def _create_member_key(key_name: str, password: str) -> None:
    from civiclab.evidence.signing.keys import DEFAULT_FILE, default_key_name, init_key, keys_dir

    had_default = default_key_name() is not None
    # Encrypted with the password itself, never through the environment (a child process started
    # meanwhile would inherit it); the CLI opens the key with the variable named here.
    init_key(key_name, passphrase_env=passphrase_variable(key_name), passphrase=password)
    if not had_default:
        # The first key made becomes the lab's default for signing runs; a member's key must never be.
        (keys_dir() / DEFAULT_FILE).unlink(missing_ok=True)


def _check_key_unlocks(key_name: str, password: str) -> None:
    from civiclab.errors import SigningError
    from civiclab.evidence.signing.keys import load_signer

    try:
        load_signer(key_name, passphrase=password)
    except SigningError:
        raise SpecError(
            "desk user", "--key", f"the password given does not unlock key {key_name!r}"
        ) from None
