"""The labelling page: members grade a stratified sample of a judged run's turns, one signed grade each.

The page shows one turn at a time (redacted question and answer, the judge's rubric) and never the
judge's grade. A grade is signed with the member's committee key, opened with the password typed, as
a review is (`reviewing.open_member_key`), and stored as its own envelope beside the run
(`civiclab.evidence.labels.grades`).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from civiclab.desk import i18n
from civiclab.desk.label_words import LABEL_MESSAGES
from civiclab.desk.reviewing import WRONG_PASSWORD, ReviewRefused, TooManyAttempts, open_member_key
from civiclab.desk.views import Desk, language, read_form, render, require, threaded
from civiclab.errors import CivicLabError, SpecError, TrackingError
from civiclab.evidence.labels.agreement import JudgeAgreement, judge_agreement
from civiclab.evidence.labels.grades import (
    labels_folder,
    labels_folder_beside,
    run_statement_digest,
    write_grade,
)
from civiclab.evidence.labels.sample import SCALE, LabelItem, load_sample, run_folder

if TYPE_CHECKING:
    from civiclab.desk.verify_cache import RunState
    from civiclab.evidence.signing.keys import Signer


_AGREEMENTS: dict[tuple[str, str, str], JudgeAgreement | None] = {}
_AGREEMENTS_MAX = 256


def agreement_for_page(
    desk: Desk, run_id: str, state: RunState | None = None, *, compute: bool = True
) -> tuple[bool, JudgeAgreement | None] | None:
    """Whether the run was judged (so it can be graded), and the judge's agreement with people.

    Computed once per state of the run (its files, the store, the trust file) and of its grades;
    with `compute=False`, None when it would have to be computed.
    """
    from civiclab.evidence.labels.sample import JUDGE_GRADES_FILE
    from civiclab.reporting.runs import local_folder

    try:
        state = state or desk.cache.state(run_id)
    except TrackingError:
        return False, None
    # Grades are kept beside runs on a local store only: a remote run is never downloaded for this.
    folder = local_folder(state.summary.artifact_uri)
    if folder is None or not (folder / JUDGE_GRADES_FILE).is_file():
        return False, None
    key = (run_id, desk.cache.key(state), grades_stamp(desk, run_id, state))
    if key in _AGREEMENTS:
        return True, _AGREEMENTS[key]
    if not compute:
        return None
    found = judge_agreement(desk.tracker, run_id, desk.cache.trust)
    if len(_AGREEMENTS) >= _AGREEMENTS_MAX:
        _AGREEMENTS.clear()
    _AGREEMENTS[key] = found
    return True, found


def grades_stamp(desk: Desk, run_id: str, state: RunState | None = None) -> str:
    """The grade files beside a run (names, sizes, times), or "" for none: what the report depends on."""
    from civiclab.reporting.runs import local_folder

    if state is None:
        try:
            folder = labels_folder(desk.tracker, run_id)
        except SpecError:
            return ""
    else:
        local = local_folder(state.summary.artifact_uri)
        if local is None:
            return ""
        folder = labels_folder_beside(local)
    files = []
    try:
        for entry in os.scandir(folder):
            if entry.is_file():
                st = entry.stat()
                files.append((entry.name, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    except FileNotFoundError:
        return ""  # no grades yet
    except OSError:  # unreadable, or a file removed while reading: a stamp of its own, never cached
        files.append(("?", time.time_ns(), 0, 0))
    files.sort()
    return "|" + hashlib.sha256(repr(files).encode()).hexdigest()[:16] if files else ""


def _sign_grade(
    desk: Desk, run_id: str, item: LabelItem, grade: str, comment: str, grader: str, signer: Signer
) -> None:
    with run_folder(desk.tracker, run_id) as folder:
        digest = run_statement_digest(folder)
    if digest is None:
        raise ReviewRefused("the run is not signed: its answers cannot be graded")
    write_grade(
        labels_folder(desk.tracker, run_id),
        run_id=run_id,
        statement_sha256=digest,
        item=item,
        grade=grade,
        comment=comment,
        grader=grader,
        signer=signer,
    )


def register(app: FastAPI, desk: Desk, run_id_of: Callable[[str], str]) -> None:
    check_id = run_id_of  # the desk's run id check (hex, bounded), shared with the other run pages

    async def page(
        request: Request, run_id: str, index: int, notice: str = "", problem: str = "", status: int = 200
    ) -> Response:
        session, user = require(desk, request)
        lang = language(request)
        words = LABEL_MESSAGES[lang]
        try:
            judged, sample = await threaded(load_sample, desk.tracker, run_id)
        except TrackingError:
            raise StarletteHTTPException(404) from None
        except SpecError:
            judged, sample = None, []
        index = min(max(index, 1), max(len(sample), 1))
        return render(
            desk,
            request,
            "labels.html",
            status=status,
            user=user,
            csrf_anchor=session.sid,
            page_title=words["labels_title"].format(run=run_id[:8]),
            w=words,
            run_id=run_id,
            rubric=judged.rubric if judged else "",
            item=sample[index - 1] if sample else None,
            index=index,
            total=len(sample),
            scale=SCALE,
            notice=notice,
            problem=problem,
        )

    @app.get("/runs/{run_id}/labels")
    async def labels_get(request: Request, run_id: str) -> Response:
        run_id = check_id(run_id)
        words = LABEL_MESSAGES[language(request)]
        notice = words["graded_ok"] if request.query_params.get("graded") else ""
        return await page(request, run_id, _index(request.query_params.get("i")), notice=notice)

    @app.post("/runs/{run_id}/labels")
    async def labels_post(request: Request, run_id: str) -> Response:
        run_id = check_id(run_id)
        session, user = require(desk, request)
        fields = await read_form(desk, request, session.sid)
        if not user.may_sign:
            raise StarletteHTTPException(403)
        words = LABEL_MESSAGES[language(request)]
        t = i18n.MESSAGES[language(request)]
        index = _index(fields.get("i"))
        try:
            _, sample = await threaded(load_sample, desk.tracker, run_id)
        except TrackingError:
            raise StarletteHTTPException(404) from None
        except SpecError:
            raise StarletteHTTPException(400) from None
        item = next((i for i in sample if i.item == fields.get("item")), None)
        grade = fields.get("grade", "")
        if item is None or grade not in SCALE:
            raise StarletteHTTPException(400)
        try:
            signer = await threaded(
                open_member_key,
                user,
                fields.get("password", ""),
                trust=desk.cache.trust,
                limiter=desk.signing,
                session_id=session.sid,
                what="grades",
            )
            await threaded(
                _sign_grade,
                desk,
                run_id,
                item,
                grade,
                fields.get("comment", "").strip()[:2000],
                user.name,
                signer,
            )
        except TooManyAttempts as exc:
            why = t["too_many_signing"].format(s=exc.wait_s)
            limited = await page(
                request, run_id, index, problem=words["grade_failed"].format(why=why), status=429
            )
            limited.headers["retry-after"] = str(exc.wait_s)
            return limited
        except ReviewRefused as exc:
            why = t["wrong_password"] if str(exc) == WRONG_PASSWORD else str(exc)
            return await page(
                request, run_id, index, problem=words["grade_failed"].format(why=why), status=422
            )
        except CivicLabError as exc:
            return await page(
                request, run_id, index, problem=words["grade_failed"].format(why=str(exc)), status=422
            )
        following = min(index + 1, len(sample))
        return RedirectResponse(f"/runs/{run_id}/labels?i={following}&graded=1", status_code=303)


def _index(value: str | None) -> int:
    try:
        return int(value or "1")
    except ValueError:
        return 1
