"""Sessions kept in desk.db: they outlive a restart, end at logout, TTLs and account changes, hashed at rest."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from civiclab.cli import main
from civiclab.desk.auth import SESSION_COOKIE
from tests.desk.conftest import DeskStore, csrf_of, login

VIC = "vic-viewer-password"


@pytest.fixture
def own_home(desk_store: DeskStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A lab home of this test whose desk.db has one viewer, vic, added by the command line."""
    home = tmp_path / "home"
    monkeypatch.setenv("CIVICLAB_HOME", str(home))
    monkeypatch.setenv("VIC_PASSWORD", VIC)
    assert main(["desk", "user", "add", "vic", "--role", "viewer", "--password-env", "VIC_PASSWORD"]) == 0
    return home


def new_desk(store: DeskStore, home: Path) -> Any:
    """A desk application over the shared runs and this home's desk.db: a fresh process, as after a restart."""
    from civiclab.desk.accounts import AccountStore
    from civiclab.desk.app import create_app
    from civiclab.store.tracker import Tracker

    return create_app(
        Tracker(store.uri), AccountStore(home / "desk.db"), trust=store.trust, background_verify=False
    )


@pytest.fixture
def browser(desk_store: DeskStore, own_home: Path) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(new_desk(desk_store, own_home), base_url="http://127.0.0.1") as c:
        yield c


def signed_in(client: Any) -> bool:
    return bool(client.get("/runs", follow_redirects=False).status_code == 200)


@pytest.mark.parametrize(
    "change",
    [["disable", "vic"], ["remove", "vic"], ["reset-password", "vic", "--password-env", "NEW_PASSWORD"]],
    ids=["disable", "remove", "reset-password"],
)
def test_an_account_change_signs_its_open_browser_out_at_the_next_request(
    change: list[str], browser: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert login(browser, "vic", VIC).status_code == 303 and signed_in(browser)
    monkeypatch.setenv("NEW_PASSWORD", "vic-new-password")
    assert main(["desk", "user", *change]) == 0  # another process, while the desk is serving
    response = browser.get("/runs", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/runs"
    assert login(browser, "vic", VIC).status_code == 401  # and the old password no longer signs in
    if change[0] == "disable":
        assert main(["desk", "user", "enable", "vic"]) == 0
        assert login(browser, "vic", VIC).status_code == 303 and signed_in(browser)
    if change[0] == "reset-password":
        assert login(browser, "vic", "vic-new-password").status_code == 303 and signed_in(browser)


def test_a_restart_keeps_the_session_and_only_its_hash_is_stored(
    desk_store: DeskStore, own_home: Path, browser: Any
) -> None:
    from fastapi.testclient import TestClient

    response = login(browser, "vic", VIC)
    sid = response.cookies.get(SESSION_COOKIE)
    assert sid and signed_in(browser)
    with TestClient(new_desk(desk_store, own_home), base_url="http://127.0.0.1") as restarted:
        restarted.cookies.set(SESSION_COOKIE, sid)
        page = restarted.get("/runs", follow_redirects=False)
        assert page.status_code == 200 and "vic" in page.text
        # The form token is bound to the same session in the new process: logging out there works…
        out = restarted.post("/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
        assert out.status_code == 303
    assert not signed_in(browser)  # …and ends the session for the first process too
    db = sqlite3.connect(own_home / "desk.db")
    rows = db.execute("SELECT sid_hash, user, revoked FROM sessions").fetchall()
    db.close()
    assert [(h, u) for h, u, _ in rows] == [(hashlib.sha256(sid.encode()).hexdigest(), "vic")]
    assert rows[0][2] is not None
    assert sid.encode() not in (own_home / "desk.db").read_bytes()


def test_sessions_end_after_the_idle_and_the_absolute_ttl(own_home: Path) -> None:
    from civiclab.desk.accounts import AccountStore
    from civiclab.desk.auth import IDLE_TTL_S, SESSION_TTL_S, Sessions

    now = [1_700_000_000.0]
    sessions = Sessions(AccountStore(own_home / "desk.db"), clock=lambda: now[0])
    idle = sessions.start("vic")
    now[0] += IDLE_TTL_S - 5
    assert sessions.get(idle.sid) is not None  # used in time: the idle clock starts again
    now[0] += IDLE_TTL_S - 5
    assert sessions.get(idle.sid) is not None
    now[0] += IDLE_TTL_S + 1
    assert sessions.get(idle.sid) is None
    now[0] += 1
    assert sessions.get(idle.sid) is None  # revoked, not only too old

    busy = sessions.start("vic", previous=idle.sid)
    started = now[0]
    while now[0] - started < SESSION_TTL_S - 600:
        now[0] += 600
        assert sessions.get(busy.sid) is not None
    now[0] = started + SESSION_TTL_S + 1
    assert sessions.get(busy.sid) is None  # in use all along, still ended at the absolute TTL
    assert sessions.get("") is None and sessions.get("x" * 500) is None


def test_the_id_the_browser_came_with_is_revoked_at_login(own_home: Path) -> None:
    from civiclab.desk.accounts import AccountStore
    from civiclab.desk.auth import Sessions

    sessions = Sessions(AccountStore(own_home / "desk.db"))
    before = sessions.start("vic")
    after = sessions.start("vic", previous=before.sid)
    assert after.sid != before.sid
    assert sessions.get(before.sid) is None and sessions.get(after.sid) is not None
