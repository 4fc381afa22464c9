"""Desk accounts: who may read, comment and sign, stored in SQLite under CIVICLAB_HOME.

Passwords are hashed with Argon2id (argon2-cffi). A committee member is linked to an Ed25519 key
encrypted with the member's password (`civiclab.desk.member_keys`). An account is active, disabled
(kept, cannot sign in) or removed (cannot sign in ever again; its name stays taken, so the comments
it wrote keep one author). Disabling, removing or resetting the password of an account revokes its
sessions (the `sessions` table of the same file, `civiclab.desk.auth.Sessions`): the next request of
any browser signed in as that account is sent back to the login page.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from civiclab.desk.member_keys import (
    check_member_key,
    create_member_key,
    passphrase_variable,
    reencrypt_member_key,
)
from civiclab.errors import SpecError

log = logging.getLogger(__name__)

Role = Literal["member", "lab", "viewer"]
ROLES: tuple[str, ...] = ("member", "lab", "viewer")
State = Literal["active", "disabled", "removed"]
DB_FILE = "desk.db"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MIN_PASSWORD = 10

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('member', 'lab', 'viewer')),
    password_hash TEXT NOT NULL,
    key_name TEXT,
    created TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'disabled', 'removed')),
    last_login TEXT
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
CREATE TABLE IF NOT EXISTS sessions (
    sid_hash TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    created REAL NOT NULL,
    seen REAL NOT NULL,
    revoked REAL
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user);
"""
# Columns added since the first desk.db: an older file gains them when opened.
_ADDED_COLUMNS = {
    "state": "ALTER TABLE users ADD COLUMN state TEXT NOT NULL DEFAULT 'active'",
    "last_login": "ALTER TABLE users ADD COLUMN last_login TEXT",
}
_USER_COLUMNS = "name, role, key_name, state, created, last_login"


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    key_name: str | None
    state: State = "active"
    created: str = ""
    last_login: str | None = None

    @property
    def active(self) -> bool:
        return self.state == "active"

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


def _unknown(name: str) -> SpecError:
    return SpecError("desk user", "name", f"no user named {name!r} (civiclab desk user list)")


__all__ = ["AccountStore", "Comment", "User", "passphrase_variable"]


