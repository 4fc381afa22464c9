"""What an external server may send back: a byte cap on each reply, and a deadline on its body.

A pilot reads replies from systems it does not control (an assistant's HTTP endpoint, a learning
record store). An endless or enormous reply must not take a run's memory, nor keep a thread reading
after the pilot gave up on it. `bound_replies` hooks into an HTTP client (httpx, or the httpx fork
the OpenAI SDK uses) so that each reply's body is counted as it streams in, after decompression (a
small gzip body cannot expand past the cap), and reading stops with `ReplyRefused`, in one line
naming the endpoint:

- past `CIVICLAB_MAX_REPLY_BYTES` (10 MB by default), or a declared `Content-Length` above it;
- past `deadline_s` after the request was sent, when one is given: a pilot that gives up on a call
  after its timeout sets the same deadline, so the abandoned download stops too (`slow` is then
  True: a retry may succeed);
- for a content encoding it did not ask for (it asks for gzip and deflate, which it can count).

The client raises the error from the call that reads the body (`get`, `post`...), and closes the
connection, so the server sees the download stop.
"""

from __future__ import annotations

import functools
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from civiclab.errors import ReplyRefused
from civiclab.home import int_setting

MAX_REPLY_SETTING = "CIVICLAB_MAX_REPLY_BYTES"
_STARTED = "civiclab.started"  # the request's extension that carries when it was sent
_ACCEPTED = "gzip, deflate"
_CHUNK = 1 << 16

Client = TypeVar("Client")


def max_reply_bytes() -> int:
    """The most bytes one reply may hold: `CIVICLAB_MAX_REPLY_BYTES`."""
    return int_setting(MAX_REPLY_SETTING)


def bound_replies(client: Client, where: str, *, deadline_s: float | None = None) -> Client:
    """`client` (an `httpx.Client`, or the OpenAI SDK's), with every reply bounded; returned for chaining.

    Args:
        client: the HTTP client a pilot reads an external system with.
        where: the endpoint as the error names it (without credentials).
        deadline_s: seconds after sending a request past which its reply is no longer read.
    """
    limit = max_reply_bytes()
    hooks: Any = client.event_hooks  # type: ignore[attr-defined]

    def sent(request: Any) -> None:
        request.extensions.setdefault(_STARTED, time.monotonic())

    def received(response: Any) -> None:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            response.close()
            raise ReplyRefused(_too_large(where, limit))
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        count = _decoded_size(encoding)
        if count is None:
            response.close()
            raise ReplyRefused(f"{where}: the reply is encoded with {encoding!r}, which was not asked for")
        started = response.request.extensions.get(_STARTED, time.monotonic())
        deadline = None if deadline_s is None else started + deadline_s
        bounded = _bounded_stream_class(_byte_stream_base(response.stream))
        response.stream = bounded(response.stream, where, limit, count, deadline, deadline_s)

    client.event_hooks = {  # type: ignore[attr-defined]
        "request": [*hooks.get("request", []), sent],
        "response": [*hooks.get("response", []), received],
    }
    client.headers["Accept-Encoding"] = _ACCEPTED  # type: ignore[attr-defined]
    return client


def _too_large(where: str, limit: int) -> str:
    shown = f"{limit:,}".replace(",", " ")
    return f"{where}: the reply passed {shown} bytes ({MAX_REPLY_SETTING}); reading stopped"


def _decoded_size(encoding: str) -> Callable[[bytes], int] | None:
    """How many bytes a chunk of the body gives once decoded (None: an encoding we cannot count)."""
    if encoding in ("", "identity"):
        return len
    if encoding not in ("gzip", "x-gzip", "deflate"):
        return None
    # gzip, or deflate in its zlib wrapper (the header tells which); deflate without the wrapper too.
    decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)
    first = True

    def decoded(chunk: bytes) -> int:
        nonlocal decoder, first
        try:
            try:
                return _inflated(decoder, chunk)
            except zlib.error:
                if not first:
                    raise
                decoder = zlib.decompressobj(-zlib.MAX_WBITS)
                return _inflated(decoder, chunk)
        except zlib.error:
            return len(chunk)  # a corrupt body: the client refuses it as it decodes it
        finally:
            first = False

    return decoded


def _inflated(decoder: Any, chunk: bytes) -> int:
    size, data = 0, chunk
    while data:
        size += len(decoder.decompress(data, _CHUNK))  # at most 64 KiB of output held at a time
        data = decoder.unconsumed_tail
    return size


def _byte_stream_base(stream: Any) -> type:
    # httpx and its fork each check that a body is an instance of their own `SyncByteStream`.
    return next(c for c in type(stream).__mro__ if c.__name__ == "SyncByteStream")


@functools.cache
def _bounded_stream_class(base: type) -> type:
    class BoundedStream(base):  # type: ignore[misc, valid-type]
        """A reply's body, read through: stops past the byte cap or the deadline."""

        def __init__(
            self,
            stream: Any,
            where: str,
            limit: int,
            count: Callable[[bytes], int],
            deadline: float | None,
            deadline_s: float | None,
        ) -> None:
            self.stream, self.where, self.limit, self.count = stream, where, limit, count
            self.deadline, self.deadline_s = deadline, deadline_s

        def __iter__(self) -> Iterator[bytes]:
            size = 0
            for chunk in self.stream:
                size += self.count(chunk)
                if size > self.limit:
                    raise ReplyRefused(_too_large(self.where, self.limit))
                if self.deadline is not None and time.monotonic() > self.deadline:
                    raise ReplyRefused(
                        f"{self.where}: the reply was still arriving after {self.deadline_s:g} s; "
                        "reading stopped",
                        slow=True,
                    )
                yield chunk

        def close(self) -> None:
            self.stream.close()

    return BoundedStream
