"""A review signed offline (`civiclab review --out`) uploaded on the desk: members only, CSRF, 1 MB, refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from civiclab.store.tracker import Tracker
from tests.desk.conftest import PASSWORDS, DeskStore, csrf_of, login


def _reviews(store: DeskStore, run_id: str) -> int:
    return int(Tracker(store.uri).get_run(run_id).tags.get("civiclab.reviews", "0") or 0)


def _sign_offline(
    store: DeskStore, run_id: str, key: str, out: Path, *extra: str, trust: bool = True
) -> Path:
    """`civiclab review RUN --key K --decision D --out FILE`, as a member runs it on their own machine."""
    from civiclab.cli import main

    args = ["--tracking-uri", store.uri, "review", run_id, "--key", key, "--out", str(out), *extra]
    assert main(args + (["--trust", str(store.trust)] if trust else [])) == 0
    return out


def _upload(client: Any, run_id: str, data: bytes, token: str | None) -> Any:
    fields = {"csrf_token": token} if token is not None else {}
    return client.post(
        f"/runs/{run_id}/review/upload?lang=en",
        data=fields,
        files={"review": ("review.json", data, "application/json")},
        follow_redirects=False,
    )


@pytest.fixture
def carol_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """carol's desk key, opened on her own machine with her passphrase (as `civiclab review` does)."""
    from civiclab.desk.accounts import passphrase_variable

    monkeypatch.setenv(passphrase_variable("desk-carol"), PASSWORDS["carol"])
    return "desk-carol"


def test_a_member_uploads_a_review_signed_offline(
    client: Any, desk_store: DeskStore, carol_key: str, tmp_path: Path
) -> None:
    from markupsafe import escape

    from civiclab.evidence.verify.verification import verify

    run = desk_store.runs[0]
    signed = _sign_offline(
        desk_store,
        run,
        carol_key,
        tmp_path / "review.json",
        "--decision",
        "approve",
        "--comment",
        "read offline",
        "--condition",
        "keep the counter open",
    )
    before = _reviews(desk_store, run)
    assert _reviews(desk_store, run) == before  # --out records nothing
    assert login(client, "alice").status_code == 303  # any member may bring a signed file
    page = client.get(f"/runs/{run}?lang=en")
    assert 'enctype="multipart/form-data"' in page.text and f'action="/runs/{run}/review/upload"' in page.text
    landed = _upload(client, run, signed.read_bytes(), csrf_of(page.text))
    assert landed.status_code == 303, landed.text[:400]
    assert _reviews(desk_store, run) == before + 1
    shown = client.get(landed.headers["location"]).text
    result = verify(Tracker(desk_store.uri), run, desk_store.trust)
    assert result.ok, result.table()
    last = result.reviews[-1]
    assert (last.signer, last.decision, last.trusted, last.counted) == ("carol", "approve", True, True)
    assert "Review uploaded: Approve" in shown
    assert "read offline" in shown and "<li>keep the counter open</li>" in shown
    assert result.committee is not None and str(escape(result.committee.words("en"))) in shown

    again = _upload(client, run, signed.read_bytes(), csrf_of(shown))
    assert again.status_code == 422 and _reviews(desk_store, run) == before + 1
    assert "The review was not recorded: signed as review" in again.text  # its place is taken now


def test_uploads_are_refused_for_non_members_without_csrf_and_when_not_a_review(
    client: Any, desk_store: DeskStore, carol_key: str, tmp_path: Path
) -> None:
    from civiclab.desk.app import UPLOAD_BODY
    from civiclab.desk.reviewing import MAX_UPLOAD

    run, other = desk_store.runs[0], desk_store.runs[1]
    signed = _sign_offline(desk_store, other, carol_key, tmp_path / "r.json", "--decision", "reject")
    before = _reviews(desk_store, run)
    # Without a session: to the login page; a viewer: forbidden.
    anonymous = client.post(f"/runs/{run}/review/upload", files={"review": ("r.json", b"{}")})
    assert anonymous.status_code == 200 and anonymous.url.path == "/login"
    assert login(client, "vera").status_code == 303
    token = csrf_of(client.get(f"/runs/{run}").text)
    assert "/review/upload" not in client.get(f"/runs/{run}").text
    assert _upload(client, run, signed.read_bytes(), token).status_code == 403
    client.post("/logout", data={"csrf_token": token})

    assert login(client, "alice").status_code == 303
    token = csrf_of(client.get(f"/runs/{run}").text)
    assert _upload(client, run, signed.read_bytes(), None).status_code == 403  # no CSRF token
    assert _upload(client, run, signed.read_bytes(), "0" * 64).status_code == 403
    cases = [
        (signed.read_bytes(), 422, "signed for another run or statement than run"),
        (b"not json at all", 422, "not a DSSE envelope"),
        (b"x" * (MAX_UPLOAD + 1), 413, "the file is larger than 1 MB"),
    ]
    for data, status, words in cases:
        refused = _upload(client, run, data, token)
        assert refused.status_code == status, (words, refused.text[:300])
        assert f"The review was not recorded: {words}" in refused.text
        assert 'role="alert"' in refused.text
    huge = _upload(client, run, b"x" * (UPLOAD_BODY + 1), token)
    assert huge.status_code == 413 and huge.text == "request too large"
    empty = client.post(f"/runs/{run}/review/upload?lang=en", data={"csrf_token": token})
    assert empty.status_code == 400 and "no file was sent" in empty.text
    assert _reviews(desk_store, run) == before


def test_a_review_signed_by_a_key_the_trust_file_does_not_list_is_refused(
    client: Any, desk_store: DeskStore, tmp_path: Path
) -> None:
    from tests.reviewer_keys import reviewer_key

    run = desk_store.runs[0]
    stranger = reviewer_key("desk-stranger")
    signed = _sign_offline(
        desk_store,
        run,
        stranger,
        tmp_path / "s.json",
        "--decision",
        "approve",
        "--reviewer",
        "alice",
        trust=False,
    )
    before = _reviews(desk_store, run)
    assert login(client, "alice").status_code == 303
    refused = _upload(client, run, signed.read_bytes(), csrf_of(client.get(f"/runs/{run}").text))
    assert refused.status_code == 422
    assert "may not review: the trust file does not list it in the committee" in refused.text
    assert _reviews(desk_store, run) == before
