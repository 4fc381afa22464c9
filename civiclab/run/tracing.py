"""A run's sessions as MLflow traces, graded by its evaluators, listed in a signed file.

While the evaluators run, each session the pilot can show as a conversation (`Pilot.conversation`) is
logged as a trace of the run, from the redacted record read back from `sessions.jsonl` (and redacted
once more: a pilot's spans must not reintroduce what the journal removed); the evaluators' grades
(`RunData.assess`) are attached as assessments. `traces.json` (session id -> trace id) is written in the
run's folder before the statement is signed, so `civiclab verify` covers which trace belongs to which
session. `tracking.traces: false` in the spec turns this off.
"""

from __future__ import annotations

import json
import logging
import threading
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


class RunTracer:
    """Logs a run's traces on a thread of its own while the evaluators run, then attaches their grades.

    Writing a trace is mostly waiting on the store (a commit per span on SQLite), so it overlaps with the
    evaluators' computing; what is left on the run's path is the wait at `finish` and the assessments.
    """

    def __init__(self, run: StoredRun, pilot: Pilot[Any], records: Iterable[SessionRecord]) -> None:
        self.run, self.pilot, self.records = run, pilot, records
        self.traces: dict[str, str] = {}
        self.spans: dict[tuple[str, str], str] = {}
        self.error: BaseException | None = None
        self.experiment_id = ""
        self.seconds = 0.0
        self.pending = conversations(pilot, records)
        self.thread = threading.Thread(target=self._log, name="civiclab-traces", daemon=True)

    @classmethod
    def start(cls, run: StoredRun, pilot: Pilot[Any], records: Iterable[SessionRecord]) -> RunTracer | None:
        """A tracer already logging, or None when the pilot has no conversations to show."""
        if not traces_sessions(pilot):
            return None
        tracer = cls(run, pilot, records)
        tracer._log_first()
        tracer.thread.start()
        return tracer

    def _log_first(self) -> None:
        """Log the first conversation on the run's thread: MLflow imports what a trace needs (its context
        probes, serialisers) on first use, and a module half-imported by one thread while another imports
        is the race that once failed a lab's turns (issue 23). The tracer's thread then imports nothing."""
        from civiclab.store.traces import log_conversations

        started = time.perf_counter()
        self.experiment_id = str(self.run.tracker.client.get_run(self.run.run_id).info.experiment_id)
        first = next(self.pending, None)
        if first is not None:
            self.traces, self.spans = log_conversations(
                self.run.tracker, self.experiment_id, self.run.run_id, [first]
            )
        self.seconds += time.perf_counter() - started

    def _log(self) -> None:
        from civiclab.store.traces import log_conversations

        started = time.perf_counter()
        try:
            traces, spans = log_conversations(
                self.run.tracker, self.experiment_id, self.run.run_id, self.pending
            )
            self.traces.update(traces)
            self.spans.update(spans)
        except BaseException as exc:  # handed back to the run's thread by `finish`
            self.error = exc
        self.seconds += time.perf_counter() - started

    def finish(self, feedback: list[Feedback]) -> dict[str, float]:
        """Wait for the traces, attach the grades, write `traces.json`; returns the run's timings."""
        from civiclab.store.traces import log_feedback

        waited = time.perf_counter()
        self.thread.join()
        if self.error is not None:
            raise self.error
        graded = time.perf_counter()
        assessments = log_feedback(self.run.tracker, feedback, self.traces, self.spans)
        (self.run.folder / TRACES_FILE).write_text(
            json.dumps(
                {"experiment_id": self.experiment_id, "assessments": assessments, "traces": self.traces},
                indent=1,
            ),
            encoding="utf-8",
        )
        log.info("%d sessions traced, %d assessments attached", len(self.traces), assessments)
        done = time.perf_counter()
        return {"traces_s": self.seconds, "traces_wait_s": graded - waited, "assessments_s": done - graded}
