"""A fake OpenAI-compatible judge on 127.0.0.1 (http.server, a free port), deterministic.

It grades like a careful reader with a lexicon: a question showing a complaint, distress, a legal case
or a request for a person needed a human; the handling is "appropriate" when the assistant's hand-over
matches that. It keeps every prompt it received so that a test can check what reached it.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pilots.assistant.signals import lexicon_hits
from pilots.assistant.standin import chat_completion

_HUMAN = ("complaint_signal", "distress_signal", "legal_signal", "human_request")


def grade(prompt: str) -> dict[str, Any]:
    question = re.search(r"Question de l'usager : (.*)", prompt)
    handed = "passé la main à un agent : oui" in prompt
    hits = lexicon_hits(question.group(1) if question else "")
    needs_human = any(hits[s] for s in _HUMAN)
    answer = re.search(r"Réponse de l'assistant : (.*)", prompt)
    cited = bool(answer and re.search(r"\[S\d+\]", answer.group(1)))
    return {
        "handling": "appropriate" if handed == needs_human else "inappropriate",
        "grounded": 5 if cited or handed else 2,
        "reason": "lexicon judge",
    }


@contextlib.contextmanager
def fake_judge() -> Iterator[tuple[str, list[str]]]:
    """Yields (base URL ending in /v1, prompts received)."""
    prompts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            messages = body.get("messages", [])
            prompt = next((m["content"] for m in messages if m["role"] == "user"), "")
            prompts.append(prompt)
            data = json.dumps(chat_completion(body.get("model", "judge"), json.dumps(grade(prompt)))).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", prompts
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
