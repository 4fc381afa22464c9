"""A run's sessions as MLflow traces, graded by its evaluators, listed in a signed file.

After the evaluators, each session the pilot can show as a conversation (`Pilot.conversation`) is
logged as a trace of the run, from the redacted record read back from `sessions.jsonl` (and redacted
once more: a pilot's spans must not reintroduce what the journal removed); the evaluators' grades
(`RunData.assess`) are attached as assessments. `traces.json` (session id -> trace id) is written in the
run's folder before the statement is signed, so `civiclab verify` covers which trace belongs to which
session. `tracking.traces: false` in the spec turns this off.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any

from civiclab.plugins.piloting import Pilot
from civiclab.plugins.tracing import Conversation, Feedback
from civiclab.privacy.redaction import redact
from civiclab.records import SessionRecord
from civiclab.store.schema import TRACES_FILE
from civiclab.store.stored_run import StoredRun

log = logging.getLogger(__name__)


def traces_sessions(pilot: Pilot[Any]) -> bool:
    """Whether the pilot shows its sessions as conversations (it overrides `conversation`)."""
    return type(pilot).conversation is not Pilot.conversation


def conversations(pilot: Pilot[Any], records: Iterable[SessionRecord]) -> Iterator[Conversation]:
    for record in records:
        conversation = pilot.conversation(record)
        if conversation is not None:
            yield Conversation.model_validate(redact(conversation.model_dump(mode="json")))


def trace_run(
    run: StoredRun, pilot: Pilot[Any], records: Iterable[SessionRecord], feedback: list[Feedback]
) -> dict[str, float] | None:
    """Log the traces and grades and write `traces.json`; returns timings (None: nothing traced)."""
    if not traces_sessions(pilot):
        return None
    from civiclab.store.traces import log_conversations, log_feedback

    started = time.perf_counter()
    experiment_id = str(run.tracker.client.get_run(run.run_id).info.experiment_id)
    traces, spans = log_conversations(run.tracker, experiment_id, run.run_id, conversations(pilot, records))
    logged = time.perf_counter()
    assessments = log_feedback(run.tracker, feedback, traces, spans)
    (run.folder / TRACES_FILE).write_text(
        json.dumps({"experiment_id": experiment_id, "assessments": assessments, "traces": traces}, indent=1),
        encoding="utf-8",
    )
    log.info("%d sessions traced, %d assessments attached", len(traces), assessments)
    return {"traces_s": logged - started, "assessments_s": time.perf_counter() - logged}
