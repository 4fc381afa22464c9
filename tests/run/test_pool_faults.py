"""A process-pool worker killed mid-run (kill -9): one line naming the session it was running, the run
marked FAILED with its journal readable, and the run's provenance naming the pool that ran it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from civiclab.evidence.audit import verify_audit_log
from civiclab.evidence.signing.seal import run_signer
from civiclab.store.tracker import Tracker
from tests.run.test_session_timeout import SLEEPER, sleepy_spec

pytestmark = pytest.mark.slow  # a fresh civiclab process

ROOT = Path(__file__).resolve().parents[2]
# The CLI, with the tests' sleepy pilot registered (workers are forked: they have it too).
CLI = (
    "import sys, tests.run.test_session_timeout; from civiclab.cli import main; sys.exit(main(sys.argv[1:]))"
)


@pytest.mark.timeout(180)
def test_a_killed_pool_worker_fails_the_run_in_one_line_naming_its_session(
    journey_spec: Path, store_uri: str, tmp_path: Path
) -> None:
    pid_file = tmp_path / "sleeper.pid"
    spec = sleepy_spec(journey_spec, {"batch": 1}, sleep_at=[SLEEPER], sleep_s=120, pid_file=str(pid_file))
    Tracker(store_uri).experiment_id("housing-benefit-journey")  # the store exists before the run opens
    run_signer(None)  # the lab's signing key exists: the run prints nothing about creating it
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_DISABLE_TELEMETRY": "true"}
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI, "--tracking-uri", store_uri, "run", str(spec), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 120
    while not pid_file.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert pid_file.exists(), proc.communicate()[1]
    worker = int(pid_file.read_text())
    assert worker != proc.pid
    time.sleep(0.2)  # the other worker is busy or waiting on the queue
    os.kill(worker, signal.SIGKILL)
    _, stderr = proc.communicate(timeout=120)

    assert proc.returncode == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("civiclab: error: ")
    assert f"session s{SLEEPER:06d}" in lines[0] and "SIGKILL" in lines[0]
    (run,) = Tracker(store_uri).list_runs()
    assert run.status == "FAILED"
    assert f"s{SLEEPER:06d}" in run.tags["civiclab.error"]
    assert run.tags["civiclab.executor"] == "process"  # `--workers 2` ran a pool, whatever the spec said
    folder = Tracker(store_uri).local_artifact_dir(run.run_id)
    assert folder is not None
    summary = verify_audit_log(folder / "audit.jsonl")  # what was journalled stays readable
    assert summary.opened == summary.closed <= SLEEPER
