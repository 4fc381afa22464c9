"""The participant-facing journey: enrolment, consent, the 3D scene, its plain-page twin, stop and withdrawal.

Pages: `/` (participation code), `/consent`, `/scene` (A-Frame), `/twin/{step}` (plain HTML),
`/stop` (leave, or leave and withdraw), `/finish`; `/api/event` takes the scene's typed events.
A used and an unknown code get the same answer; the scene and the twin answer 403 without an
enrolled, consenting participant. Statements go to the sink as they happen.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from civiclab.survey import (
    InvitationUnknown,
    InvitationUsed,
    SurveyStore,
    normalise_code,
    redeem,
    store_answers,
    withdraw_person,
)
from civiclab.web import CSRF_FIELD, BodyLimit, CsrfTokens, SecurityHeaders, security_headers
from pilots.journey.model import Journey
from pilots.journey.participants import questionnaires
from pilots.journey.participants.scene import IMMERSIVE, caption_of, scene_html
from pilots.journey.participants.sessions import COOKIE, Participant, Participants
from pilots.journey.participants.sinks import StatementSink
from pilots.journey.participants.telemetry import ExitSummary, ParticipantEvent, StatementMaker

HERE = Path(__file__).parent
STATIC = {
    "aframe-v1.8.0.min.js": "text/javascript; charset=utf-8",
    "scene.js": "text/javascript; charset=utf-8",
    "scene-config.js": "text/javascript; charset=utf-8",
    "scene.css": "text/css; charset=utf-8",
    "twin.css": "text/css; charset=utf-8",
}
ANCHOR = "civiclab_anchor"
# A-Frame writes its own <style> elements and builds textures from blobs; nothing leaves the origin.
CSP = (
    b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    b"connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
REASONS = [
    ("sickness", "I feel dizzy or sick"),
    ("discomfort", "The headset or the 3D is uncomfortable"),
    ("technical", "Something does not work"),
    ("other", "Another reason"),
]
CODE_REFUSED = "This code cannot be used. Check it, or ask the person who gave it to you for a new one."


class Served:
    """What one served journey needs: the graph, where codes are checked and statements go."""

    def __init__(
        self,
        experiment: str,
        journey: Journey,
        store: SurveyStore,
        sink: StatementSink,
        governance: dict[str, str],
        salt: str = "",
    ) -> None:
        self.experiment = experiment
        self.journey = journey
        self.store = store
        self.sink = sink
        self.governance = governance
        self.maker = StatementMaker(experiment, journey.id, "https://w3id.org/civiclab/participants")
        self.participants = Participants()
        self.salt = salt

    def person(self, p: Participant) -> str:
        """The pseudonym a run gives this participant's session (`registration` in its record)."""
        from pilots.journey.xapi_statement import pseudonym

        return pseudonym(p.registration.lower(), self.salt)

    def send(self, p: Participant, statements: list[dict[str, Any]]) -> None:
        self.sink.post(statements)

    def record(self, p: Participant, verb: str, step: str | None = None, **result: Any) -> None:
        activity = self.maker.activity(step)
        st = self.maker.statement(
            p.pseudonym, p.registration, p.segment, verb, activity, channel=p.channel, result=result or None
        )
        self.send(p, [st])


