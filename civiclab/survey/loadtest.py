"""Drive a running survey form with concurrent submissions (used by the load test and the benchmark).

Each simulated participant posts the last page of the form with a complete, valid set of answers
and its own invitation code, as a browser does after the earlier pages; the form validates every
page again at that point, so this is the full cost of a submission.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from civiclab.spec.instruments import Instrument


@dataclass
class LoadResult:
    """What came back: a status per submission (in the order given), each one's latency (request sent to
    answer read) and the wall time of the whole burst."""

    statuses: list[int]
    latencies_s: list[float]
    wall_s: float
    errors: list[str] = field(default_factory=list)

    def p(self, q: float) -> float:
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    @property
    def per_second(self) -> float:
        return len(self.statuses) / self.wall_s if self.wall_s else float("nan")


def complete_answers(instruments: Sequence[Instrument], seed: int = 0) -> dict[str, str]:
    """A valid answer to every item, varied by `seed`."""
    out: dict[str, str] = {}
    for inst in instruments:
        for i, (column, item) in enumerate(inst.columns.items()):
            if item.type == "likert" and inst.scale is not None:
                span = inst.scale.max - inst.scale.min + 1
                out[column] = str(inst.scale.min + (seed + i) % span)
            else:
                out[column] = "Réponse libre de test." if (seed + i) % 3 == 0 else ""
    return out


class _Connection:
    """One keep-alive HTTP/1.1 connection on loopback, with just enough parsing for status codes.

    A bare client keeps the load generator's own CPU cost small, so that on a small machine the
    figures measure the form server rather than the HTTP library driving it.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, cookie: str) -> int:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nCookie: {cookie}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length, close = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value.strip())
            elif name.lower() == "connection" and value.strip().lower() == "close":
                close = True
        await self.reader.readexactly(length)
        if close:
            self.writer.close()
            self.writer = None
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def prepared_submissions(
    base_url: str, instruments: Sequence[Instrument], codes: Sequence[str], timeout_s: float = 60.0
) -> tuple[str, list[bytes]]:
    """The CSRF cookie of one browser (from the start page) and, per code, the body of its last page."""
    import urllib.parse

    import httpx

    first = httpx.get(f"{base_url}/fr/", timeout=timeout_s)
    match = re.search(r'name="csrf_token" value="([^"]+)"', first.text)
    if match is None:
        raise RuntimeError("the start page has no CSRF token")
    token = match.group(1)
    cookie = f"civiclab_csrf={first.cookies.get('civiclab_csrf')}"
    last_page = str(len(instruments) - 1)
    bodies = [
        urllib.parse.urlencode(
            {**complete_answers(instruments, i), "csrf_token": token, "code": code, "page": last_page}
        ).encode()
        for i, code in enumerate(codes)
    ]
    return cookie, bodies


async def _submit_all(
    base_url: str, cookie: str, bodies: Sequence[bytes], connections: int, timeout_s: float
) -> LoadResult:
    import urllib.parse

    url = urllib.parse.urlsplit(base_url)
    statuses = [0] * len(bodies)
    latencies = [0.0] * len(bodies)
    errors: list[str] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(bodies)):
        queue.put_nowait(i)
    started = time.perf_counter()

    async def worker() -> None:
        connection = _Connection(url.hostname or "127.0.0.1", url.port or 80)
        try:
            while not queue.empty():
                i = queue.get_nowait()
                sent = time.perf_counter()
                try:
                    statuses[i] = await asyncio.wait_for(
                        connection.post("/fr/survey", bodies[i], cookie), timeout_s
                    )
                except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                    statuses[i] = -1
                    errors.append(f"{type(exc).__name__}: {exc}")
                    connection.close()
                    connection = _Connection(url.hostname or "127.0.0.1", url.port or 80)
                latencies[i] = time.perf_counter() - sent  # from the request on the socket to its answer
        finally:
            connection.close()

    await asyncio.gather(*(worker() for _ in range(min(connections, len(bodies)))))
    return LoadResult(statuses, latencies, time.perf_counter() - started, errors)


def submit_concurrently(
    base_url: str,
    instruments: Sequence[Instrument],
    codes: Sequence[str],
    *,
    connections: int = 1000,
    timeout_s: float = 60.0,
) -> LoadResult:
    """Post one complete submission per code, all at once over up to `connections` sockets."""
    cookie, bodies = prepared_submissions(base_url, instruments, codes, timeout_s)
    return asyncio.run(_submit_all(base_url, cookie, bodies, connections, timeout_s))


def start_server(
    experiment: str, store_url: str, port: int, cwd: Path, timeout_s: float = 30.0, workers: int = 1
) -> subprocess.Popen[bytes]:
    """`civiclab survey serve` (`workers` processes) in a child process on 127.0.0.1, returned once it
    answers /healthz."""
    import httpx

    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from civiclab.cli import main; raise SystemExit(main())",
            "survey",
            "serve",
            "--experiment",
            experiment,
            "--store",
            store_url,
            "--port",
            str(port),
            "--rate-limit",
            "0",  # one client sends every code on purpose
            "--workers",
            str(workers),
        ],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"the survey server exited ({process.returncode}): {err[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the survey server did not answer within the time allowed")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
