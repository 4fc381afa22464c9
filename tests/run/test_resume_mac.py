"""`--resume` continues a killed run's own journal and no other: a store writer who rewrites a killed run's
`audit.jsonl` and `sessions.jsonl` consistently (failed sessions made completed, the chain recomputed)
is refused, by the MAC the lab kept while the run wrote them and, for a replayable pilot, by running
the kept sessions again from their plans."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from pathlib import Path

import orjson
import pytest
import yaml
from pydantic import BaseModel, ConfigDict

from civiclab.errors import AuditError
from civiclab.evidence.audit import GENESIS, PER_SESSION, entry_hash, verify_audit_log
from civiclab.evidence.verify.manifestcheck import verify_run_manifest
from civiclab.plugins.experiment import load_experiment
from civiclab.plugins.piloting import EventLog, Pilot
from civiclab.plugins.registry import pilot
from civiclab.privacy.secrets import lab_secret
from civiclab.records import SessionPlan, SessionRecord, canonical_bytes
from civiclab.run.journal_mac import KEY_NAME, Checkpoint, checkpoint_mac, sidecar_path
from civiclab.run.lifecycle import RunInterrupted
from civiclab.run.runner import run_experiment
from civiclab.store.tracker import Tracker

SESSIONS = 40
KILL_AT = 30


class LedgerParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fail_every: int = 3
    replayable: bool = False
    kill_once: str  # a file: the first run that reaches KILL_AT creates it and is killed (SIGTERM)


@pilot("test-ledger", params=LedgerParams)
class LedgerPilot(Pilot[LedgerParams]):
    """Deterministic sessions, a third of them failed; the first run is killed mid-way (tests only)."""

    def replays(self) -> bool:
        return self.params.replayable

    def run_session(self, plan: SessionPlan) -> SessionRecord:
        marker = Path(self.params.kill_once)
        if plan.index == KILL_AT and not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the run's handler raises RunInterrupted here
        failed = plan.index % self.params.fail_every == 0
        log = EventLog(plan.session_id, self.session_start(plan))
        log.add("journey.start", "citizen", 0)
        log.add("journey.abandon" if failed else "journey.complete", "citizen", 10)
        return SessionRecord(
            session_id=plan.session_id,
            persona_id=plan.persona_id,
            segment=plan.segment,
            events=log.events,
            outcome="failed" if failed else "completed",
            error="the form would not submit" if failed else None,
            duration_s=10,
        )


def ledger_spec(journey_spec: Path, tmp_path: Path, *, replayable: bool) -> Path:
    data = yaml.safe_load(journey_spec.read_text())
    params = {"replayable": replayable, "kill_once": str(tmp_path / "killed")}
    data["pilot"] = {"kind": "test-ledger", "params": params}
    data["evaluators"] = ["human_centered", "auditability"]
    data["scorecard"]["criteria"] = []
    data["energy"] = {"tracker": "none"}
    data["population"]["sessions"] = SESSIONS
    journey_spec.write_text(yaml.safe_dump(data))
    return journey_spec


def killed_run(spec: Path, store_uri: str) -> tuple[str, Path]:
    with pytest.raises(RunInterrupted):
        run_experiment(load_experiment(spec), tracking_uri=store_uri)
    (run,) = Tracker(store_uri).list_runs()
    assert run.status == "KILLED"
    folder = Tracker(store_uri).local_artifact_dir(run.run_id)
    assert folder is not None
    assert sidecar_path(run.run_id).exists()
    return run.run_id, folder


def rewrite_failed_as_completed(folder: Path) -> int:
    """What a store writer would do: failed sessions made completed in both files, the chain recomputed."""
    rows = [orjson.loads(line) for line in (folder / "sessions.jsonl").read_bytes().splitlines()]
    changed = {row["session_id"] for row in rows if row["outcome"] == "failed"}
    for row in rows:
        if row["session_id"] in changed:
            row["outcome"], row["error"] = "completed", None
    (folder / "sessions.jsonl").write_bytes(b"".join(canonical_bytes(row) + b"\n" for row in rows))
    entries = [orjson.loads(line) for line in (folder / "audit.jsonl").read_bytes().splitlines()]
    prev = GENESIS
    for entry in entries:
        session = entry.get("session")
        if session is not None and session["session_id"] in changed:  # format 2: the line is the session
            entry["session"] = next(row for row in rows if row["session_id"] == session["session_id"])
        for event in [entry["event"]] if "event" in entry else entry["session"]["events"]:
            if event["kind"] == "session.close" and event["session_id"] in changed:
                event["payload"] = {"outcome": "completed", "error": None}
            if event["kind"] == "journey.abandon" and event["session_id"] in changed:
                event["kind"] = "journey.complete"
        entry["prev"], entry["hash"] = prev, entry_hash(prev, entry)
        prev = entry["hash"]
    (folder / "audit.jsonl").write_bytes(b"".join(canonical_bytes(e) + b"\n" for e in entries))
    verify_audit_log(folder / "audit.jsonl")  # the rewrite holds together on its own
    return len(changed)


def mac_again(run_id: str, folder: Path) -> None:
    """What only someone holding the lab's journal key could do: vouch for the rewritten files."""
    key = lab_secret(KEY_NAME)
    audit = [orjson.loads(line) for line in (folder / "audit.jsonl").read_bytes().splitlines()]
    lines = (folder / "sessions.jsonl").read_bytes().splitlines(keepends=True)
    rows = []
    for line in sidecar_path(run_id).read_bytes().splitlines():
        old = orjson.loads(line)
        kept = b"".join(lines[: old["sessions"]])
        point = Checkpoint(
            audit_events=old["audit_events"],
            audit_root=audit[old["audit_events"] - 1]["hash"],
            sessions=old["sessions"],
            sessions_bytes=len(kept),
            sessions_sha256=hashlib.sha256(kept).hexdigest(),
        )
        rows.append({**point.__dict__, "key_id": old["key_id"], "mac": checkpoint_mac(key, run_id, point)})
    sidecar_path(run_id).write_bytes(b"".join(canonical_bytes(r) + b"\n" for r in rows))


