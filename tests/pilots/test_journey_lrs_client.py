"""The LRS client against small local servers: headers, Basic auth, `more` paging, retries, filters,
and the bounds on what an LRS sends (its origin, loops, page and statement caps, the byte cap)."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from civiclab.errors import PilotError
from pilots.journey.lrs import LrsParams, read_lrs
from tests.pilots.endless_support import endless_server
from tests.pilots.xapi_support import BASE, Writer, voiding


class FlakyLrs(BaseHTTPRequestHandler):
    """Answers 503 to the first request, then two pages linked by a relative `more` IRL."""

    pages: dict[str, dict[str, Any]] = {}
    seen: list[dict[str, Any]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urlparse(self.path)
        self.seen.append({"path": url.path, "query": parse_qs(url.query), **dict(self.headers)})
        if len(self.seen) == 1:
            self.send_response(503)
            self.end_headers()
            return
        page = self.pages[parse_qs(url.query).get("page", ["1"])[0]]
        body = json.dumps(page).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Experience-API-Version", "1.0.3")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def lrs() -> Iterator[tuple[str, list[dict[str, Any]], list[dict[str, Any]]]]:
    a, b = Writer(1), Writer(2)
    a("initialized", BASE)
    b("initialized", BASE)
    done = a("completed", BASE)
    statements = [*a.statements, *b.statements, voiding(done)]
    FlakyLrs.pages = {
        "1": {"statements": statements[:3], "more": "/lrs/xAPI/statements?page=2"},
        "2": {"statements": statements[3:], "more": ""},
    }
    FlakyLrs.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyLrs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/lrs/xAPI/", statements, FlakyLrs.seen
    finally:
        server.shutdown()
        server.server_close()


def test_pages_are_followed_with_auth_and_version_after_a_retry(
    lrs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, statements, seen = lrs
    monkeypatch.setenv("LAB_LRS", "lab:s3cret:with-colon")
    params = LrsParams(url=url, auth_env="LAB_LRS", since="2026-03-01T00:00:00+01:00", page_size=3, retries=2)
    assert list(read_lrs(params)) == statements
    assert len(seen) == 3  # a 503, then the two pages
    first, second = seen[1], seen[2]
    assert first["path"] == "/lrs/xAPI/statements"
    assert first["query"] == {"limit": ["3"], "since": ["2026-03-01T00:00:00+01:00"]}
    assert second["query"] == {"page": ["2"]}
    assert first["X-Experience-API-Version"] == "1.0.3"
    assert base64.b64decode(first["Authorization"].split()[1]) == b"lab:s3cret:with-colon"


def test_filters_an_lrs_ignores_are_applied_again(lrs: Any) -> None:
    url, statements, _ = lrs
    registration = statements[0]["context"]["registration"]
    got = list(read_lrs(LrsParams(url=url, registration=registration, retries=1)))
    # Registration 2 is left out; the voiding statement (no registration) is kept, since it may void one of ours.
    assert got == [statements[0], statements[1], statements[3]]


def test_refused_credentials_name_the_variable_not_its_value(
    lrs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _, seen = lrs
    monkeypatch.setenv("LAB_LRS", "no-colon-here")
    with pytest.raises(PilotError, match="LAB_LRS must hold user:password$"):
        list(read_lrs(LrsParams(url=url, auth_env="LAB_LRS")))
    assert seen == []  # nothing was sent


# --- what the LRS sends is bounded ---------------------------------------------------------------------


class Pages:
    """An LRS on 127.0.0.1 answering `GET …?page=N` with `pages(N)`; it records each request's headers.

    After `safety` requests it answers 500, so that a client that never stops fails fast.
    """

    def __init__(self, pages: Callable[[int, str], dict[str, Any]], safety: int = 30) -> None:
        self.requests: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                outer.requests.append(dict(self.headers))
                number = int(parse_qs(urlparse(self.path).query).get("page", ["1"])[0])
                body = json.dumps(pages(number, outer.url)).encode()
                self.send_response(500 if len(outer.requests) > safety else 200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def pages_server(pages: Callable[[int, str], dict[str, Any]]) -> Iterator[Pages]:
    server = Pages(pages)
    try:
        yield server
    finally:
        server.close()


def fresh(page: int, n: int = 3) -> list[dict[str, Any]]:
    """`n` statements that no other page holds."""
    return [{"id": str(uuid.UUID(int=page * 1000 + i)), "verb": {"id": "http://x/v"}} for i in range(n)]


def test_a_more_link_to_another_origin_is_refused_and_no_credentials_leave(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAB_LRS", "lab:s3cret")
    with (
        pages_server(lambda n, url: {"statements": [], "more": ""}) as other,
        pages_server(
            lambda n, url: {"statements": fresh(n), "more": f"{other.url}/xAPI/statements?page=2"}
        ) as lrs,
    ):
        params = LrsParams(url=f"{lrs.url}/xAPI/", auth_env="LAB_LRS", retries=0)
        with pytest.raises(PilotError) as info:
            list(read_lrs(params))
    assert str(info.value) == (
        f"LRS {lrs.url}/xAPI/statements: page 1 links its next page to another origin ({other.url}); "
        f"only links on {lrs.url} are followed"
    )
    assert "Authorization" in lrs.requests[0]
    assert other.requests == []  # not even a request: the credentials went to the LRS only


def test_an_absolute_link_on_the_lrs_origin_is_followed() -> None:
    def page(n: int, url: str) -> dict[str, Any]:
        return {"statements": fresh(n), "more": f"{url}/xAPI/statements?page={n + 1}" if n < 3 else ""}

    with pages_server(page) as lrs:
        got = list(read_lrs(LrsParams(url=f"{lrs.url}/xAPI/", retries=0)))
    assert got == fresh(1) + fresh(2) + fresh(3)


def test_a_more_link_back_to_a_page_already_read_stops_the_read() -> None:
    with (
        pages_server(
            lambda n, url: {"statements": fresh(n), "more": f"?page={2 if n == 3 else n + 1}"}
        ) as lrs,
        pytest.raises(PilotError) as info,
    ):
        list(read_lrs(LrsParams(url=f"{lrs.url}/xAPI/", retries=0)))
    assert str(info.value) == (
        f"LRS {lrs.url}/xAPI/statements: page 3 links back to a page already read; the server loops, "
        "the read stops"
    )
    assert len(lrs.requests) == 3


def test_a_page_of_statements_already_read_stops_the_read() -> None:
    def page(n: int, url: str) -> dict[str, Any]:
        return {"statements": fresh(1), "more": f"?page={n + 1}"}  # always the same statements

    with pages_server(page) as lrs, pytest.raises(PilotError) as info:
        list(read_lrs(LrsParams(url=f"{lrs.url}/xAPI/", retries=0)))
    assert str(info.value) == (
        f"LRS {lrs.url}/xAPI/statements: page 2 holds only statements already read; the server loops, "
        "the read stops"
    )


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("CIVICLAB_LRS_MAX_PAGES", "2", "more than 2 pages (CIVICLAB_LRS_MAX_PAGES)"),
        ("CIVICLAB_LRS_MAX_STATEMENTS", "4", "more than 4 statements (CIVICLAB_LRS_MAX_STATEMENTS)"),
    ],
)
def test_the_page_and_statement_caps_stop_the_read(
    setting: str, value: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def page(n: int, url: str) -> dict[str, Any]:
        return {"statements": fresh(n), "more": f"?page={n + 1}" if n < 3 else ""}

    with pages_server(page) as lrs:
        params = LrsParams(url=f"{lrs.url}/xAPI/", retries=0)
        assert len(list(read_lrs(params))) == 9
        monkeypatch.setenv(setting, value)
        with pytest.raises(PilotError) as info:
            list(read_lrs(params))
    assert str(info.value) == (
        f"LRS {lrs.url}/xAPI/statements: {message}; narrow the read (since, until, activity) "
        "or raise the setting"
    )


def test_an_endless_page_stops_at_the_byte_cap_with_bounded_memory() -> None:
    import psutil

    process = psutil.Process()
    with endless_server(b'{"more": "", "statements": [], "padding": "') as lrs:
        before = process.memory_info().rss
        with pytest.raises(PilotError) as info:
            list(read_lrs(LrsParams(url=f"{lrs.url}/xAPI/", retries=0)))
        growth = process.memory_info().rss - before
    assert str(info.value) == (
        f"LRS {lrs.url}/xAPI/statements: the reply passed 10 000 000 bytes (CIVICLAB_MAX_REPLY_BYTES); "
        "reading stopped"
    )
    assert growth < 100_000_000
