"""A store that cannot be used fails fast, in one line, exit 2 (issue 15: "Crashes, hangs and messages")."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from civiclab.cli import main

ROOT = Path(__file__).resolve().parents[2]


def civiclab(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> tuple[int, str, str, float]:
    """Run the real CLI in a subprocess; returns (exit code, stdout, stderr, seconds)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "civiclab.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd or ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )
    return done.returncode, done.stdout, done.stderr, time.perf_counter() - started


# Guards issue 15: on main `runs` hung ≈250 s then printed a 112-line traceback, `verify` said "no run".
@pytest.mark.parametrize("command", [["runs"], ["verify", "0123456789abcdef0123456789abcdef"]])
def test_an_unreachable_tracking_server_fails_within_ten_seconds_in_one_line(command: list[str]) -> None:
    code, out, err, seconds = civiclab("--tracking-uri", "http://lab:pw123456@127.0.0.1:1", *command)
    assert code == 2 and seconds < 10, (code, seconds)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "tracking server http://lab:***@127.0.0.1:1 is unreachable" in lines[0]
    assert "pw123456" not in err + out and "no run" not in err


def test_a_server_that_accepts_but_never_answers_is_bounded_by_the_configured_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        code, _out, err, seconds = civiclab(
            "--tracking-uri", f"http://127.0.0.1:{port}", "runs", env={"CIVICLAB_TRACKING_TIMEOUT_S": "2"}
        )
    assert code == 2 and seconds < 8, (code, seconds)
    assert "unreachable" in err and len(err.strip().splitlines()) == 1


# Guards issue 15: an sqlite path under a file (15-line traceback) or under /proc (24 lines).
@pytest.mark.parametrize("where", ["file", "proc"])
def test_an_sqlite_store_that_cannot_exist_is_one_line(
    where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if where == "file":
        (tmp_path / "plain").write_text("not a folder")
        uri = f"sqlite:///{tmp_path / 'plain' / 'mlruns' / 'mlflow.db'}"
    else:
        uri = "sqlite:////proc/civiclab/mlflow.db"
    started = time.perf_counter()
    assert main(["--tracking-uri", uri, "runs"]) == 2
    assert time.perf_counter() - started < 5
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"civiclab: error: tracking URI {uri}: cannot")


# Guards issue 15 "Unknown run ids exit 1": a user's mistake is exit 2 everywhere.
@pytest.mark.parametrize(
    "command",
    [
        ["show"],
        ["verify"],
        ["report"],
        ["review", "--key", "store-access-reviewer", "--decision", "approve"],
        ["compare", "feedfacefeedfacefeedfacefeedface"],
    ],
)
@pytest.mark.slow
def test_an_unknown_run_id_is_exit_2(
    command: list[str], store_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name, *options = command
    if name == "review":  # a real reviewer's key, so that only the run id is wrong
        from civiclab.evidence.signing.keys import ensure_demo_key
        from tests.reviewer_keys import reviewer_key

        ensure_demo_key()
        reviewer_key("store-access-reviewer")
    assert main(["--tracking-uri", store_uri, name, "feedfacefeedfacefeedfacefeedface", *options]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no run 'feedfacefeedfacefeedfacefeedface'" in err[0]
