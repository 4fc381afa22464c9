"""1,000 concurrent submissions on loopback: each stored exactly once, duplicates refused (400, the answer an unknown code gets)."""

from __future__ import annotations

import socket
import tempfile
from collections import Counter
from pathlib import Path

import pytest

from civiclab.spec.instruments import load_instrument
from civiclab.survey.codes import hash_code
from civiclab.survey.loadtest import start_server, stop_server, submit_concurrently
from civiclab.survey.store import SurveyStore

EXPERIMENT = "load-test"
INSTRUMENTS = [load_instrument(n) for n in ("sus", "utaut", "trust", "feedback")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_1000_concurrent_submissions_each_stored_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    store = SurveyStore(url)
    codes = store.create_invitations(EXPERIMENT, 1000)
    port = free_port()
    server = start_server(EXPERIMENT, url, port, tmp_path)
    try:
        # 1,000 distinct codes, plus 150 of them sent a second time in the same burst.
        burst = codes + codes[:150]
        result = submit_concurrently(f"http://127.0.0.1:{port}", INSTRUMENTS, burst)  # 1,150 sockets
    finally:
        stop_server(server)
    assert result.errors == []
    per_code: dict[str, list[int]] = {}
    for code, status in zip(burst, result.statuses, strict=True):
        per_code.setdefault(code, []).append(status)
    assert Counter(result.statuses) == {303: 1000, 400: 150}
    assert all(sorted(s) == [303, 400] for s in list(per_code.values())[:150] if len(s) == 2)
    assert all(s == [303] for code, s in per_code.items() if code not in codes[:150])

    stored = store.responses(EXPERIMENT)
    assert len(stored) == 1000
    assert {r.uid for r in stored} == {f"web:{hash_code(EXPERIMENT, c)[:32]}" for c in codes}
    assert all(store.invitation(EXPERIMENT, c).state == "used" for c in codes[::97])
    store.close()


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_several_workers_on_postgresql_store_each_submission_once() -> None:
    """Three processes on one socket: the CSRF token of the page one served is accepted by the others,
    every code is stored once, and a code sent twice in the burst is refused once, whichever worker
    answers."""
    from tests.integration.servers import postgres

    with postgres() as url, tempfile.TemporaryDirectory() as tmp:
        store = SurveyStore(url)
        codes = store.create_invitations(EXPERIMENT, 600)
        port = free_port()
        server = start_server(EXPERIMENT, url, port, Path(tmp), workers=3)
        try:
            burst = codes + codes[:100]
            result = submit_concurrently(f"http://127.0.0.1:{port}", INSTRUMENTS, burst, connections=700)
        finally:
            stop_server(server)
        assert result.errors == []
        assert Counter(result.statuses) == {303: 600, 400: 100}
        stored = store.responses(EXPERIMENT)
        assert len(stored) == 600
        assert {r.uid for r in stored} == {f"web:{hash_code(EXPERIMENT, c)[:32]}" for c in codes}
        store.close()


def test_several_workers_on_the_sqlite_store_are_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from civiclab.cli import main

    url = f"sqlite:///{tmp_path / 'survey.db'}"
    args = ["survey", "serve", "--experiment", EXPERIMENT, "--store", url, "--port", str(free_port())]
    assert main([*args, "--workers", "2"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("civiclab: error")]
    assert len(errors) == 1 and "--workers 2: the SQLite store takes one writer at a time" in errors[0]
    assert main([*args, "--workers", "0"]) == 2
    assert "--workers 0: give 1 to 64 processes" in capsys.readouterr().err
