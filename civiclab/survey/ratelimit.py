"""A per-client limit on form posts: code guessing gets 429, participants never notice.

A participant posts about five times (the code, then one page at a time); an attacker trying
codes posts hundreds of times a second. Each client address gets `limit` POSTs per `window_s`
(a sliding window); past it the answer is 429 with `Retry-After`, before the application (and
the store) does any work. GET pages are not limited. Behind a reverse proxy, the proxy must pass
the client address (uvicorn's `--forwarded-allow-ips`), else every participant shares one.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

from civiclab.errors import SurveyError
from civiclab.home import int_setting
from civiclab.survey.security import SECURITY_HEADERS, ASGIApp, Receive, Scope, Send

WINDOW_S = 60.0
MAX_CLIENTS = 50_000  # memory bound: the least recently seen clients are forgotten first


def configured_limit(value: int | None = None) -> int:
    """`value`, else $CIVICLAB_SURVEY_RATE_LIMIT, else 30 POSTs a minute; 0 turns the limit off."""
    if value is None:
        return int_setting("CIVICLAB_SURVEY_RATE_LIMIT")
    if value < 0:
        raise SurveyError(f"rate limit {value}: give 0 (off) or a positive number of posts a minute")
    return value


class RateLimit:
    """ASGI middleware: at most `limit` POSTs per client address per `window_s`, else 429."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        on_limited: Callable[[Scope], tuple[bytes, bytes]],
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.limit = limit
        self.window_s = window_s
        self.on_limited = on_limited
        self.clock = clock
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, client: str) -> bool:
        """Record one POST by `client`; False when it is over the limit."""
        now = self.clock()
        stamps = self._seen.pop(client, None) or deque()
        while stamps and now - stamps[0] >= self.window_s:
            stamps.popleft()
        allowed = len(stamps) < self.limit
        if allowed:
            stamps.append(now)
        self._seen[client] = stamps  # most recently seen last
        while len(self._seen) > MAX_CLIENTS:
            self._seen.popitem(last=False)
        return allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.limit <= 0 or scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        if self.allow(str(client)):
            await self.app(scope, receive, send)
            return
        body, content_type = self.on_limited(scope)
        headers = [
            (b"content-type", content_type),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(int(self.window_s)).encode()),
            *SECURITY_HEADERS,
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})
