"""The `journey` pilot: simulate personas on a journey graph, or observe real xAPI telemetry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from civiclab.piloting import Pilot, PilotContext, PilotFacts
from civiclab.records import SessionPlan, SessionRecord
from civiclab.registry import pilot
from civiclab.spec import DataFile
from pilots.journey.model import Journey, load_journey
from pilots.journey.simulate import simulate_session

if TYPE_CHECKING:
    from civiclab.experiment import Experiment


class JourneyParams(BaseModel):
    """Parameters of the journey pilot."""

    model_config = ConfigDict(extra="forbid")

    journey: DataFile = Field(description="the journey YAML graph")
    mode: Literal["simulate", "observe"] = "simulate"
    statements: DataFile | None = Field(
        default=None, description="xAPI statements (JSON array or JSON lines) for observe mode"
    )

    @model_validator(mode="after")
    def _statements_for_observe(self) -> JourneyParams:
        if self.mode == "observe" and self.statements is None:
            raise ValueError("statements: required when mode is observe")
        return self


class JourneyFacts(PilotFacts):
    """What the journey pilot tells evaluators: the graph walked and, when observed, what was read."""

    journey: Journey
    mode: Literal["simulate", "observe"]
    statements_read: int = Field(description="xAPI statements read (observe mode)")
    statements_rejected: int = Field(description="xAPI statements left out, listed in xapi_rejected.jsonl")


@pilot("journey", params=JourneyParams)
class JourneyPilot(Pilot[JourneyParams]):
    """Citizens walk a public-service procedure across channels (simulated, or observed via xAPI)."""

    def __init__(self, params: JourneyParams, context: PilotContext) -> None:
        super().__init__(params, context)
        self.journey: Journey = load_journey(params.journey)
        self.rejected: list[dict[str, Any]] = []
        self.statements_read = 0

    @classmethod
    def validate_experiment(cls, experiment: Experiment) -> None:
        """Read the journey graph (and the xAPI file's shape) so `civiclab validate` catches their errors."""
        params = experiment.pilot_params
        assert isinstance(params, JourneyParams)
        load_journey(params.journey)
        if params.statements is not None:
            from pilots.journey.xapi import read_statements

            read_statements(params.statements)

    def plans(self, sessions: int, seed: int) -> list[SessionPlan] | None:
        if self.params.mode == "simulate":
            return None
        from pilots.journey.xapi import plans_from_statements, read_statements

        assert self.params.statements is not None
        statements = read_statements(self.params.statements)
        self.statements_read = len(statements)
        personas = {p.id: p.segment() for p in self.context.personas}
        plans, rejected = plans_from_statements(statements, self.context.pseudonym_salt, personas, sessions)
        self.rejected = [r.model_dump() for r in rejected]
        return plans

    def run_session(self, plan: SessionPlan) -> SessionRecord:
        if self.params.mode == "observe":
            from pilots.journey.xapi import session_from_statements

            return session_from_statements(self.journey, plan)
        return simulate_session(self.journey, plan, self.session_start(plan))

    def run_facts(self) -> JourneyFacts:
        return JourneyFacts(
            journey=self.journey,
            mode=self.params.mode,
            statements_read=self.statements_read,
            statements_rejected=len(self.rejected),
        )

    def run_artifacts(self, records: list[SessionRecord], out_dir: Path) -> list[Path]:
        if self.params.mode != "observe":
            return []
        import json

        path = out_dir / "xapi_rejected.jsonl"
        path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in self.rejected))
        return [path]


journey = JourneyPilot
