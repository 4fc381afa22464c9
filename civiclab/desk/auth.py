"""Who is logged in: server-side sessions, a fresh session id at every login, and a login rate limit."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field

SESSION_COOKIE = "civiclab_desk_session"
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
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window_s:
            times.popleft()
        return times

    def blocked(self, client: str, user: str) -> float:
        """Seconds to wait before trying again (0 when a try is allowed)."""
        now = time.monotonic()
        with self._lock:
            waits = [
                self.window_s - (now - times[0])
                for key in (f"ip:{client}", f"user:{user.lower()}")
                if len(times := self._recent(key, now)) >= self.max_attempts
            ]
        return max(waits, default=0.0)

    def failed(self, client: str, user: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (f"ip:{client}", f"user:{user.lower()}"):
                self._recent(key, now).append(now)

    def succeeded(self, client: str, user: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{user.lower()}", None)
