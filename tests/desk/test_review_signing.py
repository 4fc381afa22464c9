"""Signing from the desk: wrong passwords are limited (429, key not tried); only committee keys of its trust file sign."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.desk.conftest import PASSWORDS, DeskStore, csrf_of, login


def _reviews(store: DeskStore, run_id: str) -> int:
    from civiclab.store.tracker import Tracker

    return int(Tracker(store.uri).get_run(run_id).tags.get("civiclab.reviews", "0") or 0)


@pytest.fixture
def key_tries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the keys the desk tried to open (the real loader still runs)."""
    import civiclab.evidence.signing.keys as keys

    tried: list[str] = []
    real = keys.load_signer

    def counting(name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        tried.append(str(name))
        return real(name, *args, **kwargs)

    monkeypatch.setattr(keys, "load_signer", counting)
    return tried


def sign(client: Any, run: str, password: str, decision: str = "approve") -> Any:
    page = client.get(f"/runs/{run}")
    return client.post(
        f"/runs/{run}/review",
        data={"csrf_token": csrf_of(page.text), "decision": decision, "password": password},
        follow_redirects=False,
    )


def test_the_sixth_wrong_signing_password_gets_429_and_the_key_is_not_tried(
    client: Any, desk_store: DeskStore, key_tries: list[str]
) -> None:
    from fastapi.testclient import TestClient

    run = desk_store.runs[0]
    before = _reviews(desk_store, run)
    assert login(client, "alice").status_code == 303
    for n in range(1, 6):
        wrong = sign(client, run, f"not-her-password-{n}")
        assert wrong.status_code == 422 and "mot de passe incorrect" in wrong.text
        assert len(key_tries) == n
    limited = sign(client, run, "not-her-password-6")
    assert limited.status_code == 429 and 0 < int(limited.headers["retry-after"]) <= 300
    assert "trop de mots de passe incorrects" in limited.text
    right = sign(client, run, PASSWORDS["alice"])  # even the right one, until the window passes
    assert right.status_code == 429
    assert len(key_tries) == 5 and _reviews(desk_store, run) == before
    # Another session of the same member has its own count, below the member's ceiling (10).
    with TestClient(client.app, base_url="http://127.0.0.1") as other:
        assert login(other, "alice").status_code == 303
        assert sign(other, run, PASSWORDS["alice"]).status_code == 303
    assert _reviews(desk_store, run) == before + 1


def test_the_member_ceiling_spans_sessions() -> None:
    from civiclab.desk.auth import SigningLimiter

    limiter = SigningLimiter()
    for sid in ("session-a", "session-b"):
        for _ in range(5):
            assert limiter.blocked("alice", sid) == 0
            limiter.failed("alice", sid)
        assert limiter.blocked("alice", sid) > 0
    assert limiter.blocked("alice", "session-c") > 0  # 10 for alice in the window
    assert limiter.blocked("carol", "session-d") == 0


def _desk_with_trust(store: DeskStore, trust: Path | None) -> Any:
    from civiclab.desk.accounts import AccountStore
    from civiclab.desk.app import create_app
    from civiclab.store.tracker import Tracker

    return create_app(Tracker(store.uri), AccountStore(store.db), trust=trust, background_verify=False)


def test_without_a_trust_file_the_desk_refuses_to_sign(
    desk_store: DeskStore, key_tries: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    monkeypatch.delenv("CIVICLAB_TRUST", raising=False)
    run = desk_store.runs[0]
    before = _reviews(desk_store, run)
    with TestClient(_desk_with_trust(desk_store, None), base_url="http://127.0.0.1") as c:
        assert login(c, "alice").status_code == 303
        refused = sign(c, run, PASSWORDS["alice"])
    assert refused.status_code == 422
    assert "the desk has no trust file: reviews cannot be attributed" in refused.text
    assert key_tries == [] and _reviews(desk_store, run) == before


def test_the_desk_signs_only_with_a_key_of_its_committee(
    desk_store: DeskStore, tmp_path: Path, key_tries: list[str]
) -> None:
    from fastapi.testclient import TestClient

    from civiclab.desk.accounts import AccountStore
    from civiclab.desk.app import create_app
    from civiclab.store.tracker import Tracker

    accounts = AccountStore(tmp_path / "desk.db")
    dora = accounts.add_user("dora", "member", "dora-password-1")  # her key is not in the trust file
    run = desk_store.runs[0]
    before = _reviews(desk_store, run)
    app = create_app(Tracker(desk_store.uri), accounts, trust=desk_store.trust, background_verify=False)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        assert login(c, "dora", "dora-password-1").status_code == 303
        refused = sign(c, run, "dora-password-1")
    assert refused.status_code == 422
    assert (
        f"key &#39;{dora.key_name}&#39; is not in the committee of the desk&#39;s trust file" in refused.text
    )
    assert key_tries == [] and _reviews(desk_store, run) == before
