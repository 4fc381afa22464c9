"""1,000 concurrent submissions on loopback: each stored exactly once, duplicates refused (400, the answer an unknown code gets)."""

from __future__ import annotations

import socket
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
