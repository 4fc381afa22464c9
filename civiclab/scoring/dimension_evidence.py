"""What the public-service dimensions and the ALTAI map are judged from: a run's spec, metrics and verdicts.

A dimension rests on results: the criteria verdicts of the run's scorecard and the groups it leaves
behind. `rests_on` picks the verdicts a dimension uses, and `judged` turns them, with what was
declared, into a status that fails when those results fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from civiclab.records import Metric
from civiclab.scoring.equity import LeftBehind
from civiclab.scoring.verdicts import CriterionVerdict, Scorecard
from civiclab.spec.experiment import CriterionSpec, EnergySpec, GovernanceSpec

Coverage = Literal["covered", "partial", "gap", "fail"]
"""covered: the results it rests on hold; partial: some evidence, or results not yet decided; gap:
nothing shows it; fail: a result it rests on fails."""


class DimensionCoverage(BaseModel):
    """One dimension: its status, the evidence found (and the verdicts it rests on), what is missing."""

    model_config = ConfigDict(extra="forbid")

    key: str
    label: str
    status: Coverage
    evidence: list[str] = Field(default_factory=list)
    gaps: list[str] = Field(default_factory=list)
    rests_on: list[str] = Field(
        default_factory=list,
        description="the scorecard results the status follows: 'criterion label: VERDICT', groups left behind",
    )


@dataclass(frozen=True)
class CountedReview:
    """A review the committee's decision rule counts: the trust file's name of its signer, role, decision."""

    name: str
    role: str
    decision: str


@dataclass
class RunEvidence:
    """What a report knows of a run: the spec as written, its metrics, criteria, scorecard (its verdicts),
    counted reviews and energy method."""

    spec: dict[str, Any]
    metrics: list[Metric]
    criteria: list[CriterionSpec] = field(default_factory=list)
    reviews: list[CountedReview] = field(default_factory=list)
    committee: str = ""  # the committee's status in one sentence ("" when the report did not verify it)
    energy_method: str = ""  # how the run's energy was measured (its tag), "" when unknown
    audit_root: str = ""
    anchored: bool = False
    scorecard: Scorecard | None = None  # the verdicts the dimensions rest on (built when not given)

    def __post_init__(self) -> None:
        if self.scorecard is None:
            from civiclab.scoring.scorecard import build_scorecard

            self.scorecard = build_scorecard(experiment="", criteria=self.criteria, metrics=self.metrics)

    @property
    def verdicts(self) -> list[CriterionVerdict]:
        return list(self.scorecard.criteria) if self.scorecard is not None else []

    @property
    def left_behind(self) -> list[LeftBehind]:
        """Groups that fail a blocking criterion with their whole interval (they block a go)."""
        return [g for g in (self.scorecard.left_behind if self.scorecard else []) if g.blocks_go]

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

    def rests_on(self, select: Callable[[CriterionVerdict], bool]) -> list[CriterionVerdict]:
        """The scorecard's verdicts a dimension uses."""
        return [v for v in self.verdicts if select(v)]


def about(*fragments: str) -> Callable[[CriterionVerdict], bool]:
    """Verdicts on a metric whose name holds one of `fragments`."""
    return lambda v: any(f in v.metric for f in fragments)


def verdict_line(v: CriterionVerdict) -> str:
    where = f" [{v.segment}]" if v.segment else ""
    sure = " (point estimate only)" if v.confident is False else ""
    model = " (SYNTHETIC: the model predicts)" if v.synthetic else ""
    return f"{v.label}{where}: {v.verdict.upper()}{sure}{model}"


def behind_line(g: LeftBehind) -> str:
    return f"group left behind: {g.segment} fails {g.label} ({g.describe()})"


def judged(
    key: str,
    label: str,
    verdicts: list[CriterionVerdict],
    evidence: list[str],
    gaps: list[str],
    *,
    behind: list[LeftBehind] = (),  # type: ignore[assignment]
    declared: bool = True,
    failures: list[str] = (),  # type: ignore[assignment]
    criteria_declared: bool = False,
) -> DimensionCoverage:
    """A dimension's status from the results it rests on.

    fail: a blocking verdict it rests on fails (with its whole interval, or on the point estimate), a
    group is left behind, or a finding of its own (`failures`) says so; covered: at least one result,
    all passing on real people's evidence (a simulation's or generated answers' pass is a prediction),
    and what the dimension needs besides (`declared`); partial: some evidence, or results missing,
    undecided or only predicted; gap: none. `gaps` are shown, they do not decide.
    `criteria_declared`: criteria exist but none counts (uninformative thresholds, said in `gaps`).
    """
    rests = [verdict_line(v) for v in verdicts] + [behind_line(g) for g in behind]
    failed = [v for v in verdicts if v.verdict == "fail" and v.severity == "blocking"]
    status: Coverage
    if failed or behind or failures:
        status = "fail"
        gaps = [
            *failures,
            *[f"fails: {verdict_line(v)}" for v in failed],
            *[behind_line(g) for g in behind],
            *gaps,
        ]
    elif verdicts and all(v.verdict in ("pass", "waived") and not v.synthetic for v in verdicts) and declared:
        status = "covered"
    elif verdicts or evidence:
        status = "partial"
    else:
        status = "gap"
    if not verdicts and not criteria_declared:
        gaps = [*gaps, "no criterion of the scorecard measures it"]
    return DimensionCoverage(
        key=key, label=label, status=status, evidence=evidence, gaps=gaps, rests_on=rests
    )


def names(metrics: list[Metric], limit: int = 4) -> str:
    found = sorted({m.name for m in metrics})
    more = f" and {len(found) - limit} more" if len(found) > limit else ""
    return ", ".join(found[:limit]) + more


def segments_of(ev: RunEvidence, name: str) -> list[Metric]:
    return [m for m in ev.metrics if m.name == name and m.segment is not None and not m.is_missing]
