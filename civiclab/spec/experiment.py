"""The experiment spec: strict pydantic models of what a lab writes in `experiments/*.yaml`."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from civiclab.spec.commons import CoDesignActivity, OpenOutput
from civiclab.spec.impact import ImpactAssessment
from civiclab.spec.paths import DataFile
from civiclab.spec.survey import SurveySpec

SPEC_VERSION = 1


class Strict(BaseModel):
    """Base of every spec model: unknown fields are an error naming the field."""

    model_config = ConfigDict(extra="forbid", frozen=False)


Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]{1,63}$")]


class PilotSpec(Strict):
    kind: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)


class PersonaSpec(Strict):
    """A kind of citizen: the segment attributes every breakdown uses, plus behavioural traits."""

    id: str = Field(min_length=1)
    label: str = ""
    weight: float = Field(default=1.0, gt=0)
    age_band: Literal["18-24", "25-39", "40-64", "65-79", "80+"]
    digital_literacy: Literal["none", "low", "medium", "high"]
    disability: Literal["none", "visual", "hearing", "motor", "cognitive"] = "none"
    language: str = Field(default="fr", pattern=r"^[a-z]{2,3}$")
    device: Literal["smartphone", "computer", "tablet", "headset", "none"] = "computer"
    territory: Literal["urban", "suburban", "rural", "overseas"] = "urban"
    traits: dict[str, float] = Field(default_factory=dict)

    def segment(self) -> dict[str, str]:
        return {
            "age_band": self.age_band,
            "digital_literacy": self.digital_literacy,
            "disability": self.disability,
            "language": self.language,
            "device": self.device,
            "territory": self.territory,
        }


class PersonaFile(Strict):
    personas: list[PersonaSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> PersonaFile:
        seen: set[str] = set()
        for i, persona in enumerate(self.personas):
            if persona.id in seen:
                raise ValueError(f"personas[{i}].id: duplicate persona id {persona.id!r}")
            seen.add(persona.id)
        return self


class PopulationSpec(Strict):
    personas: DataFile | list[PersonaSpec] = Field(
        description="a persona file (YAML with a `personas` list) or the list itself"
    )
    sessions: int = Field(gt=0, le=10_000_000)
    seed: int = 0
    start: dt.datetime = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def _name_or_mapping(value: Any) -> Any:
    return {"name": value} if isinstance(value, str) else value


class EvaluatorRef(Strict):
    name: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)


EvaluatorEntry = Annotated[EvaluatorRef, BeforeValidator(_name_or_mapping)]


class Waiver(Strict):
    justification: str = Field(min_length=10)
    granted_by: str = Field(min_length=1)
    date: dt.date | None = None


class CriterionSpec(Strict):
    """One scorecard criterion: a threshold on a metric, or a bound on the gap between segments."""

    metric: str = Field(min_length=3)
    label: str = ""
    at_least: float | None = None
    at_most: float | None = None
    max_gap: float | None = Field(default=None, ge=0)
    min_ratio: float | None = Field(default=None, gt=0, le=1)
    by: str | None = Field(default=None, description="segment attribute the gap is taken across")
    segment: str | None = None
    severity: Literal["blocking", "advisory"] = "blocking"
    min_n: int | None = Field(
        default=None,
        ge=1,
        description="smallest sample that may be judged; below it the verdict is `insufficient` "
        "(default by kind of metric: 30 for rates, 20 respondents for survey scales, see civiclab.stats.sample_size)",
    )
    waiver: Waiver | None = None

    @model_validator(mode="after")
    def _one_threshold(self) -> CriterionSpec:
        given = [k for k in ("at_least", "at_most", "max_gap", "min_ratio") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of at_least, at_most, max_gap, min_ratio")
        if self.by is not None and given[0] not in ("max_gap", "min_ratio"):
            raise ValueError("`by` only applies to max_gap and min_ratio")
        return self


class ScorecardSpec(Strict):
    criteria: list[CriterionSpec] = Field(default_factory=list)


class TrackingSpec(Strict):
    experiment: str | None = None
    uri: str | None = None
    traces: bool = Field(
        default=True,
        description="each session of a pilot with conversations as an MLflow trace, graded by the evaluators",
    )


class EnergySpec(Strict):
    country: str = Field(default="FRA", pattern=r"^[A-Z]{3}$")
    tracker: Literal["codecarbon", "none"] = "codecarbon"


class PrivacySpec(Strict):
    k_anonymity: int = Field(default=5, ge=2, description="smallest group ever shown in a breakdown")
    salt_env: str = Field(default="CIVICLAB_PSEUDONYM_SALT", description="env var holding the pseudonym salt")


class GovernanceSpec(Strict):
    data_controller: str | None = None
    legal_basis: str | None = None
    retention: str | None = None
    storage_location: str | None = None
    reviewers: list[str] = Field(default_factory=list)
    open_outputs: list[str | OpenOutput] = Field(
        default_factory=list,
        description="outputs published for reuse: {name, location, licence}; a bare name is only declared",
    )
    fallback_channels: list[str] = Field(default_factory=list)
    co_design: list[CoDesignActivity] = Field(
        default_factory=list, description="design activities with the agents and citizens who took part"
    )


def _anchor_shorthand(value: Any) -> Any:
    # `anchor: true` means the in-process chain, `anchor: http://...` a node; `false` is no anchor.
    if value is True:
        return {}
    if value is False:
        return None
    return {"chain": value} if isinstance(value, str) else value


class AnchorSpec(Strict):
    """Where a run's audit root is anchored: the in-process chain (ephemeral) or an EVM JSON-RPC node."""

    chain: str = Field(
        default="in-process",
        pattern=r"^(in-process|https?://\S+)$",
        description="'in-process' (dies with the run: a demo, not a proof) or a JSON-RPC URL",
    )
    contract: str | None = Field(
        default=None,
        pattern=r"^0x[0-9a-fA-F]{40}$",
        description="a registry already deployed, whose authorised issuer signs; else one is deployed",
    )
    key_env: str | None = Field(
        default=None,
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="env var holding the signing key; without it the node's first unlocked account signs",
    )
    timeout_s: float = Field(default=30.0, gt=0, le=600)


