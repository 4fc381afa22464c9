"""The desk over HTTP (TestClient): login, CSRF, roles, session fixation, escaping, rate limit, signing."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from civiclab.desk.auth import SESSION_COOKIE
from tests.desk.conftest import PASSWORDS, DeskStore, csrf_of, login


def _reviews(store: DeskStore, run_id: str) -> int:
    from civiclab.store.tracker import Tracker

    return int(Tracker(store.uri).get_run(run_id).tags.get("civiclab.reviews", "0") or 0)


def test_every_page_sends_to_login_without_a_session(client: Any, desk_store: DeskStore) -> None:
    a, b, _ = desk_store.runs
    pages = [
        "/runs",
        f"/runs/{a}",
        f"/runs/{a}/report.html",
        f"/runs/{a}/scorecard.pdf",
        f"/runs/{a}/statement.dsse.json",
        f"/runs/{a}/dimensions",
        f"/compare?run={a}&run={b}",
        f"/compare/report.html?run={a}&run={b}",
    ]
    for path in pages:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next="), path
    for path in (f"/runs/{a}/review", f"/runs/{a}/comment", "/logout"):
        response = client.post(path, data={"comment": "x", "decision": "approve"}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
    assert client.get("/", follow_redirects=True).url.path == "/login"


def test_login_sets_a_strict_httponly_cookie_and_logout_ends_the_session(client: Any) -> None:
    response = login(client, "vera")
    assert response.status_code == 303 and response.headers["location"] == "/runs"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie  # loopback
    page = client.get("/runs")
    assert page.status_code == 200 and "vera" in page.text
    assert (
        client.post("/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False).status_code
        == 303
    )
    assert client.get("/runs", follow_redirects=False).status_code == 303


def test_secure_cookie_when_not_on_loopback(desk_store: DeskStore) -> None:
    from fastapi.testclient import TestClient

    from civiclab.desk.accounts import AccountStore
    from civiclab.desk.app import create_app
    from civiclab.store.tracker import Tracker

    app = create_app(
        Tracker(desk_store.uri), AccountStore(desk_store.db), secure_cookies=True, background_verify=False
    )
    with TestClient(app, base_url="https://desk.example.org") as c:
        response = login(c, "vera")
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "Secure" in cookie


def test_forms_without_the_csrf_token_are_refused(client: Any, desk_store: DeskStore) -> None:
    run = desk_store.runs[0]
    page = client.get("/login")
    refused = client.post(
        "/login", data={"username": "bob", "password": PASSWORDS["bob"]}, follow_redirects=False
    )
    assert refused.status_code == 403 and SESSION_COOKIE not in refused.headers.get("set-cookie", "")
    assert login(client, "bob").status_code == 303
    page = client.get(f"/runs/{run}")
    before = len(client.app.state.desk.accounts.comments(run))
    from fastapi.testclient import TestClient

    with TestClient(client.app, base_url="http://127.0.0.1") as other:
        foreign = csrf_of(other.get("/login").text)  # a valid token of another browser
    for data in ({"comment": "no token"}, {"comment": "foreign token", "csrf_token": foreign}):
        response = client.post(f"/runs/{run}/comment", data=data, follow_redirects=False)
        assert response.status_code == 403
    assert len(client.app.state.desk.accounts.comments(run)) == before
    ok = client.post(
        f"/runs/{run}/comment",
        data={"comment": "with token", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert [c.body for c in client.app.state.desk.accounts.comments(run)][-1] == "with token"


def test_session_id_changes_at_login(client: Any) -> None:
    planted = "attacker-chosen-session-id-0123456789"
    client.cookies.set(SESSION_COOKIE, planted)
    response = login(client, "alice")
    assert response.status_code == 303
    new = response.cookies.get(SESSION_COOKIE)
    assert new and new != planted
    from fastapi.testclient import TestClient

    with TestClient(client.app, base_url="http://127.0.0.1") as attacker:
        attacker.cookies.set(SESSION_COOKIE, planted)
        assert attacker.get("/runs", follow_redirects=False).status_code == 303
    # After logout, the next login gets yet another id, and the old one opens nothing.
    page = client.get("/runs")
    client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    second = login(client, "alice").cookies.get(SESSION_COOKIE)
    assert second and second not in (new, planted)
    with TestClient(client.app, base_url="http://127.0.0.1") as replay:
        replay.cookies.set(SESSION_COOKIE, new)
        assert replay.get("/runs", follow_redirects=False).status_code == 303


def test_lab_cannot_sign_and_viewer_cannot_comment(client: Any, desk_store: DeskStore) -> None:
    run = desk_store.runs[0]
    before = _reviews(desk_store, run)
    assert login(client, "bob").status_code == 303
    page = client.get(f"/runs/{run}")
    assert 'action="/runs/' + run + '/review"' not in page.text
    signed = client.post(
        f"/runs/{run}/review",
        data={"csrf_token": csrf_of(page.text), "decision": "approve", "password": PASSWORDS["bob"]},
        follow_redirects=False,
    )
    assert signed.status_code == 403
    assert _reviews(desk_store, run) == before
    client.post("/logout", data={"csrf_token": csrf_of(page.text)})

    assert login(client, "vera").status_code == 303
    page = client.get(f"/runs/{run}")
    assert 'action="/runs/' + run + '/comment"' not in page.text and "/review" not in page.text
    token = csrf_of(page.text)
    n = len(client.app.state.desk.accounts.comments(run))
    assert client.post(f"/runs/{run}/comment", data={"csrf_token": token, "comment": "hi"}).status_code == 403
    assert (
        client.post(
            f"/runs/{run}/review",
            data={"csrf_token": token, "decision": "approve", "password": PASSWORDS["vera"]},
        ).status_code
        == 403
    )
    assert len(client.app.state.desk.accounts.comments(run)) == n and _reviews(desk_store, run) == before


def test_comments_are_redacted_and_escaped(client: Any, desk_store: DeskStore) -> None:
    run = desk_store.runs[0]
    assert login(client, "bob").status_code == 303
    token = csrf_of(client.get(f"/runs/{run}").text)
    text = "<script>alert('x')</script><img src=x onerror=alert(1)> write to jean.dupont@example.org"
    assert client.post(f"/runs/{run}/comment", data={"csrf_token": token, "comment": text}).status_code == 200
    page = client.get(f"/runs/{run}").text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "jean.dupont@example.org" not in page
    stored = client.app.state.desk.accounts.comments(run)[-1].body
    assert "jean.dupont@example.org" not in stored and "<script>" in stored  # redacted, escaped on output


def test_experiment_names_are_escaped(client: Any, desk_store: DeskStore) -> None:
    from civiclab.store.tracker import Tracker

    tracker = Tracker(desk_store.uri)
    source = tracker.get_run(desk_store.runs[0])
    name = '<script>alert("exp")</script>'
    run_id = tracker.start_run(name, "copy", {}, {"civiclab.version": source.tags["civiclab.version"]})
    tracker.end_run(run_id, "FINISHED")
    assert login(client, "vera").status_code == 303
    for page in (client.get("/runs").text, client.get(f"/runs/{run_id}").text):
        assert name not in page
        assert "&lt;script&gt;alert(&#34;exp&#34;)&lt;/script&gt;" in page


def test_login_rate_limit_gives_429(client: Any) -> None:
    for _ in range(5):
        assert login(client, "carol", "wrong-password!").status_code == 401
    blocked = login(client, "carol")  # even the right password, until the window passes
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert SESSION_COOKIE not in blocked.headers.get("set-cookie", "")


def test_language_from_query_then_cookie_then_accept_language(client: Any) -> None:
    assert 'lang="fr"' in client.get("/login").text
    assert 'lang="en"' in client.get("/login", headers={"accept-language": "en-GB,en;q=0.9,fr;q=0.5"}).text
    assert "Sign in" in client.get("/login?lang=en").text
    assert 'lang="en"' in client.get("/login").text  # remembered
    assert login(client, "vera").status_code == 303
    page = client.get("/runs?review=awaiting&lang=en").text
    assert 'href="/runs?review=awaiting&amp;lang=fr"' in page  # the switch keeps the filters


def test_member_signs_the_same_review_as_the_cli(client: Any, desk_store: DeskStore) -> None:
    from civiclab.evidence.verify.verification import verify
    from civiclab.store.tracker import Tracker

    run = desk_store.runs[0]
    before = _reviews(desk_store, run)
    assert login(client, "alice").status_code == 303
    page = client.get(f"/runs/{run}")
    wrong = client.post(
        f"/runs/{run}/review",
        data={"csrf_token": csrf_of(page.text), "decision": "approve", "password": "not-her-password"},
    )
    assert wrong.status_code == 422 and _reviews(desk_store, run) == before
    signed = client.post(
        f"/runs/{run}/review",
        data={
            "csrf_token": csrf_of(page.text),
            "decision": "revise",
            "comment": "Explain the gap for Mme Durand, 06 12 34 56 78",
            "conditions": "a human channel on every page\nre-run with 200 sessions",
            "password": PASSWORDS["alice"],
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303, signed.text[:500]
    assert _reviews(desk_store, run) == before + 1
    shown = client.get(signed.headers["location"]).text
    assert "alice" in shown and "re-run with 200 sessions" in shown and "06 12 34 56 78" not in shown
    # Conditions are signed as a field of their own, not folded into the comment.
    from civiclab.evidence.signing.envelope import Envelope

    payload = _review_event(desk_store, run)["payload"]
    assert payload["conditions"] == ["a human channel on every page", "re-run with 200 sessions"]
    assert "Conditions" not in payload["comment"] and "[PHONE]" in payload["comment"]
    signed_review = Envelope.model_validate(payload["envelope"]).statement()["predicate"]
    assert signed_review["conditions"] == payload["conditions"]
    result = verify(Tracker(desk_store.uri), run, desk_store.trust)
    assert result.ok, result.table()
    last = result.reviews[-1]
    assert (last.decision, last.trusted, last.role) == ("revise", True, "member")
    assert last.signer.startswith("alice")


def _review_event(store: DeskStore, run_id: str) -> dict[str, Any]:
    import json

    from civiclab.store.tracker import Tracker

    folder = Tracker(store.uri).local_artifact_dir(run_id)
    assert folder is not None
    lines = (folder / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    return dict(json.loads(lines[-1])["event"])


def test_desk_review_and_cli_review_are_the_same_statement(
    client: Any, desk_store: DeskStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civiclab.cli import main
    from civiclab.desk.accounts import passphrase_variable
    from civiclab.evidence.signing.envelope import Envelope

    run = desk_store.runs[1]
    assert login(client, "alice").status_code == 303
    page = client.get(f"/runs/{run}")
    data = {
        "csrf_token": csrf_of(page.text),
        "decision": "approve",
        "comment": "fine",
        "password": PASSWORDS["alice"],
    }
    assert client.post(f"/runs/{run}/review", data=data, follow_redirects=False).status_code == 303
    desk_event = _review_event(desk_store, run)
    monkeypatch.setenv(passphrase_variable("desk-alice"), PASSWORDS["alice"])
    assert (
        main(
            [
                "--tracking-uri",
                desk_store.uri,
                "review",
                run,
                "--key",
                "desk-alice",
                "--reviewer",
                "alice",
                "--decision",
                "approve",
                "--comment",
                "fine",
            ]
        )
        == 0
    )
    cli_event = _review_event(desk_store, run)
    for event in (desk_event, cli_event):
        event["payload"]["statement"] = Envelope.model_validate(event["payload"]["envelope"]).statement()
    strip = {"ts", "seq"}
    assert {k: v for k, v in desk_event.items() if k not in strip}.keys() == cli_event.keys() - strip
    d, c = desk_event["payload"]["statement"], cli_event["payload"]["statement"]
    assert d["predicateType"] == c["predicateType"] and d["subject"] == c["subject"]
    # Each review signs its place in the sequence: the CLI's follows the desk's.
    assert c["predicate"]["sequence"] == d["predicate"]["sequence"] + 1
    assert c["predicate"]["previous_review_sha256"] == desk_event["payload"]["envelope_sha256"]
    placed = ("ts", "timestamp", "sequence", "previous_review_sha256")
    assert {k: v for k, v in d["predicate"].items() if k not in placed} == {
        k: v for k, v in c["predicate"].items() if k not in placed
    }
    assert c["predicate"]["sequence"] == d["predicate"]["sequence"] + 1
    assert c["predicate"]["previous_review_sha256"] == desk_event["payload"]["envelope_sha256"]
    assert desk_event["payload"]["keyid"] == cli_event["payload"]["keyid"]


def test_a_run_that_does_not_verify_cannot_be_reviewed(client: Any, desk_store: DeskStore) -> None:
    from civiclab.store.tracker import Tracker

    run = desk_store.runs[2]
    Tracker(desk_store.uri).client.log_metric(run, "human_centered.completion_rate", 0.99)
    before = _reviews(desk_store, run)
    assert login(client, "alice").status_code == 303
    page = client.get(f"/runs/{run}")
    assert "ne peut pas être revu" in page.text and "metrics" in page.text
    assert f'action="/runs/{run}/review"' not in page.text
    refused = client.post(
        f"/runs/{run}/review",
        data={"csrf_token": csrf_of(page.text), "decision": "approve", "password": PASSWORDS["alice"]},
    )
    assert refused.status_code == 409 and _reviews(desk_store, run) == before
    listing = client.get("/runs?verify=tampered").text
    assert run in listing


def test_two_members_signing_at_once_both_land_in_order(desk_store: DeskStore) -> None:
    from civiclab.desk.accounts import AccountStore
    from civiclab.desk.reviewing import sign_review
    from civiclab.evidence.verify.verification import verify
    from civiclab.store.tracker import Tracker

    run = desk_store.runs[1]
    accounts = AccountStore(desk_store.db)
    before = _reviews(desk_store, run)
    results: dict[str, Any] = {}
    start = threading.Barrier(2)

    def sign(name: str) -> None:
        user = accounts.get(name)
        assert user is not None
        start.wait()
        results[name] = sign_review(
            Tracker(desk_store.uri),
            run,
            user,
            PASSWORDS[name],
            "approve",
            f"by {name}",
            trust=desk_store.trust,
        )

    threads = [threading.Thread(target=sign, args=(n,)) for n in ("alice", "carol")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert set(results) == {"alice", "carol"}
    lines = sorted(r.audit_seq for r in results.values())
    assert lines[1] == lines[0] + 1
    assert _reviews(desk_store, run) == before + 2
    result = verify(Tracker(desk_store.uri), run, desk_store.trust)
    assert result.ok, result.table()
    assert {r.signer.split(" ")[0] for r in result.reviews[-2:]} == {"alice", "carol"}


def test_scorecard_compare_and_dimensions_pages(client: Any, desk_store: DeskStore) -> None:
    a, b, _ = desk_store.runs
    assert login(client, "vera").status_code == 303
    run_page = client.get(f"/runs/{b}").text
    assert f'src="/runs/{b}/report.html"' in run_page
    report = client.get(f"/runs/{b}/report.html")
    assert report.status_code == 200 and "Changes since the previous run" in report.text
    assert "frame-ancestors 'self'" in report.headers["content-security-policy"]
    pdf = client.get(f"/runs/{b}/scorecard.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    statement = client.get(f"/runs/{b}/statement.dsse.json")
    assert statement.status_code == 200 and statement.json()["payloadType"]
    assert client.get(f"/compare?run={a}").status_code == 400
    frame = client.get(f"/compare/report.html?run={a}&run={b}")
    assert frame.status_code == 200 and a[:8] in frame.text and b[:8] in frame.text
    dims = client.get(f"/runs/{b}/dimensions?lang=en").text
    assert "Public-service dimensions" in dims and "<caption>" in dims
    assert client.get("/runs/not-a-run-id").status_code == 404


def test_a_member_password_never_enters_the_process_environment(
    desk_store: DeskStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the desk signs, a child process started by any thread (a verify worker, a chain
    watcher) would inherit the environment: the password must never be put there."""
    import os

    import civiclab.evidence.signing.envelope as envelope
    from civiclab.desk.accounts import AccountStore
    from civiclab.desk.reviewing import ReviewRefused, sign_review
    from civiclab.store.tracker import Tracker

    seen: list[dict[str, str]] = []
    real = envelope.sign_statement

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(dict(os.environ))
        return real(*args, **kwargs)

    monkeypatch.setattr(envelope, "sign_statement", spy)
    user = AccountStore(desk_store.db).get("carol")
    assert user is not None
    review = sign_review(
        Tracker(desk_store.uri),
        desk_store.runs[1],
        user,
        PASSWORDS["carol"],
        "revise",
        "the rural gap",
        trust=desk_store.trust,
    )
    assert review.decision == "revise" and seen
    assert all(PASSWORDS["carol"] not in env.values() for env in seen)
    assert PASSWORDS["carol"] not in os.environ.values()
    with pytest.raises(ReviewRefused, match="wrong password"):
        sign_review(
            Tracker(desk_store.uri),
            desk_store.runs[1],
            user,
            "not her password",
            "approve",
            "",
            trust=desk_store.trust,
        )


