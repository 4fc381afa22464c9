"""The LRS client against a small local server: headers, Basic auth, `more` paging, retries, filters."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from civiclab.errors import PilotError
from pilots.journey.lrs import LrsParams, read_lrs
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
