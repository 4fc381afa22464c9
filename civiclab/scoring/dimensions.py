"""Public-service dimensions: how an experiment covers what a public administration is accountable for.

Beside the four families of evidence, a committee asks whether the pilot keeps other channels open,
judges quality per public and per territory, publishes reusable outputs, governs its data, was
co-constructed, let citizens take part, and is sober in energy. Each dimension reads the spec (what
was declared) and the metrics (what was measured); whatever neither covers is listed as a gap.

Judged on evidence, not presence:
- other channels are kept open only if, in every group, the people the digital journey failed are
  resolved through a non-digital channel: a group whose `offline_resolution_rate` is below 0.5 with
  confidence (its whole 95% interval) is named, and the dimension is at most partial;
- citizen participation counts real responses only: synthetic (generated) answers are a gap, and
  without a response rate (people invited) it is at most partial;
- energy sobriety needs a criterion that could fail: a threshold 100x or more above the measured
  value is uninformative, and the dimension is at most partial;
- co-construction counts only the reviews the committee's decision rule counts (`CountedReview`, given by
  the report from `civiclab verify`), named as the trust file names their signers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from civiclab.records import Metric
from civiclab.spec.experiment import CriterionSpec, EnergySpec, GovernanceSpec

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


@dataclass(frozen=True)
class CountedReview:
    """A review the committee's decision rule counts: the trust file's name of its signer, role, decision."""

    name: str
    role: str
    decision: str


@dataclass
class RunEvidence:
    """What a report knows of a run: the spec as written, its metrics, criteria, counted reviews and
    energy method."""

    spec: dict[str, Any]
    metrics: list[Metric]
    criteria: list[CriterionSpec] = field(default_factory=list)
    reviews: list[CountedReview] = field(default_factory=list)
    committee: str = ""  # the committee's status in one sentence ("" when the report did not verify it)
    energy_method: str = ""  # how the run's energy was measured (its tag), "" when unknown
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


OPEN_CHANNEL_FLOOR = 0.5
"""A group is left without another channel when, with confidence, fewer than half of those the
digital journey failed are resolved through a non-digital one."""


def _segments_of(ev: RunEvidence, name: str) -> list[Metric]:
    return [m for m in ev.metrics if m.name == name and m.segment is not None and not m.is_missing]


def multichannel(ev: RunEvidence) -> DimensionCoverage:
    gov = ev.governance
    channels = [str(c) for c in ev.spec.get("channels") or []]
    handover = ev.measured(
        contains=("escalation", "fallback", "human_reachable", "handover", "offline_resolution")
    )
    evidence, gaps = [], []
    per_group = _segments_of(ev, "human_centered.offline_resolution_rate")
    stranded = [m for m in per_group if m.ci_high is not None and m.ci_high < OPEN_CHANNEL_FLOOR]
    if per_group and not stranded:
        evidence.append(
            f"in each of {len(per_group)} groups, people the digital journey failed are resolved through "
            "a non-digital channel (no group confidently below half)"
        )
    for m in sorted(stranded, key=lambda m: float(m.value))[:6]:  # type: ignore[arg-type]
        gaps.append(
            f"{m.segment}: only {float(m.value):.0%} [{m.ci_low:.2g}, {m.ci_high:.2g}] of {m.n} people the "  # type: ignore[arg-type]
            "digital journey failed were resolved through another channel"
        )
    if len(stranded) > 6:
        gaps.append(f"and {len(stranded) - 6} more groups")
    if not per_group:
        gaps.append("no per-group resolution through non-digital channels measured (offline_resolution_rate)")
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
    status = _status(bool(gov.fallback_channels), bool(handover))
    if status == "covered" and (stranded or not per_group):
        status = "partial"  # declared and measured, but not shown to work for every group
    return DimensionCoverage(
        key="multichannel",
        label="Other channels kept open",
        status=status,
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
        who = "; ".join(f"{r.name}{f' ({r.role})' if r.role else ''}: {r.decision}" for r in ev.reviews)
        evidence.append(f"{len(ev.reviews)} signed decision(s) counted by the committee's rule: {who}")
    else:
        gaps.append("no committee decision counted on this run yet (civiclab review, and the trust file)")
    if ev.committee:
        evidence.append(f"committee: {ev.committee}")
    return DimensionCoverage(
        key="co_construction",
        label="Co-construction",
        status=_status(bool(reviewers), bool(ev.reviews)),
        evidence=evidence,
        gaps=gaps,
    )


def participation(ev: RunEvidence) -> DimensionCoverage:
    survey = ev.spec.get("survey")
    measured = ev.measured(dimension="acceptability") + ev.measured(contains=("feedback", "satisfaction"))
    answers = [m for m in measured if m.synthetic is None]
    generated = [m for m in measured if m.synthetic is not None]
    evidence, gaps = [], []
    if survey:
        evidence.append("an acceptability survey is declared")
    else:
        gaps.append("no survey declared (survey)")
    if answers:
        evidence.append(f"real citizens' answers measured: {_names(answers)}")
    elif generated:
        gaps.append(
            f"the answers are SYNTHETIC (generated demo data, {len(generated)} metrics): no citizen took part"
        )
    else:
        gaps.append("no acceptability or feedback metric measured")
    response = [m for m in answers if m.name.endswith("response_rate")]
    respondents = [m for m in answers if m.name.endswith(".respondents")]
    if response:
        r = response[0]
        evidence.append(f"response rate {float(r.value):.0%} of {r.n} people invited")  # type: ignore[arg-type]
    elif answers:
        gaps.append("no response rate: the number of people invited is unknown (survey.invited)")
    if respondents:
        evidence.append(f"{int(float(respondents[0].value))} real respondents")  # type: ignore[arg-type]
    status = _status(bool(survey), bool(answers))
    if status == "covered" and not response:
        status = "partial"
    return DimensionCoverage(
        key="participation",
        label="Citizen participation",
        status=status,
        evidence=evidence,
        gaps=gaps,
    )


def energy_sobriety(ev: RunEvidence) -> DimensionCoverage:
    measured = ev.measured(dimension="energy")
    from civiclab.scoring.scorecard import uninformative

    bounded = [c for c in ev.criteria if c.metric.startswith("energy.")]
    method = ev.energy_method
    evidence, gaps = [], []
    if measured:
        evidence.append(f"energy measured: {_names(measured)}" + (f" ({method})" if method else ""))
    else:
        gaps.append("no energy metric (energy.tracker is none, or the meter failed)")
    informative = []
    for c in bounded:
        metric = next((m for m in measured if m.name == c.metric), None)
        bound = c.at_most if c.at_most is not None else c.at_least
        kind: Literal["at_most", "at_least"] = "at_most" if c.at_most is not None else "at_least"
        if metric is not None and bound is not None and uninformative(metric, kind, float(bound)):
            gaps.append(
                f"{c.label or c.metric}: threshold {bound:g} is {float(bound) / float(metric.value):.0e}× "  # type: ignore[arg-type]
                f"the measured {float(metric.value):.2g} {metric.unit}: uninformative, it could not fail"  # type: ignore[arg-type]
                if kind == "at_most"
                else f"{c.label or c.metric}: threshold {bound:g} is far below the measured value: uninformative"
            )
        else:
            informative.append(c)
    if informative:
        evidence.append(f"{len(informative)} criteria bound the energy cost")
    elif not bounded:
        gaps.append("no criterion bounds the energy cost")
    if method == "estimated":
        gaps.append("energy estimated from a CPU model, not measured (RAPL unreadable)")
    return DimensionCoverage(
        key="energy_sobriety",
        label="Energy sobriety",
        status=_status(bool(informative), bool(measured)),
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
