"""The runner on a real SQLite store: faults keep records readable and mark runs FAILED or KILLED."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel, ConfigDict

from civiclab.errors import AuditError
from civiclab.experiment import load_experiment
from civiclab.pilot import EventLog, Pilot
from civiclab.records import SessionPlan, SessionRecord
from civiclab.registry import evaluator, pilot
from civiclab.runner import run_experiment
from civiclab.tracking import Tracker
from civiclab.verify import verify_run

FAST = {"energy.tracker": "none", "population.sessions": 60}


class FlakyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    crash_every: int = 0
    crash_setup: bool = False


@pilot("test-flaky", params=FlakyParams)
class FlakyPilot(Pilot[FlakyParams]):
    """A pilot whose sessions crash on purpose (tests only)."""

    def setup(self) -> None:
        if self.params.crash_setup:
            raise RuntimeError("model directory vanished")

    def run_session(self, plan: SessionPlan) -> SessionRecord:
        if self.params.crash_every and plan.index % self.params.crash_every == 0:
            raise ValueError(f"boom in {plan.session_id}")
        log = EventLog(plan.session_id, self.session_start(plan))
        log.add("journey.start", "citizen", 0)
        log.add("journey.complete", "citizen", 10, note="write to jean.dupont@example.fr")
        return SessionRecord(
            session_id=plan.session_id,
            persona_id=plan.persona_id,
            segment=plan.segment,
            events=log.events,
            outcome="completed",
            duration_s=10,
        )


@evaluator("test-broken", dimension="human_centered")
def broken(run: object, params: object) -> list:  # type: ignore[type-arg]
    """An evaluator that always fails (tests only)."""
    raise ZeroDivisionError("no respondents")


def flaky_spec(journey_spec: Path, **params: object) -> Path:
    data = yaml.safe_load(journey_spec.read_text())
    data["pilot"] = {"kind": "test-flaky", "params": params}
    data["evaluators"] = ["human_centered", "auditability", "test-broken"]
    data["scorecard"]["criteria"].append({"metric": "human_centered.evaluator_error", "at_least": 1})
    journey_spec.write_text(yaml.safe_dump(data))
    return journey_spec


def test_crashing_sessions_and_evaluators_do_not_lose_the_run(journey_spec: Path, store_uri: str) -> None:
    spec = flaky_spec(journey_spec, crash_every=4)
    result = run_experiment(load_experiment(spec, FAST), tracking_uri=store_uri)
    run = Tracker(store_uri).get_run(result.run_id)
    assert run.status == "FINISHED"
    values = {m.key: m.value for m in result.metrics}
    assert values["human_centered.failure_rate"] == pytest.approx(15 / 60)
    assert values["auditability.session_errors"] == pytest.approx(15 / 60)
    assert "test-broken: ZeroDivisionError: no respondents" in result.scorecard.evaluator_errors
    missing = [c for c in result.scorecard.criteria if c.metric == "human_centered.evaluator_error"]
    assert missing and missing[0].verdict == "missing"
    folder = result.artifact_dir
    assert folder is not None
    sessions = [json.loads(line) for line in (folder / "sessions.jsonl").read_text().splitlines()]
    assert sessions[0]["error"] == "ValueError: boom in s000000" and sessions[0]["outcome"] == "failed"
    # Personal data in events is redacted before it is logged.
    assert "jean.dupont@example.fr" not in (folder / "audit.jsonl").read_text()
    assert "[EMAIL]" in (folder / "audit.jsonl").read_text()


def test_a_run_that_raises_is_marked_failed(journey_spec: Path, store_uri: str) -> None:
    spec = flaky_spec(journey_spec, crash_setup=True)
    with pytest.raises(RuntimeError, match="model directory vanished"):
        run_experiment(load_experiment(spec, FAST), tracking_uri=store_uri)
    (run,) = Tracker(store_uri).list_runs()
    assert run.status == "FAILED"
    assert "model directory vanished" in run.tags["civiclab.error"]


def test_tampering_with_any_artifact_fails_verification(journey_spec: Path, store_uri: str) -> None:
    result = run_experiment(load_experiment(journey_spec, FAST), tracking_uri=store_uri)
    tracker = Tracker(store_uri)
    assert verify_run(tracker, result.run_id).ok
    folder = result.artifact_dir
    assert folder is not None
    artifacts = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert {
        "audit.jsonl",
        "sessions.jsonl",
        "metrics.json",
        "scorecard.json",
        "scorecard.md",
        "spec.yaml",
        "plots/funnel.png",
        "manifest.json",
    } <= set(artifacts)
    for artifact in artifacts:
        path = folder / artifact
        original = path.read_bytes()
        data = bytearray(original)
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
        with pytest.raises(AuditError) as err:
            verify_run(tracker, result.run_id)
        assert artifact in str(err.value) or (artifact == "manifest.json" and "manifest" in str(err.value))
        path.write_bytes(original)
        assert verify_run(tracker, result.run_id).ok


SLOW_RUN = """
import sys, time
from civiclab.experiment import load_experiment
from civiclab.pilot import EventLog, Pilot
from civiclab.records import SessionRecord
from civiclab.registry import NoParams, pilot
from civiclab.runner import run_experiment