class ExecutorSpec(Strict):
    """Where sessions run. Not part of the spec digest: where a session ran changes no evidence."""

    kind: Literal["serial", "process", "ray"] = Field(
        default="serial", description="one process, a local process pool, or a Ray cluster"
    )
    address: str | None = Field(
        default=None,
        description="Ray cluster to join: 'auto' (RAY_ADDRESS, else this machine's running cluster), "
        "HOST:PORT (the head's GCS port) or ray://HOST:PORT (Ray Client); none starts a local cluster",
    )
    workers: int | None = Field(
        default=None, ge=1, le=4096, description="worker processes or Ray actors (default: --workers or CPUs)"
    )
    batch: int = Field(default=256, ge=1, le=100_000, description="sessions sent to a worker at a time")
    session_timeout_s: float = Field(
        default=300,
        gt=0,
        le=7 * 24 * 3600,
        description="seconds a session may run; past them it is stopped and recorded as failed "
        "('session timed out after N s') and the run goes on",
    )

    @field_validator("address")
    @classmethod
    def _ray_address(cls, value: str | None) -> str | None:
        if value is None or value == "auto" or re.fullmatch(r"(ray://)?[\w.\-]+:\d{1,5}", value):
            return value
        raise ValueError("expected 'auto', HOST:PORT or ray://HOST:PORT")


class AuditSpec(Strict):
    anchor: Annotated[AnchorSpec | None, BeforeValidator(_anchor_shorthand)] = None


class ExperimentSpec(Strict):
    """An experiment: which pilot, on whom, measured by what, judged against which criteria."""

    version: Literal[1] = 1
    name: Slug
    description: str = ""
    pilot: PilotSpec
    population: PopulationSpec
    channels: list[str] = Field(default_factory=list)
    evaluators: list[EvaluatorEntry] = Field(min_length=1)
    survey: SurveySpec | None = None
    scorecard: ScorecardSpec = Field(default_factory=ScorecardSpec)
    tracking: TrackingSpec = Field(default_factory=TrackingSpec)
    energy: EnergySpec = Field(default_factory=EnergySpec)
    privacy: PrivacySpec = Field(default_factory=PrivacySpec)
    governance: GovernanceSpec = Field(default_factory=GovernanceSpec)
    audit: AuditSpec = Field(default_factory=AuditSpec)
    executor: ExecutorSpec = Field(default_factory=ExecutorSpec)
    impact_assessment: ImpactAssessment | None = None

    @model_validator(mode="after")
    def _unique_evaluators(self) -> ExperimentSpec:
        names = [e.name for e in self.evaluators]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ValueError(f"evaluators[{i}]: evaluator {name!r} is listed twice")
        return self
