"""Public-service dimensions: how an experiment covers what a public administration is accountable for.

Beside the four families of evidence, a committee asks whether the pilot keeps other channels open,
judges quality per public and per territory, publishes reusable outputs, governs its data, was
co-constructed, let citizens take part, and is sober in energy. Each dimension reads the spec (what
was declared) and the metrics (what was measured); whatever neither covers is listed as a gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from civiclab.records import Metric
from civiclab.spec import CriterionSpec, EnergySpec, GovernanceSpec

Coverage = Literal["covered", "partial", "gap"]
PUBLIC_ATTRIBUTES = ("age_band", "digital_literacy", "disability", "language", "device")


class DimensionCoverage(BaseModel):
    """One dimension: covered, partial or a gap, with the evidence found and what is missing."""

    model_config = ConfigDict(extra="forbid")

    key: str
    label: str
    status: Coverage
    evidence: list[str] = Field(default_factory=list)
    gaps: list[str] = Field(default_factory=list)


@dataclass
class RunEvidence:
    """What a report knows of a run: the spec as written, its metrics, criteria, reviews and tags."""

    spec: dict[str, Any]
    metrics: list[Metric]
    criteria: list[CriterionSpec] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    audit_root: str = ""
    anchored: bool = False

    @property
    def governance(self) -> GovernanceSpec:
        try:
            return GovernanceSpec.model_validate(self.spec.get("governance") or {})
        except ValidationError:
            return GovernanceSpec()

    @property
    def energy(self) -> EnergySpec:
        try:
            return EnergySpec.model_validate(self.spec.get("energy") or {})
        except ValidationError:
            return EnergySpec()

    def measured(self, *, dimension: str | None = None, contains: tuple[str, ...] = ()) -> list[Metric]:
        """Overall (unsegmented) metrics with a value, by dimension and/or name fragments."""
        return [
            m
            for m in self.metrics
            if not m.is_missing
            and m.segment is None
            and (dimension is None or m.dimension == dimension)
            and (not contains or any(c in m.name for c in contains))
        ]

    def segmented_by(self) -> set[str]:
        return {m.segment.split("=", 1)[0] for m in self.metrics if m.segment and not m.is_missing}


def _status(declared: bool, measured: bool) -> Coverage:
    return "covered" if declared and measured else ("partial" if declared or measured else "gap")


def _names(metrics: list[Metric], limit: int = 4) -> str:
    names = sorted({m.name for m in metrics})
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def multichannel(ev: RunEvidence) -> DimensionCoverage:
    gov = ev.governance
    channels = [str(c) for c in ev.spec.get("channels") or []]
    handover = ev.measured(contains=("escalation", "fallback", "human_reachable", "handover"))
    evidence, gaps = [], []
    if gov.fallback_channels:
        evidence.append(f"fallback channels declared: {', '.join(gov.fallback_channels)}")
    else:
        gaps.append("no fallback channel declared (governance.fallback_channels)")
    if len(channels) > 1:
        evidence.append(f"channels in the experiment: {', '.join(channels)}")
    if handover:
        evidence.append(f"hand-over to other channels measured: {_names(handover)}")
    else:
        gaps.append("no metric shows citizens reaching another channel or a human")
    return DimensionCoverage(
        key="multichannel",
        label="Other channels kept open",
        status=_status(bool(gov.fallback_channels), bool(handover)),
        evidence=evidence,
        gaps=gaps,
    )


def quality_per_public(ev: RunEvidence) -> DimensionCoverage:
    by = ev.segmented_by()
    publics = sorted(by & set(PUBLIC_ATTRIBUTES))
    equity = [c for c in ev.criteria if c.max_gap is not None or c.min_ratio is not None]
    evidence, gaps = [], []
    if "territory" in by:
        evidence.append("metrics broken down by territory")
    else:
        gaps.append("no metric broken down by territory (or every group was smaller than k)")
    if publics:
        evidence.append(f"metrics broken down by {', '.join(publics)}")
    else:
        gaps.append("no metric broken down by public (age, digital literacy, disability, language, device)")
    if equity:
        evidence.append(f"{len(equity)} gap/ratio criteria between groups")
    else:
        gaps.append("no criterion bounds the gap between groups (max_gap / min_ratio)")
    measured = "territory" in by and bool(publics)
    status: Coverage = "covered" if measured and equity else ("partial" if by or equity else "gap")
    return DimensionCoverage(
        key="quality_per_public",
        label="Quality judged per public and territory",
        status=status,
        evidence=evidence,
        gaps=gaps,
    )


def open_outputs(ev: RunEvidence) -> DimensionCoverage:
    outputs = ev.governance.open_outputs
    return DimensionCoverage(
        key="open_outputs",
        label="Reusable open outputs",
        status="covered" if outputs else "gap",
        evidence=[f"published as open outputs: {', '.join(outputs)}"] if outputs else [],
        gaps=[] if outputs else ["no open output declared (governance.open_outputs)"],
    )


def data_governance(ev: RunEvidence) -> DimensionCoverage:
    gov = ev.governance
    fields = {
        "data_controller": "data controller",
        "legal_basis": "legal basis",
        "retention": "retention period",
        "storage_location": "where the data lives",
    }
    evidence = [f"{label}: {getattr(gov, key)}" for key, label in fields.items() if getattr(gov, key)]
    gaps = [
        f"{label} not declared (governance.{key})" for key, label in fields.items() if not getattr(gov, key)
    ]
    privacy = ev.spec.get("privacy") or {}
    evidence.append(f"no breakdown of fewer than k={privacy.get('k_anonymity', 5)} people; records redacted")
    status: Coverage = "covered" if not gaps else ("partial" if len(gaps) < len(fields) else "gap")
    return DimensionCoverage(
        key="data_governance", label="Data governance", status=status, evidence=evidence, gaps=gaps
    )


def co_construction(ev: RunEvidence) -> DimensionCoverage:
    reviewers = ev.governance.reviewers
    evidence, gaps = [], []
    if reviewers:
        evidence.append(f"reviewed by: {', '.join(reviewers)}")
    else:
        gaps.append("nobody declared as reviewer (governance.reviewers)")
    if ev.reviews:
        names = sorted({str(r.get("reviewer")) for r in ev.reviews})
        evidence.append(f"{len(ev.reviews)} decision(s) recorded in the audit chain by {', '.join(names)}")
    else:
        gaps.append("no committee decision recorded on this run yet (civiclab review)")
    return DimensionCoverage(
        key="co_construction",
        label="Co-construction",
        status=_status(bool(reviewers), bool(ev.reviews)),
        evidence=evidence,
        gaps=gaps,
    )


def participation(ev: RunEvidence) -> DimensionCoverage:
    survey = ev.spec.get("survey")
    answers = ev.measured(dimension="acceptability") + ev.measured(contains=("feedback", "satisfaction"))
    evidence, gaps = [], []
    if survey:
        evidence.append("an acceptability survey is declared")
    else:
        gaps.append("no survey declared (survey)")
    if answers:
        evidence.append(f"citizens' answers measured: {_names(answers)}")
    else:
        gaps.append("no acceptability or feedback metric measured")
    return DimensionCoverage(
        key="participation",
        label="Citizen participation",
        status=_status(bool(survey), bool(answers)),
        evidence=evidence,
        gaps=gaps,
    )


def energy_sobriety(ev: RunEvidence) -> DimensionCoverage:
    measured = ev.measured(dimension="energy")
    bounded = [c for c in ev.criteria if c.metric.startswith("energy.")]
    method = ev.tags.get("civiclab.energy_method")
    evidence, gaps = [], []
    if measured:
        evidence.append(f"energy measured: {_names(measured)}" + (f" ({method})" if method else ""))
    else:
        gaps.append("no energy metric (energy.tracker is none, or the meter failed)")
    if bounded:
        evidence.append(f"{len(bounded)} criteria bound the energy cost")
    else:
        gaps.append("no criterion bounds the energy cost")
    if method == "estimated":
        gaps.append("energy estimated from a CPU model, not measured (RAPL unreadable)")
    return DimensionCoverage(
        key="energy_sobriety",
        label="Energy sobriety",
        status=_status(bool(bounded), bool(measured)),
        evidence=evidence,
        gaps=gaps,
    )


DIMENSIONS = (
    multichannel,
    quality_per_public,
    open_outputs,
    data_governance,
    co_construction,
    participation,
    energy_sobriety,
)


def assess_dimensions(ev: RunEvidence) -> list[DimensionCoverage]:
    """Every public-service dimension, in a fixed order, each with its evidence and gaps."""
    return [fn(ev) for fn in DIMENSIONS]
