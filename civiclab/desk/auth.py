"""Who is signed in: sessions kept in desk.db, a fresh session id at every login, and rate limits.

Before login, a form's CSRF token is bound to a random pre-login cookie; after login, to the session
id (`civiclab.web.csrf`), so a token seen before login is worthless afterwards.

Addresses: the limits count the TCP peer's address. The desk's server trusts X-Forwarded-For only
from the proxy given with `civiclab desk --trusted-proxy IP` (uvicorn's `forwarded_allow_ips`);
without it, proxy headers are ignored, so a client cannot pick a new address for every guess.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from civiclab.desk.accounts import AccountStore
from civiclab.web.limits import MAX_CLIENTS, SlidingWindow

SESSION_COOKIE = "civiclab_desk_session"
PRELOGIN_COOKIE = "civiclab_desk_pre"
SESSION_TTL_S = 8 * 3600
IDLE_TTL_S = 30 * 60
SEEN_EVERY_S = 60.0  # a session's last use is written at most this often (one write per minute, not per page)
LOGIN_WINDOW_S = 300.0
LOGIN_MAX_ATTEMPTS = 5
ACCOUNT_MAX_ATTEMPTS = 50
ADDRESS_MAX_ATTEMPTS = 50
SIGNING_WINDOW_S = 300.0
SIGNING_MAX_PER_SESSION = 5
SIGNING_MAX_PER_MEMBER = 10


@dataclass
class Session:
    sid: str  # the id the browser holds (the CSRF anchor); only its sha256 is stored
    user: str
    created: float
    seen: float


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


class Sessions:
    """Sessions stored in desk.db: a restart of the desk keeps people signed in.

    Only the sha256 of a session id is stored, so a copy of desk.db holds no usable cookie. A session
    ends after `ttl_s` whatever happens, after `idle_s` without a request (measured to within
    SEEN_EVERY_S), at logout, and when its account is disabled, removed or given a new password:
    those revoke it in the same file, so the next request of that browser is signed out, even when
    the change was made by `civiclab desk user` in another process.
    """

    def __init__(
        self,
        accounts: AccountStore,
        *,
        ttl_s: float = SESSION_TTL_S,
        idle_s: float = IDLE_TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.accounts = accounts
        self.ttl_s = ttl_s
        self.idle_s = idle_s
        self.clock = clock

    def start(self, user: str, previous: str | None = None) -> Session:
        """A new session with a new random id; the id the browser came with (if any) is revoked."""
        now = self.clock()
        session = Session(sid=secrets.token_urlsafe(32), user=user, created=now, seen=now)
        with self.accounts.lock, self.accounts.connect() as db:
            if previous:
                db.execute(
                    "UPDATE sessions SET revoked = ? WHERE sid_hash = ? AND revoked IS NULL",
                    (now, _digest(previous)),
                )
            # Rows past every TTL are of no use any more, revoked or not.
            db.execute("DELETE FROM sessions WHERE created < ?", (now - self.ttl_s,))
            db.execute(
                "INSERT INTO sessions (sid_hash, user, created, seen) VALUES (?, ?, ?, ?)",
                (_digest(session.sid), user, now, now),
            )
        self.accounts.signed_in(user)
        return session

    def get(self, sid: str | None) -> Session | None:
        """The live session of this id: not revoked, within both TTLs, of an active account."""
        if not sid or len(sid) > 128:
            return None
        now = self.clock()
        key = _digest(sid)
        with self.accounts.connect() as db:
            row = db.execute(
                "SELECT s.user, s.created, s.seen FROM sessions s JOIN users u ON u.name = s.user "
                "WHERE s.sid_hash = ? AND s.revoked IS NULL AND u.state = 'active'",
                (key,),
            ).fetchone()
            if row is None:
                return None
            user, created, seen = row
            if now - created > self.ttl_s or now - seen > self.idle_s:
                db.execute("UPDATE sessions SET revoked = ? WHERE sid_hash = ?", (now, key))
                return None
            if now - seen >= SEEN_EVERY_S:
                db.execute("UPDATE sessions SET seen = ? WHERE sid_hash = ?", (now, key))
                seen = now
        return Session(sid=sid, user=user, created=created, seen=seen)

    def end(self, sid: str | None) -> None:
        """Revoke a session (logout)."""
        if sid:
            with self.accounts.connect() as db:
                db.execute(
                    "UPDATE sessions SET revoked = ? WHERE sid_hash = ? AND revoked IS NULL",
                    (self.clock(), _digest(sid)),
                )


@dataclass
class LoginLimiter:
    """Failed logins, counted per (address, account) pair, with higher ceilings per account and per address.

    Why pairs: counted per account alone, five wrong passwords from anywhere would lock a member out
    from everywhere. Per pair, failures from address A against account X lock only (A, X): the
    member still signs in from her own address. The account's ceiling (`account_max` failures from
    all addresses, 50 in 5 minutes) still stops guessing spread over many addresses, at the price
    that such an attack locks the account everywhere until the window passes; the address's
    ceiling (`address_max`) stops one address trying many accounts. A success clears only its
    own pair, so a member signing in does not reset the count of a guessing spread elsewhere.
    """

    max_attempts: int = LOGIN_MAX_ATTEMPTS
    account_max: int = ACCOUNT_MAX_ATTEMPTS
    address_max: int = ADDRESS_MAX_ATTEMPTS
    window_s: float = LOGIN_WINDOW_S
    _failures: SlidingWindow = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._failures = SlidingWindow(self.window_s, max_keys=MAX_CLIENTS)

    def _limits(self, client: str, user: str) -> tuple[tuple[str, int], ...]:
        name = user.lower()
        return (
            (f"pair:{client}\n{name}", self.max_attempts),
            (f"user:{name}", self.account_max),
            (f"ip:{client}", self.address_max),
        )

    def blocked(self, client: str, user: str) -> float:
        """Seconds to wait before trying again (0 when a try is allowed)."""
        return max(self._failures.wait(key, limit) for key, limit in self._limits(client, user))

    def failed(self, client: str, user: str) -> None:
        for key, _ in self._limits(client, user):
            self._failures.add(key)

    def succeeded(self, client: str, user: str) -> None:
        self._failures.forget(self._limits(client, user)[0][0])


@dataclass
class SigningLimiter:
    """Wrong passwords typed to sign a review: `per_session` per session and `per_member` per member.

    Past either, signing is refused (429) without trying the key until the window passes: a stolen
    session cannot guess the member's password, and neither can several sessions of one account.
    """

    per_session: int = SIGNING_MAX_PER_SESSION
    per_member: int = SIGNING_MAX_PER_MEMBER
    window_s: float = SIGNING_WINDOW_S
    _failures: SlidingWindow = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._failures = SlidingWindow(self.window_s, max_keys=MAX_CLIENTS)

    def _limits(self, user: str, sid: str) -> tuple[tuple[str, int], tuple[str, int]]:
        return ((f"session:{_digest(sid)}", self.per_session), (f"member:{user}", self.per_member))

    def blocked(self, user: str, sid: str) -> float:
        """Seconds to wait before the key may be tried again (0 when it may now)."""
        return max(self._failures.wait(key, limit) for key, limit in self._limits(user, sid))

    def failed(self, user: str, sid: str) -> None:
        for key, _ in self._limits(user, sid):
            self._failures.add(key)