@pilot("test-slow", params=NoParams)
class Slow(Pilot):
    def run_session(self, plan):
        if plan.index == 5:
            print("sessions running", flush=True)
        time.sleep(0.05)
        log = EventLog(plan.session_id, self.session_start(plan))
        log.add("journey.start", "citizen", 0)
        return SessionRecord(session_id=plan.session_id, persona_id=plan.persona_id,
                             segment=plan.segment, events=log.events, outcome="completed")

exp = load_experiment(sys.argv[1], {"energy.tracker": "none", "population.sessions": 2000})
run_experiment(exp, tracking_uri=sys.argv[2])
"""


def start_slow_run(journey_spec: Path, store_uri: str, tmp_path: Path) -> subprocess.Popen[str]:
    """A run of a slow pilot in another process, returned once its sessions are under way."""
    data = yaml.safe_load(journey_spec.read_text())
    data["pilot"] = {"kind": "test-slow", "params": {}}
    journey_spec.write_text(yaml.safe_dump(data))
    script = tmp_path / "slow.py"
    script.write_text(SLOW_RUN)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(journey_spec), store_uri],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "sessions running"
    return proc


def test_sigterm_marks_the_run_killed_and_keeps_the_chain_readable(
    journey_spec: Path, store_uri: str, tmp_path: Path
) -> None:
    proc = start_slow_run(journey_spec, store_uri, tmp_path)
    time.sleep(0.5)
    os.kill(proc.pid, signal.SIGTERM)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    (run,) = Tracker(store_uri).list_runs()
    assert run.status == "KILLED"
    assert "SIGTERM" in run.tags["civiclab.error"]
    # Issue 15: on main the tag said "failed" while MLflow said KILLED.
    assert run.tags["civiclab.status"] == "killed"
    folder = Tracker(store_uri).local_artifact_dir(run.run_id)
    assert folder is not None
    from civiclab.audit import verify_chain

    summary = verify_chain(folder / "audit.jsonl")
    assert 5 < summary.opened < 2000
    assert summary.closed == summary.opened


def test_cli_run_json_reports_run_metrics_and_recommendation(journey_spec: Path, store_uri: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "civiclab.cli",
            "--tracking-uri",
            store_uri,
            "run",
            str(journey_spec),
            "--sessions",
            "80",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["experiment"] == "housing-benefit-journey"
    assert out["recommendation"] in ("go", "iterate", "stop")
    assert 0 <= out["metrics"]["human_centered.completion_rate"] <= 1
    assert out["metrics"]["energy.kwh"] > 0
    run = Tracker(store_uri).get_run(out["run_id"])
    assert run.tags["civiclab.energy_method"] in ("measured", "estimated")
    assert run.metrics["human_centered.completion_rate"] == pytest.approx(
        out["metrics"]["human_centered.completion_rate"]
    )
    assert run.params["population.sessions"] == "80"


def test_sigkill_leaves_a_readable_chain_and_the_next_command_marks_the_run_failed(
    journey_spec: Path, store_uri: str, tmp_path: Path
) -> None:
    proc = start_slow_run(journey_spec, store_uri, tmp_path)
    time.sleep(1.2)  # past the first flush of the chain (every 1,000 events)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    (run,) = Tracker(store_uri).list_runs()
    assert run.status == "RUNNING"
    listed = subprocess.run(
        [sys.executable, "-m", "civiclab.cli", "--tracking-uri", store_uri, "runs"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "marked FAILED" in listed.stderr
    (run,) = Tracker(store_uri).list_runs()
    assert run.status == "FAILED" and run.tags["civiclab.status"] == "failed"
    folder = Tracker(store_uri).local_artifact_dir(run.run_id)
    assert folder is not None
    lines = (folder / "audit.jsonl").read_text().splitlines()
    assert lines, "the chain flushed before the kill must be on disk"
    # Every complete line verifies; at most the last line was cut by the kill.
    from civiclab.audit import verify_chain

    (tmp_path / "prefix.jsonl").write_text("\n".join(lines[:-1]) + "\n")
    assert verify_chain(tmp_path / "prefix.jsonl").events == len(lines) - 1
