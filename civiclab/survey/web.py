"""The participant web form: FastAPI with server-rendered, accessible pages in French and English.

Pages: `/{lang}/` (invitation code), `/{lang}/survey` (one page per instrument), `/{lang}/thanks`,
`/{lang}/results` (public, k-anonymous), `/admin/export.csv|json` (behind a bearer token read
from an environment variable). Answers: 303 after a submission, 400 for a missing CSRF token or
a malformed form or a code that is unknown or used (one answer for both), 429 past the per-client rate limit, 413 for an oversized body, 422 for invalid answers.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from civiclab.home import text_setting
from civiclab.privacy.spreadsheet import neutralise_row
from civiclab.survey import forms
from civiclab.survey.collect import SurveyContext, gather
from civiclab.survey.groupcommit import GroupCommit
from civiclab.survey.messages import MESSAGES, messages
from civiclab.survey.ratelimit import configured_limit
from civiclab.survey.results import public_results
from civiclab.survey.scoring import score_survey
from civiclab.survey.security import CSRF_COOKIE, FORM_HEADERS, admin_token_ok
from civiclab.survey.store import InvitationUnknown, SurveyStore, normalise_code
from civiclab.survey.submissions import Submission, store_submissions
from civiclab.web.csrf import CSRF_FIELD, CsrfTokens
from civiclab.web.direct import DirectPost
from civiclab.web.formbody import UrlencodedReader, is_urlencoded
from civiclab.web.headers import SecurityHeaders
from civiclab.web.i18n import language_links, path_language
from civiclab.web.limits import BodyLimit, RateLimit
from civiclab.web.templating import BASE_STYLESHEET, environment

ADMIN_TOKEN_ENV = "CIVICLAB_SURVEY_ADMIN_TOKEN"
MAX_BODY = 64 * 1024
WRITERS, MAX_BATCH = 4, 256  # transactions in flight per process, submissions per transaction
RESULTS_TTL_S = 60.0
HERE = Path(__file__).parent
STATIC = {"form.css": "text/css; charset=utf-8", "form.js": "text/javascript; charset=utf-8"}
STATIC_FILES = {"form.css": BASE_STYLESHEET, "form.js": HERE / "static" / "form.js"}


def create_app(
    ctx: SurveyContext,
    store: SurveyStore,
    *,
    secret: bytes | None = None,
    max_body: int = MAX_BODY,
    rate_limit: int | None = None,
) -> Any:
    """The ASGI application of one experiment's survey (FastAPI wrapped in the body and rate limits).

    `rate_limit`: POSTs per client per minute (default $CIVICLAB_SURVEY_RATE_LIMIT or 30; 0 is off).
    """
    posts_per_minute = configured_limit(rate_limit)
    env = environment(HERE / "templates")
    env.auto_reload = False  # templates ship with civiclab: compiled once, never stat-ed again per page
    tokens = CsrfTokens(secret)
    instruments = ctx.instruments
    plan = forms.FormPlan(instruments)  # what each submission is checked against, built once
    body_reader = UrlencodedReader([*plan.columns, *forms.CONTROL_FIELDS], forms.MAX_FIELDS + 10)
    languages = list(ctx.spec.languages)
    static = {name: STATIC_FILES[name].read_bytes() for name in STATIC}
    results_cache: dict[str, tuple[float, Any]] = {}

    async def store_batch(batch: list[Submission]) -> list[str | None]:
        return await run_in_threadpool(store_submissions, store, ctx.experiment, batch)

    # Submissions arriving together share a transaction; SQLite takes one writer at a time anyway.
    submissions: GroupCommit[Submission, str | None] = GroupCommit(
        store_batch, writers=1 if store.url.startswith("sqlite") else WRITERS, max_batch=MAX_BATCH
    )
    app = FastAPI(title="civiclab survey", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.submissions = submissions  # for the tests: how many transactions stored them

    def title(lang: str) -> str:
        return ctx.spec.title.get(lang) or messages(lang)["default_title"]  # type: ignore[call-overload]

    def render(request: Request, template: str, lang: str, status: int = 200, **values: Any) -> HTMLResponse:
        cookie = request.cookies.get(CSRF_COOKIE)
        anchor = cookie if cookie is not None and tokens.usable_anchor(cookie) else tokens.new_anchor()
        fresh = anchor != cookie
        # The language switch is offered outside the questionnaire only: following it mid-way drops answers.
        switch = values.pop("switch", None)
        others = (
            language_links(
                lang,
                languages,
                lambda code: MESSAGES[code]["language_name"],
                lambda code: f"/{code}/{switch}",
            )
            if switch is not None
            else []
        )
        html = env.get_template(template).render(
            lang=lang,
            t=messages(lang),
            survey_title=title(lang),
            csrf=tokens.token(anchor),
            other_languages=others,
            k=ctx.k,
            **values,
        )
        response = HTMLResponse(html, status_code=status)
        if fresh:
            response.set_cookie(
                CSRF_COOKIE,
                anchor,
                httponly=True,
                samesite="strict",
                path="/",
                secure=request.url.scheme == "https",  # behind a TLS proxy the cookie never travels in clear
            )
        return response

    def error_page(request: Request, lang: str, status: int, key: str, detail: str = "") -> HTMLResponse:
        return render(
            request,
            "error.html",
            lang,
            status,
            message=messages(lang)[key],
            detail=detail,
            page_title=messages(lang)[key],
        )

    def lang_or_404(lang: str) -> str:
        if lang not in languages:
            raise StarletteHTTPException(404)
        return lang

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        lang = path_language(request.url.path, languages)
        key = {404: "not_found", 413: "too_large"}.get(exc.status_code, "bad_request")
        return error_page(request, lang, exc.status_code, key)

    @app.get("/healthz", response_class=PlainTextResponse)
    async def healthz() -> str:
        return "ok"

    @app.get("/static/{name}")
    async def static_file(name: str) -> Response:
        if name not in static:
            raise StarletteHTTPException(404)
        return Response(static[name], media_type=STATIC[name], headers={"cache-control": "max-age=3600"})

    @app.get("/")
    async def root() -> RedirectResponse:
        return RedirectResponse(f"/{languages[0]}/", status_code=303)

    @app.get("/{lang}/", response_class=HTMLResponse)
    async def start(request: Request, lang: str) -> HTMLResponse:
        lang = lang_or_404(lang)
        return render(
            request,
            "start.html",
            lang,
            page_title=messages(lang)["start_heading"],
            errors=[],
            code="",
            switch="",
        )

    async def read_form(request: Request) -> dict[str, str]:
        pairs: list[tuple[str, Any]]
        try:
            if is_urlencoded(request.headers.get("content-type")):  # what our pages send
                pairs = body_reader.pairs(await request.body())
            else:
                form = await request.form(max_files=0, max_fields=forms.MAX_FIELDS + 10)
                pairs = list(form.multi_items())
        except Exception as exc:  # a body the multipart/urlencoded parser cannot read
            raise forms.FormProblem(400, f"unreadable form: {type(exc).__name__}") from None
        fields = plan.read_fields(pairs)
        if not tokens.check(request.cookies.get(CSRF_COOKIE), fields.get(CSRF_FIELD)):
            raise forms.FormProblem(400, "missing or invalid CSRF token")
        return fields

    def problem_page(request: Request, lang: str, problem: forms.FormProblem) -> HTMLResponse:
        key = "bad_form" if "CSRF" in str(problem) else "bad_request"
        return error_page(request, lang, problem.status, key, detail=str(problem))

    def survey_page(
        request: Request,
        lang: str,
        page: int,
        code: str,
        answers: dict[str, Any],
        errors: list[forms.FieldError],
        status: int = 200,
    ) -> HTMLResponse:
        instrument = instruments[page]
        t = messages(lang)
        return render(
            request,
            "page.html",
            lang,
            status,
            page_title=f"{t['step'].format(n=page + 1, total=len(instruments))} : {instrument.title.get(lang)}"
            if lang == "fr"
            else f"{t['step'].format(n=page + 1, total=len(instruments))}: {instrument.title.get(lang)}",
            instrument_title=instrument.title.get(lang),
            intro=instrument.intro.get(lang) if instrument.intro else "",
            page_index=page,
            page_count=len(instruments),
            code=code,
            questions=forms.page_questions(instrument, answers, errors, lang),
            carried=forms.carried_fields(instruments, page, answers),
            errors=errors,
            last=page == len(instruments) - 1,
        )

    async def code_state(code: str) -> str:
        """`open`, `used` or `unknown` (an empty code is unknown)."""
        if not code:
            return "unknown"
        try:
            invitation = await run_in_threadpool(store.invitation, ctx.experiment, code)
        except InvitationUnknown:
            return "unknown"
        return invitation.state

    @app.post("/{lang}/start", response_class=HTMLResponse)
    async def start_post(request: Request, lang: str) -> HTMLResponse:
        lang = lang_or_404(lang)
        try:
            fields = await read_form(request)
        except forms.FormProblem as problem:
            return problem_page(request, lang, problem)
        code = normalise_code(fields.get("code", ""))
        t = messages(lang)
        state = await code_state(code)
        if state == "open":
            return survey_page(request, lang, 0, code, {}, [])
        # One answer for a used and an unknown code: a different one would tell a guesser a code exists.
        error = forms.FieldError("code", "code", t["code_invalid" if code else "code_missing"], 0)
        return render(
            request,
            "start.html",
            lang,
            422,
            page_title=t["start_heading"],
            errors=[error],
            code=fields.get("code", "")[:40],
        )

    async def survey_post(request: Request, lang: str) -> Response:
        """POST /{lang}/survey (`lang` one of the survey's): reached through `DirectPost`, not the router."""
        try:
            fields = await read_form(request)
            page = forms.read_page(fields, len(instruments))
        except forms.FormProblem as problem:
            return problem_page(request, lang, problem)
        code = normalise_code(fields.get("code", ""))
        action = fields.get("action", "next")
        answers, errors = plan.validate(fields, range(page + 1), lang)
        final = action != "back" and not errors and page == len(instruments) - 1
        if not final:  # a final submission checks its code in the same transaction that stores it
            if await code_state(code) != "open":  # used or unknown: the same answer
                return error_page(request, lang, 400, "code_invalid")
            if action == "back":
                return survey_page(request, lang, max(page - 1, 0), code, answers, [])
            if errors:
                first = min(e.page for e in errors)
                return survey_page(
                    request, lang, first, code, answers, [e for e in errors if e.page == first], 422
                )
            return survey_page(request, lang, page + 1, code, answers, [])
        stored = await submissions.submit(Submission(code, answers, lang, len(instruments)))
        if stored is None:  # unknown or used (perhaps a moment ago, by the same code in another tab)
            return error_page(request, lang, 400, "code_invalid")
        results_cache.clear()
        return RedirectResponse(f"/{lang}/thanks", status_code=303)

    @app.get("/{lang}/thanks", response_class=HTMLResponse)
    async def thanks(request: Request, lang: str) -> HTMLResponse:
        lang = lang_or_404(lang)
        return render(
            request, "thanks.html", lang, page_title=messages(lang)["thanks_heading"], switch="thanks"
        )

    def compute_metrics() -> Any:
        cached = results_cache.get("metrics")
        if cached is not None and time.monotonic() - cached[0] < RESULTS_TTL_S:
            return cached[1]
        got = gather(ctx.experiment, ctx.spec, store_url=store.url)
        metrics = score_survey(
            instruments,
            got.responses,
            got.scoring_options(ctx.k, resamples=ctx.spec.resamples),
        )
        results_cache["metrics"] = (time.monotonic(), (metrics, bool(got.synthetic_files)))
        return metrics, bool(got.synthetic_files)

    @app.get("/{lang}/results", response_class=HTMLResponse)
    async def results(request: Request, lang: str) -> HTMLResponse:
        lang = lang_or_404(lang)
        if not ctx.spec.public_results:
            raise StarletteHTTPException(404)
        metrics, synthetic = await run_in_threadpool(compute_metrics)
        findings = public_results(instruments, metrics, lang, ctx.k)
        findings.synthetic = synthetic
        heading = "Ce que les participants ont dit" if lang == "fr" else "What participants said"
        return render(
            request,
            "results.html",
            lang,
            page_title=heading,
            heading=heading,
            results=findings,
            switch="results",
        )

    def admin_rows() -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        columns = [col for inst in instruments for col in inst.columns]
        segment_columns = {attr: col for attr, col in ctx.spec.segments.items() if col != "startlanguage"}
        for i, r in enumerate(store.responses(ctx.experiment), start=1):
            row: dict[str, Any] = {
                "id": i,
                "submitdate": r.submitted_at or "",
                "lastpage": r.lastpage or "",
                "startlanguage": r.language,
            }
            for attr, col in segment_columns.items():
                row[col] = r.segment.get(attr, "")
            for col in columns:
                row[col] = r.answers.get(col, "")
            rows.append(row)
        return rows

    def admin_guard(request: Request) -> Response | None:
        expected = text_setting(ADMIN_TOKEN_ENV)
        if not expected:
            return PlainTextResponse(f"admin export disabled: set {ADMIN_TOKEN_ENV}", status_code=404)
        if not admin_token_ok(expected, request.headers.get("authorization")):
            return PlainTextResponse(
                "a valid bearer token is required", status_code=401, headers={"www-authenticate": "Bearer"}
            )
        return None

    @app.get("/admin/export.json")
    async def export_json(request: Request) -> Response:
        refused = admin_guard(request)
        if refused is not None:
            return refused
        rows = await run_in_threadpool(admin_rows)
        return JSONResponse({"experiment": ctx.experiment, "responses": rows})

    @app.get("/admin/export.csv")
    async def export_csv(request: Request) -> Response:
        refused = admin_guard(request)
        if refused is not None:
            return refused
        rows = await run_in_threadpool(admin_rows)
        out = io.StringIO()
        header = ["id", "submitdate", "lastpage", "startlanguage"]
        header += [c for c in ctx.spec.segments.values() if c != "startlanguage"]
        header += [col for inst in instruments for col in inst.columns]
        writer = csv.DictWriter(
            out, fieldnames=header, lineterminator="\r\n"
        )  # RFC 4180: a CR in an answer is quoted
        writer.writeheader()
        writer.writerows(neutralise_row(row) for row in rows)  # no formula runs when opened
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{ctx.experiment}-responses.csv"'},
        )

    def too_large(scope: Any, key: str = "too_large") -> tuple[bytes, bytes]:
        lang = path_language(str(scope.get("path", "/")), languages)
        t = messages(lang)
        html = env.get_template("error.html").render(
            lang=lang,
            t=t,
            survey_title=title(lang),
            csrf="",
            other_languages=[],
            k=ctx.k,
            message=t[key],  # type: ignore[literal-required]
            detail="",
            page_title=t[key],  # type: ignore[literal-required]
        )
        return html.encode(), b"text/html; charset=utf-8"

    def rate_limited(scope: Any) -> tuple[bytes, bytes]:
        return too_large(scope, "rate_limited")

    direct = DirectPost(app, "survey", languages, survey_post)
    limited = RateLimit(BodyLimit(direct, max_body, too_large), posts_per_minute, rate_limited)
    return SecurityHeaders(limited, FORM_HEADERS)
