"""What a run produces: events, session records and metrics (versioned pydantic models)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from civiclab.errors import EvaluatorError

RECORD_VERSION = 1

Outcome = Literal["completed", "abandoned", "escalated_to_human", "failed"]
OUTCOMES: tuple[str, ...] = ("completed", "abandoned", "escalated_to_human", "failed")

DataView = TypeVar("DataView", bound=BaseModel)

SEGMENT_ATTRIBUTES: tuple[str, ...] = (
    "age_band",
    "digital_literacy",
    "disability",
    "language",
    "device",
    "territory",
)


CANONICAL_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS  # with `default=str`: the hashed form


def canonical_bytes(value: Any) -> bytes:
    """The one JSON form civiclab hashes, as UTF-8 bytes: sorted keys, no spaces, non-ASCII kept.

    This is orjson's output. It matches `json.dumps(sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)` for strings, integers, bools, lists and dicts, but not for every float:
    orjson writes `1e-7` where `json` writes `1e-07`. Every stored chain was hashed with this
    form, so it must never change (tests/test_canonical.py pins it). Values orjson refuses
    (integers past 64 bits) fall back to `json.dumps`, as they always did.
    """
    try:
        return orjson.dumps(value, option=CANONICAL_OPTIONS, default=str)
    except (TypeError, orjson.JSONEncodeError):
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
        return text.encode("utf-8")


def canonical_json(value: Any) -> str:
    """`canonical_bytes` as text (what digests of specs, manifests and records are taken over)."""
    try:
        return orjson.dumps(value, option=CANONICAL_OPTIONS, default=str).decode()
    except (TypeError, orjson.JSONEncodeError):  # e.g. integers past 64 bits
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


class Event(BaseModel):
    """One thing that happened in a session; what the audit chain hashes.

    `ts` is the session's own (simulated or observed) clock, never the wall clock of the
    machine, so that the same spec and seed give the same audit root.
    """

    model_config = ConfigDict(extra="forbid")

    session_id: str
    seq: int
    ts: str
    kind: str
    actor: str
    payload: dict[str, Any] = Field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "seq": self.seq,
            "ts": self.ts,
            "kind": self.kind,
            "actor": self.actor,
            "payload": self.payload,
        }


class SessionPlan(BaseModel):
    """What the runner asks a pilot to do: one session for one persona, with its own seed."""

    model_config = ConfigDict(extra="forbid")

    session_id: str
    index: int
    persona_id: str
    segment: dict[str, str]
    traits: dict[str, Any] = Field(default_factory=dict)
    seed: int
    source: dict[str, Any] = Field(default_factory=dict)


class SessionRecord(BaseModel):
    """The typed record of one session, as a pilot returns it."""

    model_config = ConfigDict(extra="forbid")

    version: int = RECORD_VERSION
    session_id: str
    persona_id: str
    segment: dict[str, str]
    channel_path: list[str] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    outcome: Outcome
    duration_s: float = 0.0
    steps: list[dict[str, Any]] = Field(default_factory=list)
    data: dict[str, Any] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict)
    error: str | None = None

    def data_as(self, view: type[DataView]) -> DataView:
        """The session's `data` read through a pydantic model of the fields a reader needs.

        A pilot writes `data` as a plain dict (it is stored as such in `sessions.jsonl`); an evaluator
        declares the fields it reads, with defaults for those a session may lack (a failed session has
        no verdict), and gets them typed instead of looking up string keys. Unknown keys are ignored
        unless the view forbids them.

        Raises:
            EvaluatorError: `data` lacks a field the view requires, or holds it with another type
                (the message names the session and the fields).
        """
        try:
            return view.model_validate(self.data)
        except ValidationError as exc:
            fields = ", ".join(".".join(map(str, e["loc"])) for e in exc.errors())
            raise EvaluatorError(
                f"the data of session {self.session_id} do not fit {view.__name__}: {fields}"
            ) from None


SYNTHETIC_UNKNOWN = "generated or simulated data (a metric stored before the reason was recorded)"
"""The reason read from a metric stored when `synthetic` was a bare `true`."""


class Metric(BaseModel):
    """One measured value: `name` is `dimension.metric`; a segment value narrows it to a group."""

    model_config = ConfigDict(extra="forbid")

    name: str
    value: float | None
    unit: str = ""
    dimension: str
    higher_is_better: bool | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None
    method: str | None = Field(
        default=None,
        description="how the interval was computed (see civiclab.stats.intervals.METHODS); None: no interval",
    )
    segment: str | None = None
    error: str | None = None
    note: str | None = None
    synthetic: str | None = Field(
        default=None,
        min_length=1,
        description="why the value is not evidence about real people (generated survey answers, simulated "
        "sessions); None when it is. Every report marks such a value SYNTHETIC and it never gives a go.",
    )

    census: str | None = Field(
        default=None,
        min_length=1,
        description="the finite population this value was measured over entirely (every routing decision "
        "of the run, every injection prompt of the bank): a measurement without sampling interval, judged "
        "exactly; None when the value is a sample",
    )

    unit_of_replication: str | None = Field(
        default=None,
        min_length=1,
        description="what one independent unit of evidence is (session, person, question, document); the "
        "observations n may repeat units (the assistant's turns repeat the bank's questions)",
    )
    distinct_units: int | None = Field(
        default=None,
        ge=0,
        description="how many distinct units the n observations come from; min_n and sample-size advice "
        "count these (scorecard rules 3 and later)",
    )
    design_effect: float | None = Field(
        default=None,
        description="n over the effective sample size of a clustered interval (1: repeats as good as new units)",
    )

    @field_validator("synthetic", mode="before")
    @classmethod
    def _reason_of_a_stored_flag(cls, value: object) -> object:
        # metrics.json of runs stored before the reason was kept hold a bool: they must still load.
        if value is True:
            return SYNTHETIC_UNKNOWN
        if value is False:
            return None
        return value

    @property
    def key(self) -> str:
        """`name`, or `name[segment]` for a per-segment value: tells metrics apart in memory (lookups,
        tests). Not what the store uses: MLflow logs a metric under `store.tracker.metric_key`
        (`name/attribute/value`)."""
        return self.name if self.segment is None else f"{self.name}[{self.segment}]"

    @property
    def is_missing(self) -> bool:
        return self.value is None or (isinstance(self.value, float) and math.isnan(self.value))


class EnergyReading(BaseModel):
    """What the energy meter measured over one run."""

    model_config = ConfigDict(extra="forbid")

    kwh: float
    kg_co2e: float
    duration_s: float
    cpu_power_w: float | None = None
    method: Literal["measured", "estimated", "unavailable"]
    source: str
    country: str
    tracker: str = "codecarbon"
    sessions: int | None = None
    """Sessions run while the meter measured: fewer than the run's after a resume (the killed
    process's share was never recorded); None when unknown (then every session of the run)."""


@dataclass(frozen=True)
class AuditSummary:
    """What a valid audit log holds: its number of events, its root and the sessions it covers.

    Written by `civiclab.evidence.audit`, read by evaluators (`RunData.audit`), hence a ground type.
    """

    events: int
    root: str
    opened: int
    closed: int
