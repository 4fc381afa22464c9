"""Who is logged in: server-side sessions, a fresh session id at every login, and a login rate limit.

Before login, a form's CSRF token is bound to a random pre-login cookie; after login, to the session
id (`civiclab.web.csrf`), so a token seen before login is worthless afterwards.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

from civiclab.web.limits import SlidingWindow

SESSION_COOKIE = "civiclab_desk_session"
PRELOGIN_COOKIE = "civiclab_desk_pre"
SESSION_TTL_S = 8 * 3600
IDLE_TTL_S = 30 * 60
LOGIN_WINDOW_S = 300.0
LOGIN_MAX_ATTEMPTS = 5


@dataclass
class Session:
    sid: str
    user: str
    created: float
    seen: float


@dataclass
class Sessions:
    """Sessions held in memory: a restart logs everyone out, which is the safe direction."""

    ttl_s: float = SESSION_TTL_S
    idle_s: float = IDLE_TTL_S
    _by_id: dict[str, Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, user: str, previous: str | None = None) -> Session:
        """A new session with a new random id; the id the browser came with (if any) is dropped."""
        now = time.monotonic()
        session = Session(sid=secrets.token_urlsafe(32), user=user, created=now, seen=now)
        with self._lock:
            if previous:
                self._by_id.pop(previous, None)
            self._by_id[session.sid] = session
        return session

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        now = time.monotonic()
        with self._lock:
            session = self._by_id.get(sid)
            if session is None:
                return None
            if now - session.created > self.ttl_s or now - session.seen > self.idle_s:
                del self._by_id[sid]
                return None
            session.seen = now
            return session

    def end(self, sid: str | None) -> None:
        if sid:
            with self._lock:
                self._by_id.pop(sid, None)


@dataclass
class LoginLimiter:
    """At most `max_attempts` failed logins per client address and per account name in a window.

    Both keys count: an attacker spreading guesses over addresses still hits the account's limit,
    and one address cycling account names hits its own.
    """

    max_attempts: int = LOGIN_MAX_ATTEMPTS
    window_s: float = LOGIN_WINDOW_S
    _failures: SlidingWindow = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._failures = SlidingWindow(self.window_s)

    def blocked(self, client: str, user: str) -> float:
        """Seconds to wait before trying again (0 when a try is allowed)."""
        return max(self._failures.wait(key, self.max_attempts) for key in _keys(client, user))

    def failed(self, client: str, user: str) -> None:
        for key in _keys(client, user):
            self._failures.add(key)

    def succeeded(self, client: str, user: str) -> None:
        self._failures.forget(f"user:{user.lower()}")


def _keys(client: str, user: str) -> tuple[str, str]:
    return (f"ip:{client}", f"user:{user.lower()}")
