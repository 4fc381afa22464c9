"""Security headers on every response: a content security policy and no sniffing, referrer or caching."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from civiclab.web.asgi import ASGIApp, Headers, Message, Receive, Scope, Send


def security_headers(csp: bytes, *, frames: bytes = b"DENY") -> Headers:
    """The headers of a civiclab page: its content security policy, and whether it may be framed.

    Args:
        csp: the page's Content-Security-Policy (each feature allows what its pages load).
        frames: X-Frame-Options, `DENY` unless a page of the same site shows it in a frame (`SAMEORIGIN`).
    """
    return [
        (b"content-security-policy", csp),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", frames),
        (b"cache-control", b"no-store"),
    ]


class SecurityHeaders:
    """ASGI middleware adding the security headers to every response, unless the response set its own.

    `headers` is one list for every response, or a function choosing it from the request's scope (the
    desk frames its reports under another policy than its pages).
    """

    def __init__(self, app: ASGIApp, headers: Headers | Callable[[Scope], Headers]) -> None:
        self.app = app
        self.headers_for = headers if callable(headers) else (lambda _scope: headers)

    @property
    def state(self) -> Any:
        """The application's state, through the middlewares it is wrapped in (for the CLI and tests)."""
        app: Any = self.app
        while not hasattr(app, "state"):
            app = app.app
        return app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = self.headers_for(scope)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in headers if k not in present
                ]
            await send(message)

        await self.app(scope, receive, with_headers)
