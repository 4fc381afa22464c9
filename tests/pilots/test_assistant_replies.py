"""An external assistant's replies are bounded: an endless reply fails the question, not the machine.

The server streams a JSON string that never ends. Each reply is read up to the byte cap
(`CIVICLAB_MAX_REPLY_BYTES`, 10 MB) and the question fails with a line naming the endpoint and the
setting; a reply still arriving when the call times out stops being read (the server sees the
connection closed), instead of going on in a thread the dispatcher abandoned.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from civiclab.plugins.experiment import load_experiment
from civiclab.run.runner import run_experiment
from pilots.assistant.systems import Calls, Question
from pilots.assistant.systems.config import HttpSystem, OpenAISystem
from pilots.assistant.systems.dispatch import Dispatcher
from pilots.assistant.systems.http import HttpJsonSystem
from pilots.assistant.systems.openai import OpenAIChatSystem
from tests.pilots.byo_support import byo_spec, http_system
from tests.pilots.endless_support import Endless, endless_server

MB = 1_000_000


class PeakMemory:
    """The process's resident memory, sampled every 20 ms while the block runs: its peak above the start."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.start = self.peak = self.process.memory_info().rss
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def growth(self) -> int:
        return self.peak - self.start


@pytest.fixture
def endless() -> Iterator[Endless]:
    with endless_server() as server:
        yield server


def http_spec(url: str, **calls: float) -> HttpSystem:
    return HttpSystem.model_validate(
        {
            "kind": "http",
            "url": f"{url}/answer",
            "response": {"answer": "data.answer"},
            "calls": {"concurrency": 2, "timeout_s": 30, "retries": 0, **calls},
        }
    )


def test_an_endless_reply_is_cut_at_the_byte_cap_and_memory_stays_bounded(endless: Endless) -> None:
    dispatcher = Dispatcher(
        HttpJsonSystem(http_spec(endless.url)), Calls(concurrency=2, timeout_s=30, retries=0)
    )
    with PeakMemory() as memory:
        dispatcher.submit_many((f"s{i}/0", Question(text=f"question {i}")) for i in range(4))
        replies = [dispatcher.result(f"s{i}/0", Question(text="")) for i in range(4)]
    dispatcher.close()
    for reply in replies:
        assert reply.failed and reply.attempts == 1
        assert reply.error == (
            f"SystemCallError: {endless.url}/answer: the reply passed 10 000 000 bytes "
            "(CIVICLAB_MAX_REPLY_BYTES); reading stopped"
        )
    assert memory.growth < 100 * MB, f"peak memory grew by {memory.growth / MB:.0f} MB"
    time.sleep(0.5)  # the server notices the closed connection at its next write
    assert len(endless.downloads) == 4
    # What was sent past the cap sat in the two sockets' buffers (a few MB on the loopback).
    assert all(d.hung_up_after_s is not None and d.sent < 30 * MB for d in endless.downloads)


def test_a_smaller_cap_is_read_from_the_setting(endless: Endless, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICLAB_MAX_REPLY_BYTES", "200000")
    system = HttpJsonSystem(http_spec(endless.url))
    reply = Dispatcher(system, Calls(retries=0)).ask(Question(text="q"))
    assert "the reply passed 200 000 bytes (CIVICLAB_MAX_REPLY_BYTES)" in (reply.error or "")


def test_a_reply_still_arriving_at_the_timeout_stops_being_downloaded() -> None:
    """A slow endless reply: the call gives up after its timeout, and so does the download."""
    with endless_server(pause_s=0.05, limit=30 * MB) as slow:  # about 1.3 MB/s, for 20 s at most
        dispatcher = Dispatcher(
            HttpJsonSystem(http_spec(slow.url, timeout_s=1)), Calls(timeout_s=1, retries=0)
        )
        started = time.monotonic()
        reply = dispatcher.ask(Question(text="q"))
        assert time.monotonic() - started < 2.5
        assert reply.failed and "the reply was still arriving after 1 s; reading stopped" in (
            reply.error or ""
        )
        assert (reply.error or "").startswith("TransientError: ")  # a timeout: worth another attempt
        time.sleep(1.0)
        (download,) = slow.downloads
        assert download.hung_up_after_s is not None and download.hung_up_after_s < 2.5
        assert download.sent < 5 * MB
        dispatcher.close()


def test_an_openai_compatible_endpoint_is_bounded_the_same_way(endless: Endless) -> None:
    spec = OpenAISystem.model_validate(
        {"kind": "openai", "base_url": f"{endless.url}/v1", "model": "m", "calls": {"retries": 0}}
    )
    reply = Dispatcher(OpenAIChatSystem(spec), spec.calls).ask(Question(text="q"))
    assert reply.error == (
        f"SystemCallError: {endless.url}/v1: the reply passed 10 000 000 bytes "
        "(CIVICLAB_MAX_REPLY_BYTES); reading stopped"
    )


def test_a_compressed_reply_is_counted_once_decompressed() -> None:
    """A small gzip body that expands past the cap (a compression bomb) is stopped at the cap too."""
    import gzip

    import httpx

    from civiclab import ReplyRefused, bound_replies

    bomb = gzip.compress(b'{"answer": "' + b"a" * 50 * MB + b'"}')
    assert len(bomb) < MB // 10

    def answer(request: httpx.Request) -> httpx.Response:
        # A body to stream, as a server's (`content=` would hand httpx a body already read).
        return httpx.Response(200, stream=httpx.ByteStream(bomb), headers={"Content-Encoding": "gzip"})

    client = bound_replies(httpx.Client(transport=httpx.MockTransport(answer)), "http://bomb.example")
    with pytest.raises(ReplyRefused, match=r"^http://bomb.example: the reply passed 10 000 000 bytes"):
        client.get("http://bomb.example/")
    refused = httpx.Response(200, content=b"{}", headers={"Content-Encoding": "br"})
    client = bound_replies(
        httpx.Client(transport=httpx.MockTransport(lambda r: refused)), "http://br.example"
    )
    with pytest.raises(ReplyRefused, match="encoded with 'br', which was not asked for"):
        client.get("http://br.example/")


@pytest.mark.slow
def test_an_endless_endpoint_fails_the_sessions_with_the_reason(endless: Endless, tmp_path: Path) -> None:
    """The issue's case, through the runner: 4 sessions against an endless endpoint."""
    spec = byo_spec(tmp_path, http_system(endless.url, concurrency=2, retries=0), sessions=4)
    result = run_experiment(load_experiment(spec), tracking_uri=f"sqlite:///{tmp_path}/m.db")
    assert result.artifact_dir is not None
    sessions = [
        json.loads(line) for line in (result.artifact_dir / "sessions.jsonl").read_text().splitlines()
    ]
    assert len(sessions) == 4 and {s["outcome"] for s in sessions} == {"failed"}
    errors = {t["error"] for s in sessions for t in s["data"]["turns"]}
    assert errors == {
        f"SystemCallError: {endless.url}/answer: the reply passed 10 000 000 bytes "
        "(CIVICLAB_MAX_REPLY_BYTES); reading stopped"
    }
