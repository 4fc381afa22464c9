"""The desk's pages of sign-in with an identity provider: `/login/oidc` and its callback (`civiclab.desk.oidc`).

They exist only when the desk was started with `--oidc-issuer`. A sign-in ends as a password login does:
a new session with a fresh id, for a desk account that already exists.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from civiclab.desk import i18n
from civiclab.desk.auth import PRELOGIN_COOKIE, SESSION_COOKIE
from civiclab.desk.oidc import CALLBACK_PATH, FLOW_COOKIE, SIGN_IN_TTL_S, OidcSignIn, SignInRefused
from civiclab.desk.views import Desk, language, render, safe_next, session_of, set_cookie, threaded
from civiclab.web.csrf import CsrfTokens

log = logging.getLogger(__name__)
FLOW_PATH = "/login/oidc"
# Refusals that are about who the person is (403); the others are a flow that went wrong (400).
WHO = ("oidc_no_account", "oidc_role", "oidc_unverified_email", "oidc_no_claim")
LoginPage = Callable[[Request, str, int, str], HTMLResponse]


def register(app: FastAPI, desk: Desk, login_page: LoginPage) -> None:
    def sign_in(request: Request) -> OidcSignIn:
        if desk.oidc is None:
            raise StarletteHTTPException(404)
        return desk.oidc

    @app.get(FLOW_PATH)
    async def oidc_begin(request: Request) -> Response:
        oidc = sign_in(request)
        if session_of(desk, request) is not None:
            return RedirectResponse("/runs", status_code=303)
        url, binding = oidc.begin(safe_next(request.query_params.get("next")))
        response = RedirectResponse(url, status_code=303)
        response.set_cookie(
            FLOW_COOKIE,
            binding,
            max_age=SIGN_IN_TTL_S,
            path=FLOW_PATH,
            httponly=True,
            samesite="lax",
            secure=desk.secure_cookies,
        )
        return response

    @app.get(CALLBACK_PATH)
    async def oidc_callback(request: Request) -> Response:
        oidc = sign_in(request)
        query = request.query_params
        try:
            if any(len(query.getlist(k)) > 1 for k in ("state", "code", "iss", "error")):
                raise SignInRefused("oidc_expired")
            claims, target = await oidc.finish(dict(query), request.cookies.get(FLOW_COOKIE))
            name = oidc.account_name(claims)
            user = await threaded(desk.accounts.get, name)
            if user is None or not user.active:  # a disabled account signs in no more than by password
                raise SignInRefused("oidc_no_account", name=name)
            oidc.check_role(claims, user.name, user.role)
        except SignInRefused as exc:
            log.warning("desk sign-in with %s refused: %s %s", oidc.name, exc.reason, exc.values)
            t = i18n.MESSAGES[language(request)]
            anchor = request.cookies.get(PRELOGIN_COOKIE) or CsrfTokens.new_anchor()
            message = t[exc.reason].format(provider=oidc.name, **exc.values)
            refused = login_page(request, anchor, 403 if exc.reason in WHO else 400, message)
            _forget_flow(desk, refused)
            return refused
        log.info("desk user %s signed in with %s (subject %s)", user.name, oidc.name, claims["sub"])
        # A new session id, as at a password login: an id planted in the browser before is never promoted.
        session = desk.sessions.start(user.name, previous=request.cookies.get(SESSION_COOKIE))
        t = i18n.MESSAGES[language(request)]
        # A page of the desk that goes on by itself, not a redirect: the provider sent the browser here
        # across sites, and a redirect would carry on that cross-site chain, where the browser withholds
        # the session's SameSite=Strict cookie.
        done = render(
            desk,
            request,
            "signed_in.html",
            user=user,
            csrf_anchor=session.sid,
            page_title=t["oidc_signed_in"],
            target=target,
        )
        set_cookie(desk, done, SESSION_COOKIE, session.sid)
        done.delete_cookie(
            PRELOGIN_COOKIE, path="/", httponly=True, samesite="strict", secure=desk.secure_cookies
        )
        _forget_flow(desk, done)
        return done


def _forget_flow(desk: Desk, response: Response) -> None:
    response.delete_cookie(
        FLOW_COOKIE, path=FLOW_PATH, httponly=True, samesite="lax", secure=desk.secure_cookies
    )
