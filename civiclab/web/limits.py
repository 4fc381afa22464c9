"""How much a client may send: a bound on a request's body, and on its requests in a sliding window.

`BodyLimit` refuses an oversized body with 413 before the application reads it. `SlidingWindow`
counts events per key (a client address, an account name) over the last `window_s` seconds; the
survey form's `RateLimit` uses it against code guessing (429), the desk's login limit against
password guessing.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from civiclab.web.asgi import ASGIApp, Message, Receive, Refusal, Scope, Send, refuse

MAX_CLIENTS = 50_000  # memory bound of a rate limit: the least recently seen clients are forgotten first


class SlidingWindow:
    """Events per key in the last `window_s` seconds, safe to share between threads.

    With `max_keys`, the least recently seen keys are forgotten past that many (a memory bound
    against a flood of new addresses); without it every key is kept until its events expire.
    """

    def __init__(
        self, window_s: float, *, max_keys: int | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window_s = window_s
        self.max_keys = max_keys
        self.clock = clock
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        """The key's events still in the window, the key marked as the most recently seen."""
        stamps = self._events.pop(key, None) or deque()
        while stamps and now - stamps[0] >= self.window_s:
            stamps.popleft()
        self._events[key] = stamps
        if self.max_keys is not None:
            while len(self._events) > self.max_keys:
                self._events.popitem(last=False)
        return stamps

    def wait(self, key: str, limit: int) -> float:
        """Seconds before `key` has fewer than `limit` events in the window (0 when it has now)."""
        now = self.clock()
        with self._lock:
            stamps = self._recent(key, now)
            return self.window_s - (now - stamps[0]) if len(stamps) >= limit else 0.0

    def add(self, key: str) -> None:
        """Count one event of `key` now."""
        now = self.clock()
        with self._lock:
            self._recent(key, now).append(now)

    def allow(self, key: str, limit: int) -> bool:
        """Count one event of `key` if it has fewer than `limit` in the window; False (not counted) if not."""
        now = self.clock()
        with self._lock:
            stamps = self._recent(key, now)
            allowed = len(stamps) < limit
            if allowed:
                stamps.append(now)
            return allowed

    def forget(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)


class RateLimit:
    """ASGI middleware: at most `limit` POSTs per client address per `window_s`, else 429 with Retry-After.

    GET pages are not limited. Behind a reverse proxy, the proxy must pass the client address
    (uvicorn's `--forwarded-allow-ips`), else every client shares one.
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        on_limited: Refusal,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.limit = limit
        self.window_s = window_s
        self.on_limited = on_limited
        self.posts = SlidingWindow(window_s, max_keys=MAX_CLIENTS, clock=clock)

    def allow(self, client: str) -> bool:
        """Record one POST by `client`; False when it is over the limit."""
        return self.posts.allow(client, self.limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.limit <= 0 or scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        if self.allow(str(client)):
            await self.app(scope, receive, send)
            return
        body, content_type = self.on_limited(scope)
        await refuse(send, 429, body, content_type, [(b"retry-after", str(int(self.window_s)).encode())])


class BodyLimit:
    """Refuse a request body larger than `limit` bytes with 413, before the application reads it.

    The body is read here (at most `limit` + 1 bytes) and replayed to the application, so a
    chunked upload without Content-Length is bounded as well as a declared one.
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        on_too_large: Refusal,
        limit_for: Callable[[Scope], int | None] | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.on_too_large = on_too_large
        self.limit_for = limit_for  # a larger bound for some paths (an upload form); None keeps `limit`

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body, content_type = self.on_too_large(scope)
        await refuse(send, 413, body, content_type, [(b"connection", b"close")])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.limit
        if self.limit_for is not None:
            limit = self.limit_for(scope) or limit
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = limit + 1
                if declared > limit:
                    await self._refuse(scope, send)
                    return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
