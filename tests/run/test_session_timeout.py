"""A session that outlives `executor.session_timeout_s` is recorded as failed with the reason, and the
run goes on to its end: in one process, in a process pool and on Ray."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
import yaml
from pydantic import BaseModel, ConfigDict

from civiclab.errors import SpecError
from civiclab.plugins.experiment import load_experiment
from civiclab.plugins.piloting import EventLog, Pilot
from civiclab.plugins.registry import pilot
from civiclab.records import SessionPlan, SessionRecord
from civiclab.run.deadline import SessionTimedOut, session_deadline
from civiclab.run.runner import run_experiment
from civiclab.store.tracker import Tracker

SESSIONS = 12
SLEEPER = 5


class SleepyParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sleep_at: list[int] = []
    sleep_s: float = 600.0
    swallow: bool = False  # the pilot catches every Exception around its wait
    pid_file: str | None = None  # where the sleeping session writes its process id


@pilot("test-sleepy", params=SleepyParams)
class SleepyPilot(Pilot[SleepyParams]):
    """A pilot one of whose sessions waits far longer than any session should (tests only)."""

    replayable = False

    def run_session(self, plan: SessionPlan) -> SessionRecord:
        if plan.index in self.params.sleep_at:
            if self.params.pid_file:
                Path(self.params.pid_file).write_text(str(os.getpid()))
            try:
                time.sleep(self.params.sleep_s)
            except Exception:  # a careless pilot: must not swallow the timeout
                if not self.params.swallow:
                    raise
        log = EventLog(plan.session_id, self.session_start(plan))
        log.add("journey.start", "citizen", 0)
        log.add("journey.complete", "citizen", 10)
        return SessionRecord(
            session_id=plan.session_id,
            persona_id=plan.persona_id,
            segment=plan.segment,
            events=log.events,
            outcome="completed",
            duration_s=10,
        )


def sleepy_spec(journey_spec: Path, executor: dict[str, object], **params: object) -> Path:
    data = yaml.safe_load(journey_spec.read_text())
    data["pilot"] = {"kind": "test-sleepy", "params": params}
    data["evaluators"] = ["human_centered", "auditability"]
    data["scorecard"]["criteria"] = []
    data["energy"] = {"tracker": "none"}
    data["population"]["sessions"] = SESSIONS
    data["executor"] = executor
    journey_spec.write_text(yaml.safe_dump(data))
    return journey_spec


def outcomes(folder: Path) -> list[tuple[str, str | None]]:
    rows = [json.loads(line) for line in (folder / "sessions.jsonl").read_text().splitlines()]
    return [(r["outcome"], r["error"]) for r in rows]


def assert_timed_out_and_finished(store_uri: str, run_id: str, folder: Path | None, seconds: str) -> None:
    assert folder is not None
    rows = outcomes(folder)
    assert len(rows) == SESSIONS
    assert rows[SLEEPER] == ("failed", f"session timed out after {seconds} s")
    assert [r for i, r in enumerate(rows) if i != SLEEPER] == [("completed", None)] * (SESSIONS - 1)
    run = Tracker(store_uri).get_run(run_id)
    assert run.status == "FINISHED"
    assert run.metrics["human_centered.failure_rate"] == pytest.approx(1 / SESSIONS)


@pytest.mark.timeout(60)
def test_a_serial_session_past_its_timeout_fails_and_the_run_finishes(
    journey_spec: Path, store_uri: str
) -> None:
    spec = sleepy_spec(journey_spec, {"session_timeout_s": 1}, sleep_at=[SLEEPER], swallow=True)
    started = time.monotonic()
    result = run_experiment(load_experiment(spec), tracking_uri=store_uri)
    assert time.monotonic() - started < 30
    assert_timed_out_and_finished(store_uri, result.run_id, result.artifact_dir, "1")
    assert Tracker(store_uri).get_run(result.run_id).tags["civiclab.executor"] == "serial"


@pytest.mark.timeout(90)
def test_a_pooled_session_past_its_timeout_fails_and_the_run_finishes(
    journey_spec: Path, store_uri: str
) -> None:
    spec = sleepy_spec(
        journey_spec,
        {"kind": "process", "workers": 2, "batch": 2, "session_timeout_s": 1.5},
        sleep_at=[SLEEPER],
    )
    result = run_experiment(load_experiment(spec), tracking_uri=store_uri)
    assert_timed_out_and_finished(store_uri, result.run_id, result.artifact_dir, "1.5")
    assert Tracker(store_uri).get_run(result.run_id).tags["civiclab.executor"] == "process"


@pytest.fixture
def ray_cluster() -> Iterator[object]:
    import ray

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RAY_USAGE_STATS_ENABLED", "0")
        # "local": a cluster of this test's own, never one another worker or `ray start` left to join.
        ray.init(
            address="local",
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            _node_ip_address="127.0.0.1",
        )
        try:
            yield ray
        finally:
            ray.shutdown()


@pytest.mark.ray
@pytest.mark.timeout(300)
def test_a_session_on_ray_past_its_timeout_fails_and_the_run_finishes(
    journey_spec: Path, store_uri: str, ray_cluster: object
) -> None:
    spec = sleepy_spec(
        journey_spec, {"kind": "ray", "workers": 2, "batch": 2, "session_timeout_s": 2}, sleep_at=[SLEEPER]
    )
    result = run_experiment(load_experiment(spec), tracking_uri=store_uri)
    assert_timed_out_and_finished(store_uri, result.run_id, result.artifact_dir, "2")
    assert Tracker(store_uri).get_run(result.run_id).tags["civiclab.executor"] == "ray"


def test_the_timeout_has_a_default_and_is_validated(journey_spec: Path) -> None:
    assert load_experiment(journey_spec).spec.executor.session_timeout_s == 300
    with pytest.raises(SpecError, match="executor.session_timeout_s"):
        load_experiment(journey_spec, {"executor.session_timeout_s": 0})


def test_a_deadline_leaves_an_outer_alarm_armed_and_its_handler_in_place() -> None:
    fired: list[int] = []

    def outer(signum: int, frame: FrameType | None) -> None:
        fired.append(signum)

    previous = signal.signal(signal.SIGALRM, outer)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.8)
        with pytest.raises(SessionTimedOut), session_deadline(0.1):
            time.sleep(5)
        assert signal.getsignal(signal.SIGALRM) is outer
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0.3 < remaining < 0.8
        time.sleep(1)
        assert fired == [signal.SIGALRM]
        # An outer alarm due before the session's deadline is the outer one's, not a timeout.
        fired.clear()
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        with session_deadline(5):
            time.sleep(0.3)
        assert fired == [signal.SIGALRM]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
