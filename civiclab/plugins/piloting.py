"""What a pilot is: something that turns a session plan into a typed `SessionRecord`.

The lifecycle is declared here and the runner honours it, so no pilot has to guess where it runs:

```
parent process                         each process that runs sessions
──────────────                         ───────────────────────────────
__init__ (cheap: params, data files)   __init__
setup()  if sessions run here          setup()       exactly once per process
plans()                                run_session() × N
(replay: run_session() again, on the already set-up pilot, when `replays()`)
run_facts(), run_artifacts()           close()
close()
```
With one worker (or a pilot that is not `parallel`) the parent is the only process. With a pool,
the parent sets its own pilot up only when it replays sessions or when `results_need_setup` says
`run_facts`/`run_artifacts` read what `setup` built.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from civiclab.records import Event, SessionPlan, SessionRecord
from civiclab.spec.experiment import PersonaSpec

if TYPE_CHECKING:
    from civiclab.plugins.experiment import Experiment
    from civiclab.plugins.tracing import Conversation

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


class PilotFacts(BaseModel):
    """Run-level facts a pilot hands to evaluators (model version, contract address...).

    Each pilot declares its own subclass with typed fields. Evaluators never import it: they read the
    fields they need through a model of their own with `RunData.facts_as(Model)`. Facts are data,
    never live objects; fields that hold personal values are declared `Field(exclude=True, repr=False)`
    so that they cannot reach a log or an artifact.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    synthetic: str | None = Field(
        default=None,
        description="why the sessions are not observed people (a simulation, generated data); "
        "None when they are. Metrics computed from them are marked SYNTHETIC and can never give a go.",
    )


class Pilot(ABC, Generic[P]):
    """Base of every pilot. Subclasses are registered with `@civiclab.pilot(name, params=Model)`.

    The lifecycle (see the module docstring) is declared by the class attributes below; the runner
    calls `setup` at most once per pilot object, so a pilot never re-runs or guards its own setup.
    A pilot must not read the wall clock into events: the same plan gives the same record.
    """

    replayable: ClassVar[bool] = True
    """The runner runs the first sessions again and checks the records are identical."""

    parallel: ClassVar[bool] = True
    """Sessions may run in worker processes, each with its own set-up pilot. False keeps every
    session in the parent (e.g. sessions share state built by `plans`, or one account's nonces)."""

    results_need_setup: ClassVar[bool] = False
    """`run_facts`/`run_artifacts` read what `setup` built: with a pool, the parent sets up too."""

    def __init__(self, params: P, context: PilotContext) -> None:
        self.params = params
        self.context = context
        self._set_up = False

    def setup(self) -> None:  # noqa: B027 - optional hook
        """Load what every session needs (models, chains, data); the runner calls it once per process."""

    def ensure_setup(self) -> float:
        """Run `setup` unless it already ran on this object; returns the seconds it took (0 if not run).

        Only the runner calls this: it is how `setup` runs exactly once per process.
        """
        if self._set_up:
            return 0.0
        started = time.perf_counter()
        self.setup()
        self._set_up = True
        return time.perf_counter() - started

    @property
    def is_set_up(self) -> bool:
        return self._set_up

    def replays(self) -> bool:
        """Whether this run's sessions are replayed; the class's `replayable` unless params decide."""
        return self.replayable

    def plans(self, sessions: int, seed: int) -> Sequence[SessionPlan] | None:
        """Session plans of the run (in the parent, after `setup` when sessions run there), or None
        to let the runner sample the population. A sequence need not hold them all: the runner takes
        its `len`, iterates it (more than once) and slices a tail `[start:]` of it."""
        return None

    @abstractmethod
    def run_session(self, plan: SessionPlan) -> SessionRecord:
        """Run one session and return its record."""

    def upcoming(self, plans: list[SessionPlan]) -> None:  # noqa: B027 - optional hook
        """The sessions this worker process is about to run, in order (a pool or Ray batch): a pilot that
        overlaps its sessions' calls to a remote system sends them now."""

    def run_artifacts(self, records: Collection[SessionRecord], out_dir: Path) -> list[Path]:
        """Write pilot-level artifacts (plots, proofs) after all sessions; returns their paths."""
        return []

    def conversation(self, record: SessionRecord) -> Conversation | None:
        """The session as an MLflow trace (a redacted record in, spans out), or None: not traced."""
        return None

    def run_facts(self) -> PilotFacts | None:
        """Run-level facts evaluators may read (an instance of the pilot's `PilotFacts` subclass)."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what `setup` opened."""

    def session_start(self, plan: SessionPlan) -> dt.datetime:
        """The session's own clock origin: the population start plus one minute per session."""
        return self.context.start + dt.timedelta(minutes=plan.index)

    @classmethod
    def validate_experiment(cls, experiment: Experiment) -> None:
        """Check cross-field rules of an experiment before anything runs; raise `SpecError`."""

    @classmethod
    def participant_app(cls, experiment: Experiment) -> contextlib.AbstractContextManager[Any] | None:
        """A context manager yielding an ASGI app that serves this pilot to real participants (enrolment,
        consent, the pilot itself, withdrawal), closed when the server stops; None when it has none."""
        return None

    @classmethod
    def demo_services(cls, experiment: Experiment) -> contextlib.AbstractContextManager[object]:
        """What `civiclab demo` must run around this experiment (e.g. a local stand-in for the lab's
        own endpoint), started before the run and stopped after it. Nothing by default."""
        return contextlib.nullcontext()
