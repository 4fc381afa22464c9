"""The survey store on a real PostgreSQL (psycopg 3): codes used once under concurrency, imports, the form."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from fastapi.testclient import TestClient

from civiclab.spec.survey import SurveySpec
from civiclab.survey.collect import SurveyContext
from civiclab.survey.responses import SurveyResponse
from civiclab.survey.store import InvitationUsed, SurveyStore
from civiclab.survey.web import create_app
from tests.integration.servers import postgres
from tests.survey.conftest import csrf_token, full_answers

pytestmark = pytest.mark.integration


def test_postgres_store_uses_each_code_once_and_serves_the_form() -> None:
    with postgres() as url:
        store = SurveyStore(url)
        try:
            [code] = store.create_invitations("pg", 1, {"territory": "rural"})
            outcomes: list[str] = []
            barrier = threading.Barrier(8)

            def submit() -> None:
                barrier.wait()
                try:
                    store.submit("pg", code, {"SUS[SQ001]": 5}, "fr", 4)
                    outcomes.append("stored")
                except InvitationUsed:
                    outcomes.append("refused")

            threads = [threading.Thread(target=submit) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert Counter(outcomes) == {"stored": 1, "refused": 7}

            imported = [
                SurveyResponse(uid=f"limesurvey:{i}", complete=i != 2, answers={"SUS[SQ001]": 3})
                for i in range(1, 4)
            ]
            assert (
                store.add_responses("pg", imported, filename="x.csv", sha256="0" * 64, content=b"raw").added
                == 3
            )
            again = store.add_responses("pg", imported)
            assert (again.added, again.unchanged) == (0, 3)
            rows = store.responses("pg")
            assert [r.uid.split(":")[0] for r in rows] == ["web", "limesurvey", "limesurvey", "limesurvey"]
            assert rows[0].segment == {"territory": "rural", "language": "fr"}
            assert store.raw_imports("pg") == [("x.csv", "0" * 64, b"raw")]

            ctx = SurveyContext(experiment="pg", spec=SurveySpec(store=url), k=5, source=None)
            [web_code] = store.create_invitations("pg", 1)
            client = TestClient(create_app(ctx, store), follow_redirects=False)
            token = csrf_token(client.get("/en/").text)
            data = {**full_answers(ctx), "csrf_token": token, "code": web_code, "page": "3"}
            assert client.post("/en/survey", data=data).status_code == 303
            assert (
                client.post("/en/survey", data=data).status_code == 400
            )  # used: the same answer as an unknown code
            assert store.count("pg") == 5
        finally:
            store.close()
