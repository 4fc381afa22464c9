"""What a pilot shows of a session as an MLflow trace, and what evaluators attach to it.

A pilot that has conversations (the assistant) turns a finished, redacted session record into a
`Conversation`: one trace per session, with a span per step (question, retrieval with its sources,
hand-over decision with its explanation, answer) and the times they took. Evaluators grade each turn
with `Feedback` (a value and its rationale), which the run attaches to the trace as MLflow assessments.
Both cross from plugins into the store: pydantic models that refuse unknown fields.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SpanKind = Literal["CHAIN", "RETRIEVER", "LLM", "CHAT_MODEL", "TOOL", "PARSER", "UNKNOWN"]
FeedbackValue = float | int | str | bool


class TraceSpan(BaseModel):
    """One step of a conversation; `parent` names an earlier span of the same trace (None: the session)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    kind: SpanKind = "UNKNOWN"
    parent: str | None = None
    inputs: Any = None
    outputs: Any = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    start_ms: float = Field(default=0.0, ge=0, description="from the start of the session")
    duration_ms: float = Field(default=0.0, ge=0)
    error: str | None = None


class Conversation(BaseModel):
    """One session as a trace: what came in, what went out, and its spans in order."""

    model_config = ConfigDict(extra="forbid")

    session_id: str
    inputs: Any = None
    outputs: Any = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    spans: list[TraceSpan] = Field(default_factory=list)

    @property
    def duration_ms(self) -> float:
        return max((s.start_ms + s.duration_ms for s in self.spans), default=0.0)


class Feedback(BaseModel):
    """An evaluator's grade of one step of one session (`span`: a span's name, None: the session)."""

    model_config = ConfigDict(extra="forbid")

    session_id: str
    name: str = Field(min_length=1)
    value: FeedbackValue | None
    rationale: str | None = None
    span: str | None = None
    source: str = Field(min_length=1, description="the evaluator that graded it")
