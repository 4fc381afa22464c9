"""The desk's pages and forms (registered on the FastAPI app by `create_app`)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from civiclab.desk import i18n, label_routes, oidc_routes
from civiclab.desk.auth import PRELOGIN_COOKIE, SESSION_COOKIE
from civiclab.desk.label_words import LABEL_MESSAGES
from civiclab.desk.pages import run_rows, statement_bytes
from civiclab.desk.reviewing import (
    MAX_UPLOAD,
    WRONG_PASSWORD,
    ReviewRefused,
    TooManyAttempts,
    append_uploaded,
    sign_review,
)
from civiclab.desk.run_reads import CompareCache, ReportCache, kept_facts, run_facts
from civiclab.desk.views import (
    HERE,
    Desk,
    healthz_route,
    install_errors,
    read_form,
    render,
    require,
    session_of,
    set_cookie,
    threaded,
)
from civiclab.desk.views import safe_next as _safe_next  # shared with the identity provider's sign-in
from civiclab.errors import TrackingError
from civiclab.evidence.review import recover_pending
from civiclab.web.csrf import CsrfTokens
from civiclab.web.templating import BASE_STYLESHEET

log = logging.getLogger(__name__)
MAX_COMPARE = 12
RunFacts = tuple[
    Any, Any, tuple[bool, Any], list[Any]
]  # summary, verification, (judged, agreement), comments
_RUN_ID_CHARS = set("0123456789abcdef")


def _run_id(run_id: str) -> str:
    if not 1 <= len(run_id) <= 64 or not set(run_id) <= _RUN_ID_CHARS:
        raise StarletteHTTPException(404)
    return run_id


def register(app: FastAPI, desk: Desk) -> None:
    install_errors(app, desk)
    healthz_route(app)
    reports = ReportCache()
    comparisons = CompareCache()
    css = {
        "form.css": BASE_STYLESHEET.read_bytes(),
        "desk.css": (HERE / "static" / "desk.css").read_bytes(),
    }

    @app.get("/static/{name}")
    async def static_file(name: str) -> Response:
        if name not in css:
            raise StarletteHTTPException(404)
        return Response(
            css[name], media_type="text/css; charset=utf-8", headers={"cache-control": "max-age=3600"}
        )

    @app.get("/")
    async def root() -> RedirectResponse:
        return RedirectResponse("/runs", status_code=303)

    # Login and logout ------------------------------------------------------------------------------

    def login_page(request: Request, anchor: str, status: int = 200, error: str = "") -> HTMLResponse:
        t = i18n.MESSAGES[app_lang(request)]
        response = render(
            desk,
            request,
            "login.html",
            status=status,
            csrf_anchor=anchor,
            page_title=t["login_title"],
            error=error,
            next=_safe_next(request.query_params.get("next")),
            oidc=desk.oidc,
        )
        set_cookie(desk, response, PRELOGIN_COOKIE, anchor)
        return response

    def app_lang(request: Request) -> str:
        from civiclab.desk.views import language

        return language(request)

    @app.get("/login", response_class=HTMLResponse)
    async def login_get(request: Request) -> Response:
        if session_of(desk, request) is not None:
            return RedirectResponse("/runs", status_code=303)
        anchor = request.cookies.get(PRELOGIN_COOKIE) or CsrfTokens.new_anchor()
        return login_page(request, anchor)

    @app.post("/login")
    async def login_post(request: Request) -> Response:
        if desk.oidc is not None and desk.oidc.only:  # --oidc-only: no password login at all
            raise StarletteHTTPException(404)
        anchor = request.cookies.get(PRELOGIN_COOKIE)
        fields = await read_form(desk, request, anchor)
        assert anchor is not None
        t = i18n.MESSAGES[app_lang(request)]
        name = fields.get("username", "").strip()[:64]
        client = request.client.host if request.client else "?"
        wait = desk.limiter.blocked(client, name)
        if wait > 0:
            response = login_page(request, anchor, 429, t["too_many"].format(s=int(wait) + 1))
            response.headers["retry-after"] = str(int(wait) + 1)
            return response
        user = await threaded(desk.accounts.authenticate, name, fields.get("password", ""))
        if user is None:
            desk.limiter.failed(client, name)
            return login_page(request, anchor, 401, t["login_failed"])
        desk.limiter.succeeded(client, name)
        # A new session id at every login: an id planted in the browser before is never promoted.
        session = desk.sessions.start(user.name, previous=request.cookies.get(SESSION_COOKIE))
        done = RedirectResponse(_safe_next(fields.get("next")), status_code=303)
        set_cookie(desk, done, SESSION_COOKIE, session.sid)
        done.delete_cookie(
            PRELOGIN_COOKIE, path="/", httponly=True, samesite="strict", secure=desk.secure_cookies
        )
        return done

    oidc_routes.register(app, desk, login_page)
    label_routes.register(app, desk, _run_id)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        session, _ = require(desk, request)
        await read_form(desk, request, session.sid)
        desk.sessions.end(session.sid)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(
            SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=desk.secure_cookies
        )
        return response

    # Runs ------------------------------------------------------------------------------------------

    @app.get("/runs", response_class=HTMLResponse)
    async def runs(request: Request) -> Response:
        session, user = require(desk, request)
        q = request.query_params
        chosen = {
            k: (q.get(k) or None) for k in ("experiment", "verify", "review", "recommendation", "synthetic")
        }
        rows, names = await threaded(run_rows, desk.tracker, desk.cache, **chosen)
        t = i18n.MESSAGES[app_lang(request)]
        return render(
            desk,
            request,
            "runs.html",
            user=user,
            csrf_anchor=session.sid,
            page_title=t["runs_title"],
            rows=rows,
            experiments=names,
            chosen=chosen,
        )

    async def run_view(
        request: Request, run_id: str, notice: str = "", problem: str = "", status: int = 200
    ) -> Response:
        session, user = require(desk, request)
        from civiclab.desk.pages import review_status, synthetic_of, verify_status
        from civiclab.reporting.answers import committee_words, reviews_problem

        facts = kept_facts(desk, run_id) or await threaded(run_facts, desk, run_id)
        summary, verification, (judged, judge_check), comments = facts
        lang = app_lang(request)
        t = i18n.MESSAGES[lang]
        failure = verification.first_failure()
        return render(
            desk,
            request,
            "run.html",
            status=status,
            user=user,
            csrf_anchor=session.sid,
            page_title=t["run_title"].format(run=run_id[:8]),
            run=summary,
            verification=verification,
            verify=verify_status(verification),
            review=review_status(verification),
            committee=committee_words(verification, lang),
            reviews_problem=reviews_problem(verification),
            synthetic=synthetic_of(summary),
            failure=failure,
            comments=comments,
            notice=notice,
            problem=problem,
            judged=judged,
            judge_check=judge_check,
            lw=LABEL_MESSAGES[lang],
        )

    @app.get("/runs/{run_id}", response_class=HTMLResponse)
    async def run_page(request: Request, run_id: str) -> Response:
        run_id = _run_id(run_id)
        t = i18n.MESSAGES[app_lang(request)]
        notice = ""
        if request.query_params.get("signed") or request.query_params.get("uploaded"):
            key = "upload_ok" if request.query_params.get("uploaded") else "signed_ok"
            notice = t[key].format(
                decision=t.get("d_" + request.query_params.get("decision", ""), ""),
                line=request.query_params.get("line", "?")[:8],
            )
        elif request.query_params.get("commented"):
            notice = t["comment_added"]
        return await run_view(request, run_id, notice=notice)

    @app.get("/runs/{run_id}/report.html", response_class=HTMLResponse)
    async def report_frame(request: Request, run_id: str) -> Response:
        require(desk, request)
        run_id = _run_id(run_id)
        data = reports.kept(desk, run_id, "html") or await threaded(reports.get, desk, run_id, "html")
        return Response(data, media_type="text/html; charset=utf-8")

    @app.get("/runs/{run_id}/scorecard.pdf")
    async def report_pdf(request: Request, run_id: str) -> Response:
        require(desk, request)
        run_id = _run_id(run_id)
        data = reports.kept(desk, run_id, "pdf") or await threaded(reports.get, desk, run_id, "pdf")
        name = f"scorecard-{run_id[:12]}.pdf"
        return Response(
            data,
            media_type="application/pdf",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    @app.get("/runs/{run_id}/statement.dsse.json")
    async def statement(request: Request, run_id: str) -> Response:
        require(desk, request)
        try:
            data = await threaded(statement_bytes, desk.tracker, _run_id(run_id))
        except TrackingError:
            raise StarletteHTTPException(404) from None
        if data is None:
            raise StarletteHTTPException(404)
        name = f"statement-{run_id[:12]}.dsse.json"
        return Response(
            data,
            media_type="application/json",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    @app.get("/runs/{run_id}/dimensions", response_class=HTMLResponse)
    async def dimensions(request: Request, run_id: str) -> Response:
        from civiclab.reporting.document import load_document

        session, user = require(desk, request)
        run_id = _run_id(run_id)
        try:
            verification = await threaded(desk.cache.verify, run_id)
            doc = await threaded(load_document, desk.tracker, run_id, verification=verification)
        except TrackingError:
            raise StarletteHTTPException(404) from None
        t = i18n.MESSAGES[app_lang(request)]
        return render(
            desk,
            request,
            "dimensions.html",
            user=user,
            csrf_anchor=session.sid,
            page_title=t["dimensions_title"].format(run=run_id[:8]),
            d=doc,
        )

    @app.post("/runs/{run_id}/review")
    async def review(request: Request, run_id: str) -> Response:
        run_id = _run_id(run_id)
        session, user = require(desk, request)
        fields = await read_form(desk, request, session.sid)
        t = i18n.MESSAGES[app_lang(request)]
        if not user.may_sign:
            raise StarletteHTTPException(403)
        # A review left half-recorded is completed (or rolled back) before the run is judged: the one
        # write that verifying leaves to the commands that review.
        await threaded(recover_pending, desk.tracker, run_id)
        verification = await threaded(desk.cache.verify, run_id)
        if not verification.ok:
            failure = verification.first_failure()
            why = f"{failure.name}: {failure.detail}" if failure else ""
            return await run_view(request, run_id, problem=t["cannot_review"].format(why=why), status=409)
        try:
            signed = await threaded(
                sign_review,
                desk.tracker,
                run_id,
                user,
                fields.get("password", ""),
                fields.get("decision", ""),
                fields.get("comment", "")[:4000],
                fields.get("conditions", "")[:4000],
                trust=desk.cache.trust,
                limiter=desk.signing,
                session_id=session.sid,
            )
        except TooManyAttempts as exc:
            why = t["too_many_signing"].format(s=exc.wait_s)
            limited = await run_view(request, run_id, problem=t["sign_failed"].format(why=why), status=429)
            limited.headers["retry-after"] = str(exc.wait_s)
            return limited
        except ReviewRefused as exc:
            why = t["wrong_password"] if str(exc) == WRONG_PASSWORD else str(exc)
            return await run_view(request, run_id, problem=t["sign_failed"].format(why=why), status=422)
        return RedirectResponse(
            f"/runs/{run_id}?signed=1&decision={quote(signed.decision)}&line={signed.audit_seq + 1}",
            status_code=303,
        )

    @app.post("/runs/{run_id}/review/upload")
    async def review_upload(request: Request, run_id: str) -> Response:
        from civiclab.desk.upload import read_upload

        run_id = _run_id(run_id)
        session, user = require(desk, request)
        data = await read_upload(desk, request, session.sid, "review", MAX_UPLOAD)
        if not user.may_sign:
            raise StarletteHTTPException(403)
        t = i18n.MESSAGES[app_lang(request)]
        try:
            await threaded(desk.tracker.get_run, run_id)
        except TrackingError:
            raise StarletteHTTPException(404) from None
        if data is None:
            why = t["upload_missing"]
            return await run_view(request, run_id, problem=t["upload_refused"].format(why=why), status=400)
        if len(data) > MAX_UPLOAD:
            why = t["upload_too_large"]
            return await run_view(request, run_id, problem=t["upload_refused"].format(why=why), status=413)
        # A review left half-recorded is completed (or rolled back) first, as for a review signed here.
        await threaded(recover_pending, desk.tracker, run_id)
        try:
            landed = await threaded(append_uploaded, desk.tracker, run_id, data, desk.cache.trust)
        except ReviewRefused as exc:
            problem = t["upload_refused"].format(why=str(exc))
            return await run_view(request, run_id, problem=problem, status=422)
        return RedirectResponse(
            f"/runs/{run_id}?uploaded=1&decision={quote(landed.decision)}&line={landed.audit_seq + 1}",
            status_code=303,
        )

    @app.post("/runs/{run_id}/comment")
    async def comment(request: Request, run_id: str) -> Response:
        run_id = _run_id(run_id)
        session, user = require(desk, request)
        fields = await read_form(desk, request, session.sid)
        if not user.may_comment:
            raise StarletteHTTPException(403)
        text = fields.get("comment", "").strip()[:4000]
        if not text:
            raise StarletteHTTPException(400)
        try:
            await threaded(desk.tracker.get_run, run_id)
        except TrackingError:
            raise StarletteHTTPException(404) from None
        await threaded(desk.accounts.add_comment, run_id, user, text)
        return RedirectResponse(f"/runs/{run_id}?commented=1#comments", status_code=303)

    # Comparison ------------------------------------------------------------------------------------

    def chosen_runs(request: Request) -> list[str]:
        ids = [_run_id(r) for r in request.query_params.getlist("run")][:MAX_COMPARE]
        return list(dict.fromkeys(ids))

    @app.get("/compare", response_class=HTMLResponse)
    async def compare(request: Request) -> Response:
        session, user = require(desk, request)
        ids = chosen_runs(request)
        t = i18n.MESSAGES[app_lang(request)]
        return render(
            desk,
            request,
            "compare.html",
            status=200 if len(ids) >= 2 else 400,
            user=user,
            csrf_anchor=session.sid,
            page_title=t["compare_title"].format(n=len(ids)),
            run_ids=ids,
            query="&".join(f"run={r}" for r in ids),
        )

    @app.get("/compare/report.html", response_class=HTMLResponse)
    async def compare_frame(request: Request) -> Response:
        require(desk, request)
        ids = chosen_runs(request)
        if len(ids) < 2:
            raise StarletteHTTPException(400)

        return HTMLResponse(await threaded(comparisons.get, desk, ids))


__all__: list[Any] = ["register"]
