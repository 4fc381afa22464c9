"""Multi-user scale: an experiment run against an MLflow tracking server backed by PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from civiclab.store.tracker import Tracker
from tests.integration.servers import mlflow_server, postgres

pytestmark = pytest.mark.integration


def civiclab(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    env.pop("MLFLOW_TRACKING_URI", None)
    return subprocess.run(
        [sys.executable, "-m", "civiclab.cli", *args], capture_output=True, text=True, timeout=600, env=env
    )


def test_run_against_a_postgresql_backed_server_and_read_it_back(journey_spec: Path, tmp_path: Path) -> None:
    with postgres() as db_url, mlflow_server(db_url, tmp_path / "artifacts") as server:
        result = civiclab("--tracking-uri", server, "run", str(journey_spec), "--sessions", "150", "--json")
        assert result.returncode == 0, result.stderr[-3000:]
        assert result.stdout.strip().startswith("{"), result.stdout[:3000]
        out = json.loads(result.stdout)
        assert out["tracking_uri"] == server

        # Read the run back through the server, as a committee member on another machine would.
        tracker = Tracker(server)
        run = tracker.get_run(out["run_id"])
        assert run.status == "FINISHED"
        assert run.experiment == "housing-benefit-journey"
        assert run.metrics["human_centered.completion_rate"] == pytest.approx(
            out["metrics"]["human_centered.completion_rate"]
        )
        assert run.tags["civiclab.audit_root"] == out["audit_root"]
        assert run.params["population.sessions"] == "150"
        folder = tracker.download(out["run_id"], tmp_path / "download")
        assert (folder / "audit.jsonl").exists() and (folder / "scorecard.json").exists()
        # The artifacts live in the server's store, not on this side.
        assert any((tmp_path / "artifacts").rglob("manifest.json"))

        verify = civiclab("--tracking-uri", server, "verify", out["run_id"])
        # Intact, but no trust file: whose signature it is was not checked (exit 3, never a plain OK).
        assert verify.returncode == 3, verify.stderr
        assert verify.stdout.startswith(f"EVIDENCE INTACT — run {out['run_id']}"), verify.stdout
        assert f"NOT CHECKED: run {out['run_id']} (signed)" in verify.stdout
        assert "store: metrics     OK" in verify.stdout and "audit chain        OK" in verify.stdout
        listed = civiclab("--tracking-uri", server, "runs", "--json")
        assert out["run_id"] in {r["run_id"] for r in json.loads(listed.stdout)}
