"""The login limit counts (address, account) pairs of real peers, with a ceiling per account.

The X-Forwarded-For tests run the desk in uvicorn on 127.0.0.1, configured as `civiclab desk`
configures it, since proxy headers are read by the server, not by the application.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.desk.conftest import PASSWORDS, DeskStore, csrf_of

WRONG = "wrong-password!"


def desk(store: DeskStore, limiter: Any = None) -> Any:
    from civiclab.desk.accounts import AccountStore
    from civiclab.desk.app import create_app
    from civiclab.store.tracker import Tracker

    return create_app(
        Tracker(store.uri),
        AccountStore(store.db),
        trust=store.trust,
        background_verify=False,
        limiter=limiter,
    )


def attempt(client: Any, name: str, password: str, headers: dict[str, str] | None = None) -> int:
    page = client.get("/login", headers=headers)
    response = client.post(
        "/login",
        data={"csrf_token": csrf_of(page.text), "username": name, "password": password},
        headers=headers,
        follow_redirects=False,
    )
    return int(response.status_code)


def test_failures_from_one_address_do_not_lock_the_account_from_another(desk_store: DeskStore) -> None:
    from fastapi.testclient import TestClient

    from civiclab.desk.auth import LoginLimiter

    app = desk(desk_store, LoginLimiter(max_attempts=5, account_max=8))

    def at(address: str) -> TestClient:
        return TestClient(app, base_url="http://127.0.0.1", client=(address, 40000))

    with at("203.0.113.5") as stranger, at("198.51.100.7") as member:
        assert [attempt(stranger, "carol", WRONG) for _ in range(5)] == [401] * 5
        assert attempt(stranger, "carol", PASSWORDS["carol"]) == 429  # this pair is locked…
        assert attempt(member, "carol", PASSWORDS["carol"]) == 303  # …not carol from her own address
    # Guessing spread over addresses still meets the account's ceiling (8 here, 50 by default).
    for i in range(3):
        with at(f"192.0.2.{i}") as other:
            assert attempt(other, "carol", WRONG) == 401
    with at("192.0.2.200") as fresh, at("198.51.100.7") as member:
        assert attempt(fresh, "carol", PASSWORDS["carol"]) == 429
        assert attempt(member, "carol", PASSWORDS["carol"]) == 429
        assert attempt(fresh, "alice", PASSWORDS["alice"]) == 303  # other accounts are not affected


def test_default_ceilings() -> None:
    from civiclab.desk.auth import LoginLimiter

    limiter = LoginLimiter()
    assert (limiter.max_attempts, limiter.account_max, limiter.window_s) == (5, 50, 300.0)
    for i in range(49):
        limiter.failed(f"10.0.{i}.1", "Carol")
    assert limiter.blocked("10.9.9.9", "carol") == 0
    limiter.failed("10.0.99.1", "carol")
    assert limiter.blocked("10.9.9.9", "CAROL") > 0


@contextmanager
def served(app: Any, trusted_proxies: list[str] | None) -> Iterator[str]:
    """The desk in uvicorn on a free port of 127.0.0.1, as `civiclab desk` runs it."""
    import uvicorn

    from civiclab.desk.cli import server_config

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server = uvicorn.Server(server_config(app, trusted_proxies))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def test_x_forwarded_for_does_not_give_a_new_address_per_guess(desk_store: DeskStore) -> None:
    import httpx

    from civiclab.desk.cli import server_config

    app = desk(desk_store)
    assert server_config(app).proxy_headers is False
    with served(app, None) as url, httpx.Client(base_url=url) as client:
        codes = [attempt(client, "carol", WRONG, {"x-forwarded-for": f"10.1.0.{i}"}) for i in range(5)]
        assert codes == [401] * 5
        assert attempt(client, "carol", PASSWORDS["carol"], {"x-forwarded-for": "10.1.0.99"}) == 429


def test_a_trusted_proxy_gives_the_client_address(desk_store: DeskStore) -> None:
    import httpx

    app = desk(desk_store)
    with served(app, ["127.0.0.1"]) as url, httpx.Client(base_url=url) as client:
        first = {"x-forwarded-for": "10.2.0.1"}
        assert [attempt(client, "carol", WRONG, first) for _ in range(5)] == [401] * 5
        assert attempt(client, "carol", PASSWORDS["carol"], first) == 429
        assert attempt(client, "carol", PASSWORDS["carol"], {"x-forwarded-for": "10.2.0.2"}) == 303


@pytest.mark.parametrize("argv", [["--trusted-proxy", "10.0.0.1", "--trusted-proxy", "10.0.0.2"], []])
def test_the_trusted_proxy_option(argv: list[str]) -> None:
    from civiclab.cli import build_parser

    args = build_parser().parse_args(["desk", *argv])
    assert args.trusted_proxy == (["10.0.0.1", "10.0.0.2"] if argv else None)