def test_a_killed_run_resumes_to_its_end_and_leaves_no_mac_behind(
    journey_spec: Path, store_uri: str, tmp_path: Path, audit_format: int
) -> None:
    spec = ledger_spec(journey_spec, tmp_path, replayable=True)
    run_id, folder = killed_run(spec, store_uri)
    result = run_experiment(load_experiment(spec), tracking_uri=store_uri, resume=run_id)
    assert result.run_id == run_id and result.sessions == SESSIONS
    assert Tracker(store_uri).get_run(run_id).status == "FINISHED"
    assert verify_run_manifest(Tracker(store_uri), run_id).ok
    assert not sidecar_path(run_id).exists()  # a finished run is signed: its checkpoints are gone
    assert not any("mac" in p.name for p in folder.rglob("*"))
    resumes = [
        json.loads(line)["event"]["payload"]
        for line in (folder / "audit.jsonl").read_text().splitlines()
        if '"kind":"run.resume"' in line
    ]
    assert len(resumes) == 1 and resumes[0]["sessions_kept"] == KILL_AT
    # A resumed run goes on in the format it started with: a format-1 run gets no session line.
    with_sessions = '"session":{' in (folder / "audit.jsonl").read_text()
    assert with_sessions == (audit_format == PER_SESSION)
    assert resumes[0]["sessions_rederived"] == KILL_AT  # a replayable pilot's kept sessions, run again
    outcomes = [json.loads(line)["outcome"] for line in (folder / "sessions.jsonl").read_text().splitlines()]
    assert outcomes.count("failed") == len(range(0, SESSIONS, 3))


def test_resume_refuses_a_journal_rewritten_in_the_store(
    journey_spec: Path, store_uri: str, tmp_path: Path, audit_format: int
) -> None:
    spec = ledger_spec(journey_spec, tmp_path, replayable=False)
    run_id, folder = killed_run(spec, store_uri)
    assert rewrite_failed_as_completed(folder) == len(range(0, KILL_AT, 3))
    audit_lines = len((folder / "audit.jsonl").read_text().splitlines())
    with pytest.raises(AuditError) as refused:
        run_experiment(load_experiment(spec), tracking_uri=store_uri, resume=run_id)
    message = str(refused.value)
    assert message.startswith(f"audit.jsonl: line {audit_lines}: ")
    assert "not the one the run wrote" in message and "\n" not in message
    run = Tracker(store_uri).get_run(run_id)
    assert run.status != "FINISHED" and "audit.jsonl" in run.tags["civiclab.error"]
    assert "statement.dsse.json" not in {p.name for p in folder.iterdir()}  # nothing was signed


def test_resume_refuses_kept_sessions_their_plans_do_not_give_even_when_vouched_for(
    journey_spec: Path, store_uri: str, tmp_path: Path, audit_format: int
) -> None:
    spec = ledger_spec(journey_spec, tmp_path, replayable=True)
    run_id, folder = killed_run(spec, store_uri)
    rewrite_failed_as_completed(folder)
    mac_again(run_id, folder)
    with pytest.raises(AuditError) as refused:
        run_experiment(load_experiment(spec), tracking_uri=store_uri, resume=run_id)
    assert str(refused.value).startswith("sessions.jsonl: line 1: session s000000 is not what its plan gives")


def test_resume_refuses_a_run_whose_checkpoints_are_missing_or_altered(
    journey_spec: Path, store_uri: str, tmp_path: Path
) -> None:
    spec = ledger_spec(journey_spec, tmp_path, replayable=False)
    run_id, _ = killed_run(spec, store_uri)
    sidecar = sidecar_path(run_id)
    original = sidecar.read_bytes()
    last = orjson.loads(original.splitlines()[-1])
    sidecar.write_bytes(original.replace(f'"sessions":{last["sessions"]},'.encode(), b'"sessions":1,'))
    with pytest.raises(AuditError, match=r"line 2: its MAC does not match"):
        run_experiment(load_experiment(spec), tracking_uri=store_uri, resume=run_id)
    sidecar.unlink()
    with pytest.raises(AuditError, match="this lab holds no MAC of its journal"):
        run_experiment(load_experiment(spec), tracking_uri=store_uri, resume=run_id)
