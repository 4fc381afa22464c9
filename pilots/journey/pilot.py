"""The `journey` pilot: simulate personas on a journey graph, or observe real xAPI telemetry."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from civiclab import DataFile, Pilot, PilotContext, PilotFacts, SessionPlan, SessionRecord, pilot
from pilots.journey.lrs import LrsParams
from pilots.journey.model import Journey, load_journey, with_overrides
from pilots.journey.simulate import simulate_session
from pilots.journey.sources import StatementsFile, StoreSource, statements_shorthand, store_shorthand
from pilots.journey.xapi_mapping import StepsMapping

if TYPE_CHECKING:
    from civiclab import Experiment


class JourneyParams(BaseModel):
    """Parameters of the journey pilot."""

    model_config = ConfigDict(extra="forbid")

    journey: DataFile = Field(description="the journey YAML graph")
    mode: Literal["simulate", "observe"] = "simulate"
    statements: Annotated[StatementsFile | None, BeforeValidator(statements_shorthand)] = Field(
        default=None,
        description="xAPI statements (JSON array or JSON lines) for observe mode: a path, or "
        "{path, synthetic, reason}",
    )
    lrs: LrsParams | None = Field(default=None, description="read the statements from an LRS instead")
    store: Annotated[StoreSource | None, BeforeValidator(store_shorthand)] = Field(
        default=None,
        description="or from civiclab's own statement store, where `civiclab journey serve` writes",
    )
    steps: StepsMapping | None = Field(
        default=None, description="activities to steps; default: ids ending in /steps/STEP_ID"
    )
    arrivals_per_hour: float | None = Field(
        default=None,
        gt=0,
        le=36_000,
        description="simulate: sessions starting per hour, the load on human channels (default: one a minute)",
    )
    assistance: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="per assistance point id, fields replacing the journey file's (a what-if: "
        "`--set assistance.france_services.capacity.staff=3`)",
    )

    @model_validator(mode="after")
    def _one_source_for_observe(self) -> JourneyParams:
        sources = (self.statements is not None) + (self.lrs is not None) + (self.store is not None)
        if self.mode == "observe" and sources != 1:
            raise ValueError("statements: give exactly one of statements, lrs or store when mode is observe")
        if self.mode == "simulate" and (sources or self.steps is not None):
            raise ValueError("mode: statements, lrs, store and steps are read only when mode is observe")
        return self


SIMULATED = (
    "SIMULATED sessions: personas walking the journey under the behavioural model of "
    "pilots/journey/behaviour.py, not observed citizens"
)


class JourneyFacts(PilotFacts):
    """What the journey pilot tells evaluators: the graph walked and, when observed, what was read."""

    journey: Journey
    mode: Literal["simulate", "observe"]
    statements_read: int = Field(description="xAPI statements read (observe mode)")
    statements_rejected: int = Field(description="xAPI statements left out, listed in xapi_rejected.jsonl")
    xapi: dict[str, Any] | None = Field(
        default=None, description="observe mode: what was read, voided, duplicated, unmapped (redacted)"
    )
    workload: dict[str, Any] | None = Field(
        default=None,
        description="points with capacity: per day and hour, seconds open and agent-seconds on duty "
        "(what utilisation and queue length are divided by)",
    )
    scene: dict[str, Any] | None = Field(
        default=None, description="the served 3D scene against the W3C XAUR, per immersive step"
    )


@pilot("journey", params=JourneyParams)
class JourneyPilot(Pilot[JourneyParams]):
    """Citizens walk a public-service procedure across channels (simulated, or observed via xAPI)."""

    def __init__(self, params: JourneyParams, context: PilotContext) -> None:
        super().__init__(params, context)
        self.journey: Journey = with_overrides(
            load_journey(params.journey), params.assistance, params.journey
        )
        self.problems: list[dict[str, Any]] = []
        self.report: dict[str, Any] | None = None
        self.archive: Path | None = None
        self.workload: dict[str, Any] | None = None

    @classmethod
    def validate_experiment(cls, experiment: Experiment) -> None:
        """Read the journey graph (and the xAPI file's shape) so `civiclab validate` catches their errors."""
        params = experiment.pilot_params
        assert isinstance(params, JourneyParams)
        journey = with_overrides(load_journey(params.journey), params.assistance, experiment.path)
        if params.steps is not None:
            from civiclab import SpecError
            from pilots.journey.xapi_mapping import unknown_targets

            for field, problem in unknown_targets(params.steps, journey):
                raise SpecError(experiment.path, f"pilot.params.steps.{field}", problem)
        if params.statements is not None:
            from pilots.journey.xapi_statement import read_statements

            read_statements(params.statements.path)

    def plans(self, sessions: int, seed: int) -> Sequence[SessionPlan] | None:
        if self.params.mode == "simulate":
            if not self.journey.has_capacity:
                return None  # sessions are independent: the runner draws plans as they run
            from pilots.journey.load import plans_with_queues

            queued, self.workload = plans_with_queues(
                self.journey, self.context, sessions, seed, self.spacing_s
            )
            return queued
        from civiclab.privacy.redaction import redact
        from pilots.journey.xapi import ObservedStatements
        from pilots.journey.xapi_mapping import ActivityMap, default_mapping

        mapping = self.params.steps or default_mapping(self.journey)
        personas = {p.id: p.segment() for p in self.context.personas}
        salt = self.context.pseudonym_salt
        observed = ObservedStatements(ActivityMap(mapping, self.journey), salt, personas, self._source_name())
        if self.params.lrs is not None:
            self._read_lrs(self.params.lrs, observed)
        elif self.params.store is not None:
            from pilots.journey.participants.statement_store import read_store

            for statement in read_store(self.params.store.path):
                observed.add(statement)
        else:
            from pilots.journey.xapi_statement import iter_statements

            assert self.params.statements is not None
            for statement in iter_statements(self.params.statements.path):
                observed.add(statement)
        plans = observed.plans(sessions)
        self.problems = [p.model_dump() for p in observed.problems]
        # Activity ids and verb IRIs are the tools' own names, but may carry a name: redacted.
        self.report = redact(observed.report.model_dump())
        return plans

    def _source_name(self) -> str:
        return "lrs" if self.params.lrs else "store" if self.params.store else "file"

    def _read_lrs(self, lrs: LrsParams, observed: Any) -> None:
        import tempfile

        from pilots.journey.lrs import read_lrs
        from pilots.journey.xapi_archive import Archive

        folder = self.context.workdir or Path(tempfile.mkdtemp(prefix="civiclab-lrs-"))
        archive = Archive(folder / "xapi_lrs_statements.jsonl", self.context.pseudonym_salt)
        try:
            for statement in read_lrs(lrs):
                archive.write(statement)
                observed.add(statement)
        finally:
            archive.close()
        self.archive = archive.path

    @property
    def spacing_s(self) -> float:
        return 3600.0 / self.params.arrivals_per_hour if self.params.arrivals_per_hour else 60.0

    def session_start(self, plan: SessionPlan) -> dt.datetime:
        if self.params.arrivals_per_hour is None:
            return super().session_start(plan)
        return self.context.start + dt.timedelta(seconds=plan.index * self.spacing_s)

    def run_session(self, plan: SessionPlan) -> SessionRecord:
        if self.params.mode == "observe":
            from pilots.journey.xapi import session_from_statements

            return session_from_statements(self.journey, plan)
        return simulate_session(self.journey, plan, self.session_start(plan), plan.source.get("queue"))

    def run_facts(self) -> JourneyFacts:
        report = self.report or {}
        return JourneyFacts(
            journey=self.journey,
            mode=self.params.mode,
            statements_read=int(report.get("statements_read", 0) or 0),
            statements_rejected=len(self.problems),
            xapi=self.report,
            workload=self.workload,
            synthetic=SIMULATED if self.params.mode == "simulate" else self._observed_synthetic(),
            scene=self._scene(),
        )

    def _scene(self) -> dict[str, Any] | None:
        """What the served scene offers, for a journey with immersive steps (None without)."""
        if not any(s.channel == "immersive_3d" for s in self.journey.steps):
            return None
        from pilots.journey.participants.xaur import scene_accessibility

        return scene_accessibility(self.journey)

    def _observed_synthetic(self) -> str | None:
        """The declared SYNTHETIC mark of observe mode's source (None for a real export or LRS)."""
        if self.params.statements is not None:
            return self.params.statements.synthetic_reason(self.params.statements.path.name)
        if self.params.lrs is not None:
            return self.params.lrs.synthetic_reason(f"the LRS {self.params.lrs.url}")
        if self.params.store is not None:
            return self.params.store.synthetic_reason(self.params.store.path.name)
        return None

    @classmethod
    def participant_app(cls, experiment: Experiment) -> contextlib.AbstractContextManager[Any]:
        """The journey served to real participants: the 3D scene, its twin, consent and withdrawal."""
        from pilots.journey.participants.serve import participant_app

        return participant_app(experiment)

    def run_artifacts(self, records: Collection[SessionRecord], out_dir: Path) -> list[Path]:
        if self.params.mode != "observe":
            return []
        import json
        import shutil

        rejected = out_dir / "xapi_rejected.jsonl"
        rejected.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in self.problems))
        report = out_dir / "xapi_report.json"
        report.write_text(json.dumps(self.report, indent=1, sort_keys=True))
        paths = [rejected, report]
        if self.archive is not None:
            paths.append(Path(shutil.copy(self.archive, out_dir / self.archive.name)))
        return paths


journey = JourneyPilot