def create_app(served: Served, *, secret: bytes | None = None) -> Any:
    """The ASGI application of a served journey (FastAPI, wrapped in the body limit and security headers)."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    tokens = CsrfTokens(secret)
    journey = served.journey
    scene = scene_html(journey)
    static = {name: (HERE / "static" / name).read_bytes() for name in STATIC}
    path = journey.main_path()
    app = FastAPI(title="civiclab journey", docs_url=None, redoc_url=None, openapi_url=None)

    def anchor_of(request: Request) -> tuple[str, bool]:
        token = request.cookies.get(COOKIE)
        if token and served.participants.get(token) is not None:
            return token, False
        cookie = request.cookies.get(ANCHOR)
        if cookie is not None and tokens.usable_anchor(cookie):
            return cookie, False
        return tokens.new_anchor(), True

    def render(request: Request, template: str, title: str, status: int = 200, **values: Any) -> HTMLResponse:
        anchor, fresh = anchor_of(request)
        html = env.get_template(template).render(
            page_title=title, journey_title=journey.title, csrf=tokens.token(anchor), **values
        )
        response = HTMLResponse(html, status_code=status)
        if fresh:
            response.set_cookie(ANCHOR, anchor, httponly=True, samesite="strict", path="/")
        return response

    def message(request: Request, heading: str, *lines: str, status: int = 200, **extra: Any) -> HTMLResponse:
        return render(request, "message.html", heading, status, heading=heading, lines=lines, **extra)

    def participant(request: Request) -> Participant:
        """The enrolled, consenting participant of this request, or 403."""
        p = served.participants.get(request.cookies.get(COOKIE))
        if p is None or not p.consented:
            raise HTTPException(403)
        return p

    async def form(request: Request) -> dict[str, str]:
        data = await request.form(max_files=0, max_fields=100)
        fields = {k: v for k, v in data.items() if isinstance(v, str)}
        anchor, _ = anchor_of(request)
        if not tokens.check(anchor, fields.get(CSRF_FIELD)):
            raise HTTPException(400)
        return fields

    @app.exception_handler(HTTPException)
    async def refused(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 403:
            return message(
                request, "Enrol first", "This page is for enrolled participants who have agreed to take part.",
                status=403, link=("/", "Enter your participation code"),
            )  # fmt: skip
        return message(request, "This request cannot be handled", status=exc.status_code, link=("/", "Start"))

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response("ok", media_type="text/plain")

    @app.get("/static/{name}")
    async def static_file(name: str) -> Response:
        if name not in static:
            raise HTTPException(404)
        return Response(static[name], media_type=STATIC[name], headers={"cache-control": "max-age=3600"})

    @app.get("/", response_class=HTMLResponse)
    async def start(request: Request) -> HTMLResponse:
        return render(request, "enrol.html", "Take part", error=None)

    @app.post("/enrol")
    async def enrol(request: Request) -> Response:
        fields = await form(request)
        code = normalise_code(fields.get("code", ""))
        try:
            if not code:
                raise InvitationUnknown("no code")
            segment = await run_in_threadpool(redeem, served.store, served.experiment, code)
        except (InvitationUnknown, InvitationUsed):
            # One answer for both: another would tell a guesser that a code exists.
            return render(request, "enrol.html", "Take part", 422, error=CODE_REFUSED)
        token, _ = served.participants.enrol(segment)
        response = RedirectResponse("/consent", status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")
        return response

    @app.get("/consent", response_class=HTMLResponse)
    async def consent(request: Request) -> HTMLResponse:
        if served.participants.get(request.cookies.get(COOKIE)) is None:
            raise HTTPException(403)
        return render(
            request, "consent.html", "Before you start", stop=True, procedure=journey.procedure or journey.title,
            controller=served.governance.get("data_controller", ""), retention=served.governance.get("retention", ""),
        )  # fmt: skip

    @app.post("/consent")
    async def consent_post(request: Request) -> Response:
        p = served.participants.get(request.cookies.get(COOKIE))
        if p is None:
            raise HTTPException(403)
        fields = await form(request)
        if fields.get("agree") != "yes":
            return message(request, "Agreement needed", "Tick the box to agree, or stop here.", status=422,
                           stop=True, link=("/consent", "Back"))  # fmt: skip
        p.consented = True
        choice = fields.get("start")
        p.channel = IMMERSIVE if choice == "scene" else "accessible_twin"
        await run_in_threadpool(served.record, p, "initialized")
        return RedirectResponse("/questions/before", status_code=303)

    def first_page(p: Participant) -> str:
        return "/scene" if p.channel == IMMERSIVE else f"/twin/{journey.start}"

    phases = {
        "before": (questionnaires.BEFORE, "How do you feel right now?", "A few questions before you start."),
        "after": (
            questionnaires.AFTER_IMMERSION,
            "How do you feel now?",
            "A few questions now that you have finished.",
        ),
    }

    @app.get("/questions/{phase}", response_class=HTMLResponse)
    async def questions(request: Request, phase: str) -> HTMLResponse:
        p = participant(request)
        if phase not in phases:
            raise HTTPException(404)
        names, heading, lead = phases[phase]
        if phase == "after" and not p.immersive_s and "scene" not in p.flags:
            names = ("ssq_after",)  # presence is asked only of those who were in the 3D town hall
        shown = [questionnaires.view(i) for i in questionnaires.load(names)]
        return render(
            request, "questionnaire.html", heading, stop=phase == "before", heading=heading, lead=lead,
            instruments=shown, action=f"/questions/{phase}", error=None,
        )  # fmt: skip

    @app.post("/questions/{phase}")
    async def questions_post(request: Request, phase: str) -> Response:
        p = participant(request)
        if phase not in phases:
            raise HTTPException(404)
        fields = await form(request)
        if fields.get("action") == "answer":
            answers = questionnaires.read_answers(questionnaires.load(phases[phase][0]), fields)
            if answers:
                await run_in_threadpool(
                    store_answers, served.store, served.experiment, served.person(p), answers, "en", p.segment
                )
        if phase == "before":
            return RedirectResponse(first_page(p), status_code=303)
        return message(
            request, "Thank you", "You have left the pilot. You can close this page.",
            "If you change your mind, you can still delete everything recorded about you.",
            link=("/stop", "Withdraw from the pilot"),
        )  # fmt: skip

    @app.get("/scene", response_class=HTMLResponse)
    async def scene_page(request: Request) -> HTMLResponse:
        p = participant(request)
        p.enter_scene()
        p.flags.add("scene")
        return HTMLResponse(scene.replace("{{csrf}}", tokens.token(request.cookies[COOKIE])))

    @app.post("/api/event")
    async def event(request: Request) -> Response:
        p = participant(request)
        if not tokens.check(request.cookies.get(COOKIE), request.headers.get("x-csrf-token")):
            return JSONResponse({"error": "missing or invalid CSRF token"}, status_code=400)
        try:
            ev = ParticipantEvent.model_validate(await request.json())
        except (ValidationError, ValueError) as exc:
            return JSONResponse({"error": str(exc).splitlines()[0]}, status_code=422)
        known = {s.id for s in journey.steps}
        if ev.step is not None and ev.step not in known:
            return JSONResponse({"error": f"unknown step {ev.step!r}"}, status_code=422)
        if ev.fps_median is not None:
            p.fps_median = ev.fps_median
        if ev.kind in ("switch_to_twin", "journey_completed") or (
            ev.kind == "step_entered" and ev.step and journey.step(ev.step).channel != IMMERSIVE
        ):
            p.leave_scene()
        if ev.kind == "journey_completed":
            p.finished = True
        if ev.kind == "help":
            p.help_asked = True
        st = served.maker.of_event(p.pseudonym, p.registration, p.segment, ev)
        # One small SQLite insert, or a buffer append for an LRS: cheaper in place than a thread hop.
        served.send(p, [st])
        if ev.kind == "switch_to_twin":
            p.channel = "accessible_twin"
        return JSONResponse({"stored": 1})

    @app.get("/twin/{step_id}", response_class=HTMLResponse)
    async def twin(request: Request, step_id: str) -> HTMLResponse:
        p = participant(request)
        known = {s.id for s in journey.steps}
        if step_id not in known:
            raise HTTPException(404)
        step = journey.step(step_id)
        switching = request.query_params.get("switch") == "1" and p.channel == IMMERSIVE
        if switching:  # a link followed without the scene's script (or the twin link of a step)
            p.leave_scene()
            ev = ParticipantEvent(kind="switch_to_twin", step=step_id)
            await run_in_threadpool(
                served.send, p, [served.maker.of_event(p.pseudonym, p.registration, p.segment, ev)]
            )
        if p.channel == IMMERSIVE:
            p.leave_scene()
        if request.query_params.get("from") != "scene" and p.step != step_id:
            await run_in_threadpool(served.record, p, "attempted", step_id)
        if request.query_params.get("switch") == "1" or p.channel == IMMERSIVE:
            p.channel = "accessible_twin"
        p.step = step_id
        number = path.index(step_id) + 1 if step_id in path else len(path)
        return render(
            request, "twin.html", step.title, stop=True, step=step, caption=caption_of(step), number=number,
            total=len(path), assistance=journey.assistance(step.assistance).label if step.assistance else None,
            fallback_title=journey.step(step.fallback).title if step.fallback else None,
            immersive=step.channel == IMMERSIVE, notice=None,
        )  # fmt: skip

    @app.post("/twin/{step_id}")
    async def twin_post(request: Request, step_id: str) -> Response:
        p = participant(request)
        fields = await form(request)
        if step_id not in {s.id for s in journey.steps}:
            raise HTTPException(404)
        step = journey.step(step_id)
        action = fields.get("action")
        if action == "help" and step.assistance:
            p.help_asked = True
            await run_in_threadpool(served.record, p, "asked", step_id)
            return message(request, "Help is on its way", f"{journey.assistance(step.assistance).label} will contact you.",
                           stop=True, link=(f"/twin/{step_id}", "Back to the step"))  # fmt: skip
        if action == "fail":
            await run_in_threadpool(served.record, p, "failed", step_id, success=False)
            return RedirectResponse("/stop", status_code=303)
        target = step.fallback if action == "fallback" else step.next
        await run_in_threadpool(served.record, p, "completed", step_id, completion=True)
        if target is None:
            p.finished = True
            await run_in_threadpool(served.record, p, "completed", None, completion=True)
            return RedirectResponse("/finish", status_code=303)
        return RedirectResponse(f"/twin/{target}", status_code=303)

    @app.get("/stop", response_class=HTMLResponse)
    async def stop(request: Request) -> HTMLResponse:
        if served.participants.get(request.cookies.get(COOKIE)) is None:
            return message(
                request, "You have left the pilot", "Nothing more is recorded. You can close this page."
            )
        return render(request, "stop.html", "Stop now", reasons=REASONS)

    async def leave(request: Request, p: Participant, reason: str, withdraw: bool) -> Response:
        token = request.cookies.get(COOKIE, "")
        p.leave_scene()
        summary = ExitSummary(
            reason=reason,  # type: ignore[arg-type]
            immersive_s=p.immersive_s if p.immersive_s else None,
            fps_median=p.fps_median,
        )
        statements = served.maker.exit(
            p.pseudonym, p.registration, p.segment, summary, p.channel, finished=p.finished
        )
        if withdraw:
            p.left = True
            served.participants.forget(token)
        if withdraw:
            deleted = await run_in_threadpool(served.sink.withdraw, p.registration)
            deleted += await run_in_threadpool(
                withdraw_person, served.store, served.experiment, served.person(p)
            )
            response: Response = message(
                request, "You have withdrawn",
                f"{deleted} records about your participation were deleted. Nothing more is recorded.",
            )  # fmt: skip
            response.delete_cookie(COOKIE, path="/")
            return response
        if "exited" not in p.flags:
            p.flags.add("exited")
            await run_in_threadpool(served.send, p, statements)
        return RedirectResponse("/questions/after", status_code=303)

    @app.post("/stop")
    async def stop_post(request: Request) -> Response:
        p = served.participants.get(request.cookies.get(COOKIE))
        if p is None:
            return RedirectResponse("/stop", status_code=303)
        fields = await form(request)
        if "exited" in p.flags and fields.get("action") != "withdraw":
            p.left = True
            served.participants.forget(request.cookies.get(COOKIE, ""))
            return message(request, "Thank you", "You have left the pilot. You can close this page.")
        reason = fields.get("reason") if fields.get("reason") in dict(REASONS) else "stopped"
        return await leave(request, p, reason or "stopped", fields.get("action") == "withdraw")

    @app.get("/finish", response_class=HTMLResponse)
    async def finish(request: Request) -> Response:
        p = participant(request)
        p.finished = True
        return await leave(request, p, "finished", withdraw=False)

    started = time.monotonic()
    app.state.served = served
    app.state.started = started
    return SecurityHeaders(
        BodyLimit(app, 32 * 1024, lambda _scope: (b"too large", b"text/plain")), security_headers(CSP)
    )  # type: ignore[arg-type]
