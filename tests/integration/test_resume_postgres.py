"""Resume against an MLflow tracking server on PostgreSQL: a run SIGKILLed mid-way on the server's store
is finished with --resume from the files it staged on this machine, to an uninterrupted run's records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civiclab.store.tracker import Tracker
from tests.integration.servers import mlflow_server, postgres
from tests.run.test_resume import SESSIONS, civiclab, comparable, kill_midway, run_args, without_timings

pytestmark = pytest.mark.integration


@pytest.mark.timeout(1200)
def test_a_sigkilled_run_on_a_postgresql_server_resumes(
    journey_spec: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    staging = tmp_path / "staging"
    monkeypatch.setenv("CIVICLAB_STAGING_DIR", str(staging))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with postgres() as db_url, mlflow_server(db_url, tmp_path / "artifacts") as server:
        killed = kill_midway(journey_spec, server, staging, CIVICLAB_STAGING_DIR=str(staging))
        resumed = civiclab(*run_args(journey_spec, server), "--resume", killed)
        assert resumed.returncode == 0, resumed.stderr[-3000:]
        assert json.loads(resumed.stdout)["sessions"] == SESSIONS
        tracker = Tracker(server)
        run = tracker.get_run(killed)
        assert run.status == "FINISHED" and run.tags["civiclab.resumed"] == "1"
        folder = tracker.download(killed, tmp_path / "download")
        verified = civiclab("--tracking-uri", server, "verify", killed)
        assert verified.returncode == 3, verified.stdout + verified.stderr  # intact; no trust file given

    reference_uri = f"sqlite:///{tmp_path / 'reference' / 'mlflow.db'}"
    whole = civiclab(*run_args(journey_spec, reference_uri))
    assert whole.returncode == 0, whole.stderr
    reference = Tracker(reference_uri).local_artifact_dir(json.loads(whole.stdout)["run_id"])
    assert reference is not None
    assert without_timings(folder / "sessions.jsonl") == without_timings(reference / "sessions.jsonl")
    mine, theirs = comparable(folder / "metrics.json"), comparable(reference / "metrics.json")
    mine.pop("auditability.chain_valid[None]"), theirs.pop("auditability.chain_valid[None]")
    assert mine == theirs
    assert not (staging / f"civiclab-run-{killed}").exists(), "a finished run leaves no staging folder"
