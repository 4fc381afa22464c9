"""A local stand-in for the lab's own assistant, so `make demo`, the tests and the bench need no vendor.

It serves, on 127.0.0.1, both an OpenAI-compatible `POST /v1/chat/completions` and a plain JSON
`POST /answer` (`{"question"}` -> `{"answer", "sources", "handed_over"}`). It answers deterministically
from the knowledge base (the sheet sharing most words with the question, its first sentences, cited)
and hands over when the question shows a complaint, distress, a legal case or asks for a person.
Modes make it misbehave on purpose for tests: `echo` repeats the question (personal data included),
`fail` answers HTTP 500, `slow` waits past any sensible timeout.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from civiclab.text import content_words, load_knowledge_base, passages, sentences
from pilots.assistant.signals import lexicon_hits

logger = logging.getLogger(__name__)
Mode = Literal["answer", "echo", "fail", "slow"]
HANDOVER_FR = (
    "Votre demande doit être traitée par un agent : je vous mets en relation avec l'accueil de la mairie."
)
HANDOVER_EN = (
    "A member of staff must handle this: I am putting you in touch with the town hall reception desk."
)


@dataclass
class StandIn:
    """The answering logic, separate from HTTP so that it can be tested and timed alone."""

    knowledge_base: Path
    mode: Mode = "answer"
    delay_s: float = 0.0
    token: str | None = None  # when set, requests must carry `Authorization: Bearer TOKEN`

    def __post_init__(self) -> None:
        self.passages = passages(load_knowledge_base(self.knowledge_base))
        self.words = [content_words(p.content) for p in self.passages]

    def reply(self, question: str) -> dict[str, Any]:
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.mode == "echo":
            return {"answer": f"Vous avez écrit : {question}", "sources": [], "handed_over": False}
        english = bool(content_words(question) & {"how", "what", "can", "where", "need"})
        signals = lexicon_hits(question)
        if any(signals[s] for s in ("complaint_signal", "distress_signal", "legal_signal", "human_request")):
            return {"answer": HANDOVER_EN if english else HANDOVER_FR, "sources": [], "handed_over": True}
        asked = content_words(question)
        stems = {w[:5] for w in asked}
        scores = [len(stems & {w[:5] for w in words}) for words in self.words]
        best = max(range(len(scores)), key=lambda i: (scores[i], -i))
        if scores[best] == 0:
            return {"answer": HANDOVER_EN if english else HANDOVER_FR, "sources": [], "handed_over": True}
        passage = self.passages[best]
        text = " ".join(sentences(passage.text)[:2])
        return {"answer": f"{text} [{passage.sheet}]", "sources": [passage.sheet], "handed_over": False}


def _handler(stand_in: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            logger.debug(format, *args)

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self._send(400, {"error": "not JSON"})
                return
            if stand_in.token and self.headers.get("Authorization") != f"Bearer {stand_in.token}":
                self._send(401, {"error": "missing or wrong bearer token"})
                return
            if stand_in.mode == "fail":
                self._send(500, {"error": "stand-in told to fail"})
                return
            if stand_in.mode == "slow":
                time.sleep(30)
            route = urlparse(self.path).path.rstrip("/")
            if route.endswith("/chat/completions"):
                question = next(
                    (
                        m.get("content", "")
                        for m in reversed(body.get("messages", []))
                        if m.get("role") == "user"
                    ),
                    "",
                )
                reply = stand_in.reply(str(question))
                self._send(200, chat_completion(body.get("model", "stand-in"), reply["answer"]))
            elif route == "/answer":
                reply = stand_in.reply(str(body.get("question", "")))
                self._send(200, {"data": reply, "status": "ok"})
            else:
                self._send(404, {"error": f"no route {self.path}"})

    return Handler


def chat_completion(model: str, text: str) -> dict[str, Any]:
    """A minimal OpenAI chat-completion body the `openai` client accepts."""
    return {
        "id": "chatcmpl-standin",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


@contextlib.contextmanager
def serve(
    knowledge_base: Path,
    *,
    port: int = 0,
    mode: Mode = "answer",
    delay_s: float = 0.0,
    token: str | None = None,
) -> Iterator[str]:
    """Run the stand-in on 127.0.0.1 (a free port by default) while the block runs; yields its base URL."""
    stand_in = StandIn(knowledge_base, mode, delay_s, token)
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(stand_in))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="civiclab-standin", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
