"""A server on 127.0.0.1 whose reply never ends: a JSON string that keeps growing, fast or slowly.

It records, per request, how many bytes it sent and when the client stopped reading (the write
failed because the connection was closed). A safety limit ends each reply after `limit` bytes, so
that a client without a byte cap fails a test instead of filling the machine's memory.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHUNK = b"a" * 65_536


@dataclass
class Download:
    """One reply as the server saw it."""

    started: float
    sent: int = 0
    hung_up_after_s: float | None = None  # when the client closed the connection, if it did


@dataclass
class Endless:
    url: str
    prefix: bytes
    downloads: list[Download] = field(default_factory=list)


@contextlib.contextmanager
def endless_server(
    prefix: bytes = b'{"data": {"answer": "', *, pause_s: float = 0.0, limit: int = 200_000_000
) -> Iterator[Endless]:
    """Serve `prefix` then `a` for ever (until `limit` bytes) to any GET or POST, `pause_s` between chunks."""
    state = Endless(url="", prefix=prefix)

    class Handler(BaseHTTPRequestHandler):
        def _endless(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            download = Download(started=time.monotonic())
            state.downloads.append(download)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            try:
                self.wfile.write(prefix)
                while download.sent < limit:
                    self.wfile.write(CHUNK)
                    download.sent += len(CHUNK)
                    if pause_s:
                        time.sleep(pause_s)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                download.hung_up_after_s = time.monotonic() - download.started

        do_GET = do_POST = _endless  # noqa: N815 - http.server's names

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
