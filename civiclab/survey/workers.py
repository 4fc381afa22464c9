"""Serving the survey form from several processes on one listening socket (`survey serve --workers N`).

One Python process answers a few hundred submissions a second; a national consultation peaks far
higher. The parent binds the socket, then forks N workers that accept on it (the kernel spreads the
connections); each opens its own connection pool to the store, since a pool does not survive a fork.
The workers share one CSRF secret, so a page served by one is accepted by another. Each worker keeps
its own rate limit, so a client gets up to N times `--rate-limit` posts a minute: put the limit in the
reverse proxy when several workers serve. The store must take concurrent writers: PostgreSQL
(SQLite serialises every write on one file and answers "database is locked" under load).
"""

from __future__ import annotations

import multiprocessing
import secrets
import signal
import socket
import sys
from collections.abc import Callable
from typing import Any

from civiclab.errors import SurveyError

MAX_WORKERS = 64


def check_workers(workers: int, store_url: str) -> None:
    """`SurveyError` in one line for a worker count the store cannot serve."""
    if not 1 <= workers <= MAX_WORKERS:
        raise SurveyError(f"--workers {workers}: give 1 to {MAX_WORKERS} processes")
    if workers > 1 and store_url.startswith("sqlite"):
        raise SurveyError(
            f"--workers {workers}: the SQLite store takes one writer at a time; serve several workers "
            "from a PostgreSQL store (--store postgresql+psycopg://...)"
        )


def _worker(
    sock: socket.socket, make_app: Callable[[bytes], Any], secret: bytes, host: str, port: int
) -> None:
    import uvicorn

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the workers with SIGTERM
    config = uvicorn.Config(make_app(secret), host=host, port=port, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def serve_workers(
    sock: socket.socket, make_app: Callable[[bytes], Any], workers: int, host: str, port: int
) -> int:
    """Fork `workers` processes serving `make_app(secret)` on `sock`; returns when they have stopped.

    SIGINT or SIGTERM to the parent stops every worker; a worker that dies stops the others, so the
    form is never half up without anyone noticing.
    """
    context = multiprocessing.get_context("fork")
    secret = secrets.token_bytes(32)
    children = [
        context.Process(target=_worker, args=(sock, make_app, secret, host, port), daemon=False)
        for _ in range(workers)
    ]
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.is_alive():
                child.terminate()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for child in children:
            child.start()
        from multiprocessing.connection import wait

        wait([c.sentinel for c in children])  # the first worker to stop stops the form
        if not stopping:
            dead = next(c for c in children if not c.is_alive())
            print(f"civiclab: a survey worker exited ({dead.exitcode}); stopping the others", file=sys.stderr)
        stop(signal.SIGTERM, None)
        for child in children:
            child.join(timeout=10)
            if child.is_alive():
                child.kill()
                child.join()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0 if stopping else 1
