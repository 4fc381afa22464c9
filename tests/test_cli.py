"""The command line's own messages: one line, no traceback, no password (issue 20, "Messages and passive
outputs")."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from civiclab.cli import main

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "pw123456"


def civiclab(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str, float]:
    """Run the real CLI in a subprocess; returns (exit code, stdout, stderr, seconds)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "civiclab.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )
    return done.returncode, done.stdout, done.stderr, time.perf_counter() - started


@pytest.fixture
def hanging_server() -> Iterator[str]:
    """A tracking server that answers /health and never answers its API (until the test ends)."""
    released = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/health"):
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"OK")
                return
            released.wait(60)

        do_POST = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://lab:{PASSWORD}@127.0.0.1:{server.server_address[1]}"
    finally:
        released.set()
        server.shutdown()
        server.server_close()


# Guards issue 20: a server answering /health but hanging on its API gave an MlflowException traceback.
@pytest.mark.parametrize("command", [["runs"], ["show", "0123456789abcdef0123456789abcdef"]])
def test_a_server_that_answers_health_but_not_its_api_is_one_line_within_its_budget(
    command: list[str], hanging_server: str
) -> None:
    budget = {"CIVICLAB_TRACKING_TIMEOUT_S": "1", "CIVICLAB_TRACKING_RETRIES": "0"}
    code, out, err, seconds = civiclab("--tracking-uri", hanging_server, *command, env=budget)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert "answers /health but its API did not answer within 1 s (0 retries" in lines[0]
    assert "lab:***@127.0.0.1" in lines[0] and PASSWORD not in err + out
    assert seconds < 30


# Guards issue 20: `civiclab runs --tracking-uri URI` was refused by argparse, echoing the password.
def test_the_tracking_uri_is_accepted_after_the_command(
    store_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runs", "--tracking-uri", store_uri]) == 0
    assert "no civiclab runs in this store yet" in capsys.readouterr().out
    assert main(["runs", "--json", "--tracking-uri", store_uri]) == 0
    assert capsys.readouterr().out.strip() == "[]"
    unreachable = f"postgresql://lab:{PASSWORD}@127.0.0.1:1/mlflow"
    assert main(["runs", "--tracking-uri", unreachable]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "postgresql://lab:***@127.0.0.1:1/mlflow" in err
    assert PASSWORD not in err


def test_a_value_argparse_refuses_is_echoed_without_its_password(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["runs", "--limit", f"postgresql://lab:{PASSWORD}@db/mlflow"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "invalid int value: 'postgresql://lab:***@db/mlflow'" in err and PASSWORD not in err


def _with_reader_gone(*args: str) -> tuple[int, str]:
    """Run the CLI with its stdout piped to a reader that has already gone (`| head -1` that finished)."""
    child = subprocess.Popen(
        [sys.executable, "-m", "civiclab.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # before the command has printed anything: every write of it fails
    err = child.stderr.read().decode()
    return child.wait(timeout=120), err


# Guards issue 20: `civiclab verify|show ... | head -1` ended in a BrokenPipeError traceback.
@pytest.mark.parametrize("command", ["show", "verify", "settings"])
def test_output_to_a_reader_that_went_away_ends_quietly(command: str, finished_run: tuple[str, str]) -> None:
    store, run_id = finished_run
    args = ["settings"] if command == "settings" else ["--tracking-uri", store, command, run_id]
    code, err = _with_reader_gone(*args)
    assert err == "" and code == 141


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A finished toy run in its own store: (store URI, run id)."""
    from tests.reporting import toy
    from tests.reporting.conftest import make_runner, toy_spec

    toy.register()
    folder = tmp_path_factory.mktemp("cli-run")
    store = f"sqlite:///{folder / 'mlflow.db'}"
    spec = toy_spec("cli-output")
    spec["population"]["sessions"] = 20
    result = make_runner(folder, store)(spec)
    return store, result.run_id
