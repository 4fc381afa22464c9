"""A route taken straight to its handler, ahead of the framework's router.

The survey form's last page is the request a consultation sends most, all at once; FastAPI's routing,
dependency solving and middleware stack cost about as much as the handler itself. `DirectPost` answers
`POST /{lang}/{page}` with the handler FastAPI would have called, and passes everything else through.
The handler is the same function, so the answers are the same; only the framework's work is skipped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection

from starlette.requests import Request
from starlette.responses import Response

from civiclab.web.asgi import ASGIApp, Receive, Scope, Send

Handler = Callable[[Request, str], Awaitable[Response]]


class DirectPost:
    """ASGI: `POST /{lang}/{page}` for a known language goes to `handler(request, lang)`, the rest to `app`."""

    def __init__(self, app: ASGIApp, page: str, languages: Collection[str], handler: Handler) -> None:
        self.app = app
        self.paths = {f"/{lang}/{page}": lang for lang in languages}
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lang = self.paths.get(scope.get("path", "")) if scope["type"] == "http" else None
        if lang is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        response = await self.handler(request, lang)
        await response(scope, receive, send)
