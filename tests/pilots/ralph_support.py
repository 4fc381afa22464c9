"""A real LRS for tests and benchmarks: Ralph (`ralph-malph`) on 127.0.0.1, `fs` backend, own venv.

Ralph's pins conflict with civiclab's, so `make` installs it in `.venv-lrs` and civiclab talks to
it over HTTP only, as it would to any LRS.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
RALPH = ROOT / ".venv-lrs" / "bin" / "ralph"
USER, PASSWORD = "lab", "secret"


@dataclass
class Ralph:
    url: str  # the xAPI endpoint, e.g. http://127.0.0.1:PORT/xAPI/
    credentials: str  # user:password, for the environment variable civiclab reads

    def post(self, statements: list[dict[str, Any]]) -> list[str]:
        """POST statements in one request; the ids Ralph stored.

        One request, because Ralph's `fs` backend creates its file on the first write of new
        statements and refuses any later one (a statement already stored is accepted and skipped).
        """
        with httpx.Client(
            auth=(USER, PASSWORD), headers={"X-Experience-API-Version": "1.0.3"}, timeout=600
        ) as c:
            response = c.post(self.url + "statements", json=statements)
            response.raise_for_status()
            return list(response.json()) if response.status_code == 200 else []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_ralph(folder: Path, max_page: int = 100, timeout_s: float = 90.0) -> Iterator[Ralph]:
    """Start Ralph in `folder`, wait until it answers, and stop it (its whole process group) after."""
    app, data = folder / "ralph-app", folder / "ralph-data"
    app.mkdir(parents=True, exist_ok=True)
    data.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "RALPH_APP_DIR": str(app),
        "RALPH_RUNSERVER_BACKEND": "fs",
        "RALPH_RUNSERVER_MAX_SEARCH_HITS_COUNT": str(max_page),
        "RALPH_SENTRY_DSN": "",
    }
    subprocess.run(
        [str(RALPH), "auth", "-u", USER, "-p", PASSWORD, "-s", "all", "-M", "mailto:lab@example.org", "-w"],
        env=env,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    log = (folder / "ralph.log").open("w")
    server = subprocess.Popen(
        [
            str(RALPH),
            "runserver",
            "-b",
            "fs",
            "--fs-default-directory-path",
            str(data),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # `runserver` starts a reloader and a worker: stop them together
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"ralph runserver exited: {(folder / 'ralph.log').read_text()[-2000:]}")
            try:
                if httpx.get(base + "/whoami", auth=(USER, PASSWORD), timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"ralph did not answer on {base} within {timeout_s:.0f} s")
            time.sleep(0.3)
        yield Ralph(url=base + "/xAPI/", credentials=f"{USER}:{PASSWORD}")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
