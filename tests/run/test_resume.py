"""Resume: a run SIGKILLed in the middle is finished with `civiclab run --resume RUN_ID` and ends with
the records and metrics of a run that was never interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from civiclab.evidence.audit import iter_audit_log, verify_audit_log
from civiclab.store.tracker import Tracker

pytestmark = pytest.mark.slow  # whole experiments: left out of `make test-fast`

SESSIONS = 6000
ROOT = Path(__file__).resolve().parents[2]


def civiclab(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_DISABLE_TELEMETRY": "true"}
    return subprocess.run(
        [sys.executable, "-m", "civiclab.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def run_args(spec: Path, uri: str) -> list[str]:
    return [
        "--tracking-uri", uri, "run", str(spec), "--sessions", str(SESSIONS), "--json",
    ]  # fmt: skip


def without_timings(path: Path) -> list[dict[str, object]]:
    rows = []
    for line in path.read_bytes().splitlines():
        row = orjson.loads(line)
        row.pop("timings")
        rows.append(row)
    return rows


def comparable(metrics_file: Path) -> dict[str, object]:
    """Every metric with its interval and n, except energy (a measurement of this process)."""
    return {
        f"{m['name']}[{m['segment']}]": (m["value"], m["ci_low"], m["ci_high"], m["n"])
        for m in json.loads(metrics_file.read_text())
        if m["dimension"] != "energy"
    }


def kill_midway(spec: Path, uri: str, files: Path, **env_extra: str) -> str:
    """Start a real run in a subprocess and SIGKILL it once some sessions are on disk under `files`."""
    tracker = Tracker(uri)
    tracker.experiment_id("housing-benefit-journey")  # create the store first: one migration at a time
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MLFLOW_DISABLE_TELEMETRY": "true", **env_extra}
    proc = subprocess.Popen(
        [sys.executable, "-m", "civiclab.cli", *run_args(spec, uri)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 240
    sessions_file: Path | None = None
    first_flush = 0
    while time.monotonic() < deadline and proc.poll() is None:
        found = list(files.glob("**/sessions.jsonl"))
        lines = found[0].read_bytes().count(b"\n") if found else 0
        # Killed after a second flush reached the file: the first one's checkpoint is then written (it
        # follows its flush), so the resume has sessions to keep however slowly the run is scheduled.
        if first_flush and lines > first_flush:
            sessions_file = found[0]
            break
        if not first_flush and lines >= 500:
            first_flush = lines
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be killed: raise SESSIONS"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert sessions_file is not None
    written = sessions_file.read_bytes().count(b"\n")
    assert 0 < written < SESSIONS, written
    (run,) = tracker.list_runs()
    return run.run_id


@pytest.mark.timeout(900)
def test_a_sigkilled_run_resumes_to_the_records_and_metrics_of_an_uninterrupted_run(
    journey_spec: Path, tmp_path: Path
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    killed = kill_midway(journey_spec, uri, tmp_path / "mlruns")
    tracker = Tracker(uri)
    folder = tracker.local_artifact_dir(killed)
    assert folder is not None
    kept_before = (folder / "sessions.jsonl").read_bytes().count(b"\n")

    resumed = civiclab(*run_args(journey_spec, uri), "--resume", killed)
    assert resumed.returncode == 0, resumed.stderr
    out = json.loads(resumed.stdout)
    assert out["run_id"] == killed and out["sessions"] == SESSIONS
    run = tracker.get_run(killed)
    assert run.status == "FINISHED" and run.tags["civiclab.resumed"] == "1"

    reference_uri = f"sqlite:///{tmp_path / 'reference' / 'mlflow.db'}"
    whole = civiclab(*run_args(journey_spec, reference_uri))
    assert whole.returncode == 0, whole.stderr
    reference = Tracker(reference_uri).local_artifact_dir(json.loads(whole.stdout)["run_id"])
    assert reference is not None

    assert without_timings(folder / "sessions.jsonl") == without_timings(reference / "sessions.jsonl")
    resumed_metrics, reference_metrics = (
        comparable(folder / "metrics.json"),
        comparable(reference / "metrics.json"),
    )
    # The chain is the one measurement that differs, by exactly the recorded `run.resume` event.
    chain, reference_chain = (
        resumed_metrics.pop("auditability.chain_valid[None]"),
        reference_metrics.pop("auditability.chain_valid[None]"),
    )
    assert chain == (1.0, None, None, reference_chain[3] + 1)  # type: ignore[index,operator]
    assert resumed_metrics == reference_metrics
    assert len(resumed_metrics) > 100
    # The chain holds every session once, records the resume, and verifies end to end.
    summary = verify_audit_log(folder / "audit.jsonl")
    assert summary.opened == summary.closed == SESSIONS
    resumes = [
        e["event"]
        for e in iter_audit_log(folder / "audit.jsonl")
        if "event" in e and e["event"]["kind"] == "run.resume"
    ]
    assert len(resumes) == 1
    assert 0 < resumes[0]["payload"]["sessions_kept"] <= kept_before
    assert resumes[0]["payload"]["spec_sha256"] == run.tags["civiclab.spec_sha256"]
    verified = civiclab("--tracking-uri", uri, "verify", killed)
    assert verified.returncode == 3, verified.stdout + verified.stderr
    # The killed process's energy was never recorded: per-session energy is over the sessions the
    # resumed process ran (never the run's kWh spread over sessions it did not measure).
    energy = {
        m["name"]: m for m in json.loads((folder / "metrics.json").read_text()) if m["dimension"] == "energy"
    }
    per_session = energy["energy.wh_per_session"]
    ran_after = SESSIONS - resumes[0]["payload"]["sessions_kept"]
    if per_session["value"] is not None:  # a machine where codecarbon cannot estimate has no reading
        assert per_session["n"] == ran_after
        assert per_session["value"] == pytest.approx(energy["energy.kwh"]["value"] * 1000 / ran_after)
        assert f"measured over the {ran_after} sessions run after the resume" in per_session["note"]


def test_resume_refuses_another_spec_a_finished_run_and_keeps_it_untouched(
    journey_spec: Path, tmp_path: Path
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    done = civiclab("--tracking-uri", uri, "run", str(journey_spec), "--sessions", "60", "--json")
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["run_id"]
    finished = civiclab(
        "--tracking-uri", uri, "run", str(journey_spec), "--sessions", "60", "--resume", run_id
    )
    assert finished.returncode == 2
    assert "only a FAILED or KILLED run can be resumed" in finished.stderr
    assert len(finished.stderr.strip().splitlines()) == 1

    Tracker(uri).end_run(run_id, "FAILED")  # as if it had been killed
    other = civiclab("--tracking-uri", uri, "run", str(journey_spec), "--sessions", "61", "--resume", run_id)
    assert other.returncode == 2
    assert "spec digest" in other.stderr
    seed = civiclab(
        "--tracking-uri", uri, "run", str(journey_spec), "--sessions", "60", "--seed", "7", "--resume", run_id
    )
    assert seed.returncode == 2
    assert Tracker(uri).get_run(run_id).status == "FAILED"