class AccountStore:
    """Users, their sessions and lab comments of the desk (one SQLite file; safe across threads)."""

    def __init__(self, path: Path | None = None) -> None:
        from argon2 import PasswordHasher

        self.path = path or default_db()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._hasher = PasswordHasher()
        self.lock = threading.Lock()
        with self.connect() as db:
            db.executescript(SCHEMA)
            present = {row[1] for row in db.execute("PRAGMA table_info(users)")}
            for column, statement in _ADDED_COLUMNS.items():
                if column not in present:
                    db.execute(statement)
        os.chmod(self.path, 0o600)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection to desk.db, committed on success (the sessions share it)."""
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:
                yield db
        finally:
            db.close()

    @functools.cached_property
    def _dummy(self) -> str:
        """Checked against when the user is unknown, so that a wrong name costs as long as a wrong password."""
        return str(self._hasher.hash("not a password of anyone"))

    # Reading ---------------------------------------------------------------------------------------

    def _row(self, name: str) -> User | None:
        with self.connect() as db:
            row = db.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE name = ?", (name,)).fetchone()
        return User(*row) if row else None

    def get(self, name: str) -> User | None:
        """The account NAME (active or disabled); None when there is none or it was removed."""
        user = self._row(name)
        return user if user is not None and user.state != "removed" else None

    def users(self, *, removed: bool = False) -> list[User]:
        """Every account by name; removed ones too when `removed`."""
        with self.connect() as db:
            rows = db.execute(f"SELECT {_USER_COLUMNS} FROM users ORDER BY name").fetchall()
        return [u for u in (User(*r) for r in rows) if removed or u.state != "removed"]

    def authenticate(self, name: str, password: str) -> User | None:
        """The user when the account is active and the password right; None otherwise (same cost)."""
        from argon2.exceptions import VerificationError

        dummy = self._dummy  # made at the first sign-in, known user or not: its cost tells nothing
        with self.connect() as db:
            row = db.execute(
                "SELECT password_hash FROM users WHERE name = ? AND state = 'active'", (name,)
            ).fetchone()
        try:
            self._hasher.verify(row[0] if row else dummy, password)
        except VerificationError:
            return None
        return self.get(name) if row else None

    def _password_is(self, name: str, password: str) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError

        with self.connect() as db:
            row = db.execute("SELECT password_hash FROM users WHERE name = ?", (name,)).fetchone()
        try:
            return row is not None and bool(self._hasher.verify(row[0], password))
        except (VerificationError, InvalidHashError):
            return False

    # Changing --------------------------------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str, *, key: str | None = None) -> User:
        """Create an account; a member gets a new key encrypted with `password`, or links `key`.

        Raises:
            SpecError: a bad name or role, a short password, a name taken (even by a removed
                account), or a key that may not sign reviews or that this password does not unlock.
        """
        if not _NAME.match(name):
            raise SpecError("desk user", "name", f"{name!r}: use letters, digits, '.', '_' or '-'")
        _check_role(role)
        _check_password(password)
        existing = self._row(name)
        if existing is not None:
            removed = " (removed: its name stays with its comments)" if existing.state == "removed" else ""
            raise SpecError("desk user", "name", f"a user named {name!r} already exists{removed}")
        key_name: str | None = None
        if role == "member":
            key_name = self._member_key(name, password, key)
        elif key is not None:
            raise SpecError("desk user", "--key", "only committee members (--role member) sign reviews")
        with self.lock, self.connect() as db:
            db.execute(
                "INSERT INTO users (name, role, password_hash, key_name, created) VALUES (?, ?, ?, ?, ?)",
                (name, role, self._hasher.hash(password), key_name, _now()),
            )
        log.info("desk user %s added (%s)", name, role)
        return self.existing(name)

    @staticmethod
    def _member_key(name: str, password: str, key: str | None) -> str:
        if key is None:
            return create_member_key(name, password)
        check_member_key(key, password)
        return key

    def existing(self, name: str) -> User:
        """The account NAME, active or disabled.

        Raises:
            SpecError: no such account (or it was removed).
        """
        user = self.get(name)
        if user is None:
            raise _unknown(name)
        return user

    def set_active(self, name: str, active: bool) -> User:
        """Enable or disable an account; disabling ends its sessions at once."""
        self.existing(name)
        with self.lock, self.connect() as db:
            db.execute(
                "UPDATE users SET state = ? WHERE name = ?", ("active" if active else "disabled", name)
            )
            if not active:
                _revoke(db, name)
        log.info("desk user %s %s", name, "enabled" if active else "disabled")
        return self.existing(name)

    def remove(self, name: str) -> None:
        """Remove an account: it can never sign in again, its sessions end, its comments stay.

        The name stays taken (state "removed"), so nobody added later appears as the author of
        what this account wrote; its signing key, if any, stays in the key folder (its reviews
        were signed with it).
        """
        self.existing(name)
        with self.lock, self.connect() as db:
            db.execute(
                "UPDATE users SET state = 'removed', password_hash = '', key_name = NULL WHERE name = ?",
                (name,),
            )
            _revoke(db, name)
        log.info("desk user %s removed", name)

    def set_role(self, name: str, role: str, *, password: str | None = None, key: str | None = None) -> User:
        """Change an account's role. Becoming a member needs the member's own password.

        The password must be the account's (it is the one that unlocks the key at signing): with
        `key`, that key is linked; without, a new key is made and encrypted with it. A member who
        becomes lab staff or viewer keeps their key file, unlinked.

        Raises:
            SpecError: unknown user or role, a missing or wrong password, or a key refused.
        """
        user = self.existing(name)
        _check_role(role)
        key_name: str | None = None
        if role == "member":
            if user.role == "member" and user.key_name and key is None:
                raise SpecError(
                    "desk user", "role", f"{name!r} is already a member, with key {user.key_name}"
                )
            if password is None or not self._password_is(name, password):
                raise SpecError(
                    "desk user", "password", f"a member's key is encrypted with their password: give {name}'s"
                )
            key_name = self._member_key(name, password, key)
        elif key is not None:
            raise SpecError("desk user", "--key", "only committee members (member) sign reviews")
        with self.lock, self.connect() as db:
            db.execute("UPDATE users SET role = ?, key_name = ? WHERE name = ?", (role, key_name, name))
        log.info("desk user %s is now %s", name, role)
        return self.existing(name)

    def reset_password(self, name: str, password: str, *, old_password: str | None = None) -> User:
        """Set a new login password and end the account's sessions.

        A member's key is encrypted with the password: with `old_password` it is re-encrypted with
        the new one; without, it cannot be opened any more and is unlinked (the key file stays),
        so the member must link a new key (`set_role(name, "member")`).

        Raises:
            SpecError: unknown user, a short password, or an old password that does not open the key.
        """
        user = self.existing(name)
        _check_password(password)
        key_name = user.key_name
        if key_name and old_password is not None:
            reencrypt_member_key(key_name, old_password, password)
        elif key_name:
            key_name = None
        with self.lock, self.connect() as db:
            db.execute(
                "UPDATE users SET password_hash = ?, key_name = ? WHERE name = ?",
                (self._hasher.hash(password), key_name, name),
            )
            _revoke(db, name)
        log.info("desk user %s: password reset", name)
        return self.existing(name)

    def signed_in(self, name: str) -> None:
        """Record the time of the account's last sign-in."""
        with self.connect() as db:
            db.execute("UPDATE users SET last_login = ? WHERE name = ?", (_now(), name))

    # Comments --------------------------------------------------------------------------------------

    def add_comment(self, run_id: str, user: User, text: str) -> Comment:
        """Store a comment on a run, redacted of personal data first."""
        from civiclab.privacy.redaction import redact_text

        body = redact_text(text.strip())
        comment = Comment(run_id=run_id, author=user.name, role=user.role, body=body, created=_now())
        with self.lock, self.connect() as db:
            db.execute(
                "INSERT INTO comments (run_id, author, role, body, created) VALUES (?, ?, ?, ?, ?)",
                (comment.run_id, comment.author, comment.role, comment.body, comment.created),
            )
        return comment

    def comments(self, run_id: str) -> list[Comment]:
        with self.connect() as db:
            rows = db.execute(
                "SELECT run_id, author, role, body, created FROM comments WHERE run_id = ? ORDER BY id",
                (run_id,),
            ).fetchall()
        return [Comment(*r) for r in rows]


def _revoke(db: sqlite3.Connection, name: str) -> None:
    db.execute("UPDATE sessions SET revoked = ? WHERE user = ? AND revoked IS NULL", (time.time(), name))


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise SpecError("desk user", "--role", f"must be one of {', '.join(ROLES)}, not {role!r}")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise SpecError("desk user", "password", f"at least {MIN_PASSWORD} characters")
