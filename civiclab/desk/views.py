"""What the desk's pages share: the Desk state, templates, language, sessions, forms and errors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from civiclab.desk import i18n
from civiclab.desk.accounts import AccountStore, User
from civiclab.desk.auth import SESSION_COOKIE, LoginLimiter, Session, Sessions, SigningLimiter
from civiclab.desk.pages import REVIEW_STATUSES, VERIFY_STATUSES, VerifyCache
from civiclab.store.tracker import Tracker
from civiclab.web.csrf import CSRF_FIELD, CsrfTokens
from civiclab.web.i18n import choose_language, language_links
from civiclab.web.templating import environment

if TYPE_CHECKING:
    from civiclab.desk.oidc import OidcSignIn

HERE = Path(__file__).parent


class LoginRequired(Exception):
    def __init__(self, path: str) -> None:
        self.path = path


@dataclass
class Desk:
    """What the pages share: the store, accounts, sessions, and the verification cache."""

    tracker: Tracker
    accounts: AccountStore
    cache: VerifyCache
    secure_cookies: bool
    sessions: Sessions
    limiter: LoginLimiter
    csrf: CsrfTokens
    signing: SigningLimiter = field(default_factory=SigningLimiter)
    oidc: OidcSignIn | None = None
    """Sign-in with the administration's identity provider, when the desk was started with one."""


# Helpers the routes share -------------------------------------------------------------------------

ENV = environment(HERE / "templates")


def when(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def slug(state: str) -> str:
    """A state as a CSS class name: "awaiting chair" -> "awaiting-chair"."""
    return "-".join(str(state).split())


ENV.globals.update(when=when, VERIFY_STATUSES=VERIFY_STATUSES, REVIEW_STATUSES=REVIEW_STATUSES)
ENV.filters["slug"] = slug


def language(request: Request) -> str:
    return choose_language(
        i18n.LANGUAGES,
        query=request.query_params.get("lang"),
        cookie=request.cookies.get(i18n.LANG_COOKIE),
        accept=request.headers.get("accept-language"),
    )


def session_of(desk: Desk, request: Request) -> tuple[Session, User] | None:
    session = desk.sessions.get(request.cookies.get(SESSION_COOKIE))
    if session is None:
        return None
    user = desk.accounts.get(session.user)
    return (session, user) if user is not None and user.active else None


def require(desk: Desk, request: Request) -> tuple[Session, User]:
    found = session_of(desk, request)
    if found is None:
        raise LoginRequired(request.url.path)
    return found


def safe_next(target: str | None) -> str:
    """Where to go after login: only a path of this site, never an open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/runs"
    return target


def set_cookie(desk: Desk, response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name, value, httponly=True, samesite="strict", secure=desk.secure_cookies, path="/", max_age=max_age
    )


def render(
    desk: Desk,
    request: Request,
    template: str,
    *,
    status: int = 200,
    user: User | None = None,
    csrf_anchor: str | None = None,
    **values: Any,
) -> HTMLResponse:
    lang = language(request)
    t = i18n.MESSAGES[lang]
    # The same page (its runs, filters) in the other language.
    kept = [
        (k, v)
        for k, v in request.query_params.multi_items()
        if k not in ("lang", "signed", "uploaded", "commented")
    ]
    switch = language_links(
        lang,
        i18n.LANGUAGES,
        lambda code: i18n.MESSAGES[code]["language_name"],
        lambda code: f"{request.url.path}?{urlencode([*kept, ('lang', code)])}",
    )
    html = ENV.get_template(template).render(
        lang=lang,
        t=t,
        user=user,
        csrf=desk.csrf.token(csrf_anchor) if csrf_anchor else "",
        csrf_field=CSRF_FIELD,
        other_languages=switch,
        **values,
    )
    response = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in i18n.LANGUAGES:
        set_cookie(desk, response, i18n.LANG_COOKIE, lang, max_age=365 * 86400)
    return response


async def read_form(desk: Desk, request: Request, anchor: str | None) -> dict[str, str]:
    """The posted fields, once the CSRF token matches the session (or pre-login cookie); else 403."""
    try:
        form = await request.form(max_files=0, max_fields=20)
    except Exception:  # a body the form parser cannot read
        raise StarletteHTTPException(400) from None
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    if not desk.csrf.check(anchor, fields.get(CSRF_FIELD)):
        raise StarletteHTTPException(403, "csrf")
    return fields


def install_errors(app: FastAPI, desk: Desk) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(exc.path)}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        key = {404: "not_found", 403: "forbidden"}.get(exc.status_code, "bad_request")
        if exc.detail == "csrf":
            key = "bad_form"
        found = session_of(desk, request)
        t = i18n.MESSAGES[language(request)]
        return render(
            desk,
            request,
            "error.html",
            status=exc.status_code,
            user=found[1] if found else None,
            csrf_anchor=found[0].sid if found else None,
            page_title=t["error_title"],
            message=t[key],
        )


async def threaded(fn: Any, *args: Any, **kwargs: Any) -> Any:
    return await run_in_threadpool(fn, *args, **kwargs)


def healthz_route(app: FastAPI) -> None:
    @app.get("/healthz", response_class=PlainTextResponse)
    async def healthz() -> str:
        return "ok"
