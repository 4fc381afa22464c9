"""Whose failure a failed turn is: the endpoint's counts against the system, civiclab's stops the run.

Guards issue 23: with `system: {kind: openai}` 9–16 % of turns failed with `AttributeError: partially
initialized module 'httpx' has no attribute 'Timeout'` while the main thread loaded the redaction model
and the dispatcher's threads made their first calls; the criterion "The endpoint answers" then failed,
blaming the lab's system for civiclab's own import race.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civiclab.errors import HarnessFault
from civiclab.plugins.experiment import load_experiment
from civiclab.run.runner import run_experiment
from pilots.assistant.systems import Calls, Question
from pilots.assistant.systems.base import SystemCallError, TransientError, failure_of
from pilots.assistant.systems.dispatch import Dispatcher
from tests.pilots.byo_support import byo_spec
from tests.pilots.lab_bots import HALF_IMPORTED
from tests.pilots.test_assistant_systems import Scripted


@pytest.mark.parametrize(
    ("error", "side", "failure"),
    [
        (TransientError("no answer within 5 s"), "endpoint", "timeout"),
        (TransientError("ConnectError", "connection"), "endpoint", "connection"),
        (TransientError("HTTP 503", "http_5xx"), "endpoint", "http_5xx"),
        (SystemCallError("HTTP 404", "http_4xx"), "endpoint", "http_4xx"),
        (SystemCallError("the reply is not JSON"), "endpoint", "malformed"),
        (ValueError("the lab's own object raised"), "endpoint", "error"),
        (AttributeError(HALF_IMPORTED), "civiclab", "import"),
        (ModuleNotFoundError("No module named 'jiter'"), "civiclab", "import"),
        (HarnessFault("redaction failed"), "civiclab", "harness"),
    ],
)
def test_each_failure_is_given_to_its_side(error: Exception, side: str, failure: str) -> None:
    assert failure_of(error) == (side, failure)


def test_civiclab_failures_are_tried_again_even_with_no_retries_for_the_endpoint() -> None:
    system = Scripted(failures=[AttributeError(HALF_IMPORTED), AttributeError(HALF_IMPORTED)])
    dispatcher = Dispatcher(system, Calls(retries=0, backoff_s=0.0))
    reply = dispatcher.ask(Question(text="q"))
    assert reply.error is None and reply.attempts == 3 and reply.answer == "réponse à q"
    system.failures = [TransientError("HTTP 503", "http_5xx")]
    reply = dispatcher.ask(Question(text="q"))
    assert reply.failed and reply.attempts == 1  # the spec's retries=0 holds for the endpoint
    assert (reply.failed_by, reply.failure) == ("endpoint", "http_5xx")
    dispatcher.close()


@pytest.mark.slow
def test_a_persistent_civiclab_failure_stops_the_run_in_one_line_and_marks_it_failed(tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    system = {"kind": "python", "object": "tests.pilots.lab_bots:always_half_imported"}
    spec = byo_spec(
        tmp_path, {**system, "calls": {"backoff_s": 0.0}}, sessions=4, evaluators=["auditability"]
    )
    uri = f"sqlite:///{tmp_path}/m.db"
    with pytest.raises(HarnessFault) as raised:
        run_experiment(load_experiment(spec), tracking_uri=uri)
    message = str(raised.value)
    assert "\n" not in message and "civiclab failed (import)" in message and "not the system" in message
    runs = MlflowClient(uri).search_runs([e.experiment_id for e in MlflowClient(uri).search_experiments()])
    assert [r.info.status for r in runs] == ["FAILED"]


@pytest.mark.slow
def test_a_civiclab_failure_that_passes_on_retry_costs_the_system_nothing(tmp_path: Path) -> None:
    system = {"kind": "python", "object": "tests.pilots.lab_bots:half_imported_once"}
    spec = byo_spec(tmp_path, {**system, "calls": {"backoff_s": 0.0, "retries": 0}}, sessions=12)
    result = run_experiment(load_experiment(spec), tracking_uri=f"sqlite:///{tmp_path}/m.db")
    failure = next(
        m for m in result.metrics if m.name == "human_centered.turn_failure_rate" and m.segment is None
    )
    sessions = (Path(result.artifact_dir or tmp_path) / "sessions.jsonl").read_text().splitlines()
    turns = [t for line in sessions for t in json.loads(line)["data"]["turns"]]
    assert failure.value == 0.0 and failure.n == len(turns) > 12  # every turn counted, none failed
    assert {t["status"] for t in turns} == {"ok"}
