"""The desk's web application: FastAPI with server-rendered, accessible pages in French and English.

Every page but /login (and the sign-in with an identity provider, /login/oidc) needs a session (else
303 to /login). Forms carry a CSRF token bound to the session (403 without it). Members sign reviews;
lab staff comment; viewers read. Login failures and wrong signing passwords are limited (429,
`civiclab.desk.auth`). Sessions live in desk.db.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from civiclab.desk.accounts import AccountStore
from civiclab.desk.auth import LoginLimiter, Sessions
from civiclab.desk.pages import VerifyCache
from civiclab.desk.views import Desk
from civiclab.store.tracker import Tracker
from civiclab.web.asgi import Headers, Scope
from civiclab.web.csrf import CsrfTokens
from civiclab.web.headers import SecurityHeaders, security_headers

if TYPE_CHECKING:
    from civiclab.desk.oidc import OidcSignIn

MAX_BODY = 32 * 1024
UPLOAD_BODY = 2 * 1024 * 1024  # a signed review's upload form: the file (1 MB at most) and its envelope
UPLOAD_PATH_END = "/review/upload"
PAGE_CSP = (
    b"default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; form-action 'self'; "
    b"frame-ancestors 'none'; base-uri 'none'"
)
# The reports are civiclab's self-contained HTML (inline CSS, plots as data: URIs), shown in a frame.
REPORT_CSP = (
    b"default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; "
    b"frame-ancestors 'self'; base-uri 'none'"
)
PAGE_HEADERS = security_headers(PAGE_CSP)
REPORT_HEADERS = security_headers(REPORT_CSP, frames=b"SAMEORIGIN")


def headers_for(scope: Scope) -> Headers:
    """A report shown in the run page's frame gets its own policy (REPORT_CSP); every other page, PAGE_CSP."""
    return REPORT_HEADERS if scope.get("path", "").endswith("/report.html") else PAGE_HEADERS


def create_app(
    tracker: Tracker,
    accounts: AccountStore,
    *,
    trust: Path | None = None,
    secure_cookies: bool = False,
    background_verify: bool = True,
    limiter: LoginLimiter | None = None,
    oidc: OidcSignIn | None = None,
) -> Any:
    """The ASGI application of the desk (FastAPI behind the body limit and security headers)."""
    from civiclab.desk import routes
    from civiclab.web.limits import BodyLimit

    desk = Desk(
        tracker=tracker,
        accounts=accounts,
        cache=VerifyCache(tracker, trust, background=background_verify, warm=background_verify),
        secure_cookies=secure_cookies,
        sessions=Sessions(accounts),
        limiter=limiter or LoginLimiter(),
        csrf=CsrfTokens(),
        oidc=oidc,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        desk.cache.close()

    app = FastAPI(title="civiclab desk", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.desk = desk
    routes.register(app, desk)

    def too_large(scope: Any) -> tuple[bytes, bytes]:
        return b"request too large", b"text/plain; charset=utf-8"

    def upload_limit(scope: Any) -> int | None:
        return UPLOAD_BODY if str(scope.get("path", "")).endswith(UPLOAD_PATH_END) else None

    return SecurityHeaders(  # type: ignore[arg-type]
        BodyLimit(app, MAX_BODY, too_large, limit_for=upload_limit), headers_for
    )
