"""The runner on a real SQLite store: faults keep records readable and mark runs FAILED or KILLED."""

from __future__ import annotations

import json
import logging
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
from civiclab.evidence.verify.manifestcheck import verify_run_manifest
from civiclab.plugins.experiment import load_experiment
from civiclab.plugins.piloting import EventLog, Pilot
from civiclab.plugins.registry import evaluator, pilot
from civiclab.records import SessionPlan, SessionRecord
from civiclab.run.runner import run_experiment
from civiclab.store.tracker import Tracker

pytestmark = pytest.mark.slow  # whole experiments: left out of `make test-fast`

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
    data["scorecard"]["criteria"].append(
        {"metric": "human_centered.test-broken.evaluator_error", "at_least": 1}
    )
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
    missing = [
        c for c in result.scorecard.criteria if c.metric == "human_centered.test-broken.evaluator_error"
    ]
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
    assert verify_run_manifest(tracker, result.run_id).ok
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
        "manifest.json",
    } <= set(artifacts)
    for artifact in artifacts:
        path = folder / artifact
        original = path.read_bytes()
        data = bytearray(original)
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
        with pytest.raises(AuditError) as err:
            verify_run_manifest(tracker, result.run_id)
        assert artifact in str(err.value) or (artifact == "manifest.json" and "manifest" in str(err.value))
        path.write_bytes(original)
        assert verify_run_manifest(tracker, result.run_id).ok


SLOW_RUN = """
import sys, time
from civiclab.plugins.experiment import load_experiment
from civiclab.plugins.piloting import EventLog, Pilot
from civiclab.records import SessionRecord
from civiclab.plugins.registry import NoParams, pilot
from civiclab.run.runner import run_experiment

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
    from civiclab.evidence.audit import verify_audit_log

    summary = verify_audit_log(folder / "audit.jsonl")
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
    assert "INFO" not in result.stderr and "civiclab.run.runner" not in result.stderr  # quiet by default
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


def store_snapshot(store_uri: str) -> tuple[bytes, int]:
    db = Path(store_uri.removeprefix("sqlite:///"))
    return db.read_bytes(), db.stat().st_mtime_ns


def test_sigkill_leaves_a_readable_chain_and_the_next_run_marks_the_killed_run_failed(
    journey_spec: Path, store_uri: str, tmp_path: Path
) -> None:
    journey_copy = journey_spec.with_name("journey-again.yaml")
    journey_copy.write_text(journey_spec.read_text())
    proc = start_slow_run(journey_spec, store_uri, tmp_path)
    time.sleep(1.2)  # past the first flush of the journal (every second)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    (run,) = Tracker(store_uri).list_runs()
    assert run.status == "RUNNING"

    # Listing is read only: the killed run is shown FAILED (what the next run will record), the
    # store is not written.
    before = store_snapshot(store_uri)
    listed = subprocess.run(
        [sys.executable, "-m", "civiclab.cli", "--tracking-uri", store_uri, "runs", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert [(r["run_id"], r["status"]) for r in json.loads(listed.stdout)] == [(run.run_id, "FAILED")]
    assert store_snapshot(store_uri) == before
    assert Tracker(store_uri).get_run(run.run_id).status == "RUNNING"

    # The chain and the sessions file were flushed together: they hold the same sessions.
    folder = Tracker(store_uri).local_artifact_dir(run.run_id)
    assert folder is not None
    lines = (folder / "audit.jsonl").read_text().splitlines()
    assert lines, "the chain flushed before the kill must be on disk"
    from civiclab.evidence.audit import verify_audit_log

    (tmp_path / "prefix.jsonl").write_text("\n".join(lines) + "\n")
    assert verify_audit_log(tmp_path / "prefix.jsonl").events == len(lines)  # flushed whole, never cut
    entries = [json.loads(line) for line in lines]
    closed = [  # a format-2 session line, or a format-1 session.close event
        e["session"]["session_id"] if "session" in e else e["event"]["session_id"]
        for e in entries
        if "session" in e or e["event"]["kind"] == "session.close"
    ]
    stored = [json.loads(line)["session_id"] for line in (folder / "sessions.jsonl").read_text().splitlines()]
    assert stored and stored == closed

    # The next run writes to the store anyway: it closes the killed run as FAILED.
    run_experiment(load_experiment(journey_copy, FAST), tracking_uri=store_uri)
    killed = Tracker(store_uri).get_run(run.run_id)
    assert killed.status == "FAILED"
    assert "killed" in killed.tags["civiclab.error"]


@pilot("test-bad-close", params=FlakyParams)
class BadClosePilot(FlakyPilot):
    """Sessions succeed, releasing resources fails (tests only)."""

    def close(self) -> None:
        raise OSError("socket already closed")


def test_a_pilot_that_fails_to_close_is_logged_not_swallowed(
    journey_spec: Path, store_uri: str, caplog: pytest.LogCaptureFixture
) -> None:
    data = yaml.safe_load(journey_spec.read_text())
    data["pilot"] = {"kind": "test-bad-close", "params": {}}
    data["evaluators"] = ["auditability"]
    data["scorecard"]["criteria"] = []
    journey_spec.write_text(yaml.safe_dump(data))
    with caplog.at_level(logging.WARNING, logger="civiclab"):
        result = run_experiment(load_experiment(journey_spec, FAST), tracking_uri=store_uri)
    assert Tracker(store_uri).get_run(result.run_id).status == "FINISHED"
    (record,) = [r for r in caplog.records if "close() failed" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert record.exc_info is not None and "socket already closed" in str(record.exc_info[1])


def test_verbose_flag_logs_the_steps_of_a_run_on_stderr(journey_spec: Path, store_uri: str) -> None:
    data = yaml.safe_load(journey_spec.read_text())
    data["energy"] = {"tracker": "none"}
    journey_spec.write_text(yaml.safe_dump(data))
    command = [sys.executable, "-m", "civiclab.cli", "--tracking-uri", store_uri]
    args = ["run", str(journey_spec), "--sessions", "20", "--json"]
    verbose = subprocess.run([*command, "-v", *args], capture_output=True, text=True, timeout=300)
    assert verbose.returncode == 0, verbose.stderr
    run_id = json.loads(verbose.stdout)["run_id"]
    assert f"INFO civiclab.run.runner: run {run_id} opened in {store_uri}" in verbose.stderr
    assert "INFO civiclab.run.recording: 20 sessions recorded (0 failed)" in verbose.stderr
    assert "DEBUG" not in verbose.stderr
    debug = subprocess.run([*command, "-vv", "runs"], capture_output=True, text=True, timeout=120)
    assert debug.returncode == 0, debug.stderr
    quiet = subprocess.run([*command, "runs"], capture_output=True, text=True, timeout=120)
    assert quiet.stderr == ""
