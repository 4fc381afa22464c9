"""What a pilot is: something that turns a session plan into a typed `SessionRecord`."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

from civiclab.records import Event, SessionPlan, SessionRecord
from civiclab.spec import PersonaSpec

if TYPE_CHECKING:
    from civiclab.experiment import Experiment

P = TypeVar("P", bound=BaseModel)


@dataclass
class PilotContext:
    """What a pilot may know of the run: never MLflow, never the evaluators."""

    experiment: str
    base_dir: Path
    seed: int
    start: dt.datetime
    personas: list[PersonaSpec]
    k_anonymity: int = 5
    pseudonym_salt: str = ""
    workdir: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class EventLog:
    """Builds the ordered events of one session on the session's own clock."""

    def __init__(self, session_id: str, start: dt.datetime) -> None:
        self.session_id = session_id
        self.start = start
        self.events: list[Event] = []

    def add(self, kind: str, actor: str, at_s: float, **payload: Any) -> Event:
        ts = (self.start + dt.timedelta(seconds=round(at_s, 3))).isoformat().replace("+00:00", "Z")
        event = Event(
            session_id=self.session_id, seq=len(self.events), ts=ts, kind=kind, actor=actor, payload=payload
        )
        self.events.append(event)
        return event


class Pilot(ABC, Generic[P]):
    """Base of every pilot. Subclasses are registered with `@civiclab.pilot(name, params=Model)`.

    A pilot is built once per process (`setup` loads models, opens chains), then `run_session`
    is called for each plan. It must not read the wall clock into events: the same plan gives
    the same record.
    """

    def __init__(self, params: P, context: PilotContext) -> None:
        self.params = params
        self.context = context

    def setup(self) -> None:  # noqa: B027 - optional hook
        """Load what every session needs (models, chains, data), once per process."""

    def plans(self, sessions: int, seed: int) -> list[SessionPlan] | None:
        """Session plans of the run, or None to let the runner sample the population."""
        return None

    @abstractmethod
    def run_session(self, plan: SessionPlan) -> SessionRecord:
        """Run one session and return its record."""

    def run_artifacts(self, records: list[SessionRecord], out_dir: Path) -> list[Path]:
        """Write pilot-level artifacts (plots, proofs) after all sessions; returns their paths."""
        return []

    def run_facts(self) -> dict[str, Any]:
        """Run-level facts evaluators may read (e.g. model version, contract address)."""
        return {}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what `setup` opened."""

    def session_start(self, plan: SessionPlan) -> dt.datetime:
        """The session's own clock origin: the population start plus one minute per session."""
        return self.context.start + dt.timedelta(minutes=plan.index)

    @classmethod
    def validate_experiment(cls, experiment: Experiment) -> None:
        """Check cross-field rules of an experiment before anything runs; raise `SpecError`."""