def test_the_statement_route_never_serves_a_planted_link_or_special_file(
    client: Any, desk_store: DeskStore
) -> None:
    """Whoever can write the artifact folder must not turn the desk into a file server: a statement
    replaced by a link to the lab's private key (or to the desk's database) is not served to anyone."""
    import os
    import shutil

    from civiclab.evidence.signing.keys import default_key_name, keys_dir
    from civiclab.store.tracker import Tracker

    run = desk_store.runs[1]
    folder = Tracker(desk_store.uri).local_artifact_dir(run)
    assert folder is not None
    statement = folder / "statement.dsse.json"
    kept = folder.parent / "statement.kept"
    shutil.move(statement, kept)
    assert login(client, "vera").status_code == 303
    try:
        for target in (keys_dir() / f"{default_key_name()}.key", desk_store.db):
            statement.symlink_to(target)
            response = client.get(f"/runs/{run}/statement.dsse.json")
            assert response.status_code == 404
            assert b"PRIVATE KEY" not in response.content and b"SQLite" not in response.content
            statement.unlink()
        os.mkfifo(statement)  # a FIFO would block a naive reader for ever
        assert client.get(f"/runs/{run}/statement.dsse.json").status_code == 404
        statement.unlink()
        statement.write_text("-----BEGIN PRIVATE KEY-----\nnot an envelope\n")  # a copy, not a link
        assert client.get(f"/runs/{run}/statement.dsse.json").status_code == 404
    finally:
        if statement.exists() or statement.is_symlink():
            statement.unlink()
        shutil.move(kept, statement)
    assert client.get(f"/runs/{run}/statement.dsse.json").json()["payloadType"]


def test_an_oversized_form_is_refused_with_the_desks_own_headers(client: Any) -> None:
    from civiclab.desk.app import MAX_BODY, PAGE_CSP

    response = client.post(
        "/login",
        content=b"a" * (MAX_BODY + 1),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert response.headers["content-security-policy"] == PAGE_CSP.decode()
    assert response.headers["x-frame-options"] == "DENY"
