"""Sessions as MLflow traces, with the evaluators' grades as assessments (MLflow 3 tracing).

Each `Conversation` a pilot gives becomes one trace in the run's experiment, linked to the run, with its
spans nested as the pilot named them and timed as they ran; each `Feedback` becomes an assessment
(`mlflow.log_feedback`, with its rationale and the evaluator as its source) on the trace, or on the span
it names. What is logged is what the pilot built from the redacted session record: nothing else.
MLflow exports traces in the background; `log_conversations` waits for them before it attaches grades.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from civiclab.errors import TrackingError
from civiclab.plugins.tracing import Conversation, Feedback
from civiclab.store.tracker import Tracker

log = logging.getLogger(__name__)

SESSION_TAG = "civiclab.session"


def _ns(ms: float) -> int:
    return int(ms * 1_000_000)


def log_conversations(
    tracker: Tracker, experiment_id: str, run_id: str, conversations: Iterable[Conversation]
) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """One trace per conversation. Returns {session id: trace id} and {(session id, span name): span id}."""
    client = tracker.client
    traces: dict[str, str] = {}
    spans: dict[tuple[str, str], str] = {}
    try:
        for conversation in conversations:
            trace_id, span_ids = _log_one(client, experiment_id, run_id, conversation)
            traces[conversation.session_id] = trace_id
            spans.update({(conversation.session_id, name): sid for name, sid in span_ids.items()})
        tracker.mlflow.flush_trace_async_logging()
    except TrackingError:
        raise
    except Exception as exc:
        raise TrackingError(
            f"{tracker.uri}: cannot log the sessions' traces: {type(exc).__name__}: {exc}"
        ) from None
    return traces, spans


def _log_one(
    client: Any, experiment_id: str, run_id: str, conversation: Conversation
) -> tuple[str, dict[str, str]]:
    from mlflow.entities import SpanStatusCode

    start = time.time_ns()
    root = client.start_trace(
        name=f"session {conversation.session_id}",
        span_type="CHAIN",
        inputs=conversation.inputs,
        attributes=conversation.attributes,
        tags={SESSION_TAG: conversation.session_id},
        experiment_id=experiment_id,
        run_id=run_id,
        start_time_ns=start,
    )
    trace_id = str(root.trace_id)
    ids: dict[str, str] = {}
    live: dict[str, Any] = {}
    for span in conversation.spans:
        parent = live.get(span.parent or "", root)
        opened = client.start_span(
            span.name,
            trace_id=trace_id,
            parent_id=parent.span_id,
            span_type=span.kind,
            inputs=span.inputs,
            attributes=span.attributes,
            start_time_ns=start + _ns(span.start_ms),
        )
        live[span.name], ids[span.name] = opened, str(opened.span_id)
    # Spans end in reverse order of opening, so that a parent never ends before its children.
    for span in reversed(conversation.spans):
        client.end_span(
            trace_id,
            ids[span.name],
            outputs=span.outputs,
            status=SpanStatusCode.ERROR if span.error else SpanStatusCode.OK,
            end_time_ns=start + _ns(span.start_ms + span.duration_ms),
        )
    client.end_trace(
        trace_id, outputs=conversation.outputs, end_time_ns=start + _ns(conversation.duration_ms)
    )
    return trace_id, ids


def log_feedback(
    tracker: Tracker,
    feedback: Iterable[Feedback],
    traces: dict[str, str],
    spans: dict[tuple[str, str], str],
) -> int:
    """Each grade as an MLflow assessment on its session's trace (and span); returns how many."""
    from mlflow.entities import AssessmentSource

    sources: dict[str, Any] = defaultdict(lambda: None)
    logged = 0
    try:
        for grade in feedback:
            trace_id = traces.get(grade.session_id)
            if trace_id is None:
                continue  # a session the pilot does not trace
            source = sources[grade.source] or AssessmentSource(source_type="CODE", source_id=grade.source)
            sources[grade.source] = source
            tracker.mlflow.log_feedback(
                trace_id=trace_id,
                name=grade.name,
                value=grade.value,
                rationale=grade.rationale,
                source=source,
                span_id=spans.get((grade.session_id, grade.span)) if grade.span else None,
            )
            logged += 1
    except Exception as exc:
        raise TrackingError(
            f"{tracker.uri}: cannot attach the evaluators' grades: {type(exc).__name__}: {exc}"
        ) from None
    return logged
