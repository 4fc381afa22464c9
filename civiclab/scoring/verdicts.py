"""What a scorecard says: the verdict models, their vocabulary, and the sign each kind of criterion shows."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from civiclab.records import Metric
from civiclab.scoring.equity import LeftBehind
from civiclab.spec.experiment import Waiver

SCORECARD_VERSION = 3
"""The rules a scorecard is judged by. 2: a whole-interval failure fails whatever n, a census is exact,
a simulation's failure is iterate (never stop), a group left behind blocks a go. 3: `min_n` counts
distinct units of replication (39 questions, not 201 turns of them) where a metric records them. `verify` re-judges a
run by the version its signed scorecard states (`build_scorecard(rules=...)`)."""
FAMILIES: tuple[str, ...] = ("auditability", "human_centered", "energy", "acceptability")
"""The four families of evidence every scorecard shows, whether or not a run measured them."""

Verdict = Literal["pass", "fail", "missing", "insufficient", "waived"]
Recommendation = Literal["go", "iterate", "stop"]
Kind = Literal["at_least", "at_most", "max_gap", "min_ratio"]


class CriterionVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str
    label: str
    dimension: str
    kind: Kind
    threshold: float
    severity: Literal["blocking", "advisory"]
    segment: str | None = None
    by: str | None = None
    observed: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n: int | None = None
    min_n: int | None = Field(
        default=None, description="the sample size below which the verdict is insufficient"
    )
    units: int | None = Field(
        default=None,
        description="distinct units of replication behind the n observations (Metric.distinct_units)",
    )
    unit_of_replication: str | None = Field(
        default=None, description="what one unit is (question, session, respondent...)"
    )
    method: str | None = Field(
        default=None, description="how the interval was computed (civiclab.stats.intervals.METHODS)"
    )
    verdict: Verdict
    confident: bool | None = Field(
        default=None,
        description="True: the whole interval is on the side of the verdict; False: only the point is",
    )
    to_decide: int | None = Field(
        default=None, description="observations in all that would let the interval decide (power calculation)"
    )
    synthetic: bool = Field(
        default=False, description="judged on generated data (demo answers), not real people"
    )
    uninformative: bool = Field(
        default=False,
        description="the threshold is >= 100x away from the observed value: it could not have failed",
    )
    census: str | None = Field(
        default=None,
        description="the finite population measured entirely (Metric.census): an exact verdict, no interval",
    )
    detail: str = ""
    waiver: Waiver | None = None
    unit: str = ""


class DimensionVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dimension: str
    verdict: Literal["pass", "fail", "missing", "advisory", "waived", "no_criteria"]
    passed: int = 0
    failed: int = 0
    missing: int = 0
    waived: int = 0
    metrics: int = Field(default=0, description="how many metric values the run produced in this dimension")


class Scorecard(BaseModel):
    """What the committee reads: every criterion, what is missing, and a recommendation."""

    model_config = ConfigDict(extra="forbid")

    version: int = SCORECARD_VERSION
    experiment: str
    description: str = ""
    run_id: str | None = None
    created: str = Field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    spec_digest: str = ""
    audit_root: str = ""
    sessions: int = 0
    criteria: list[CriterionVerdict]
    dimensions: list[DimensionVerdict]
    recommendation: Recommendation
    reasons: list[str] = Field(default_factory=list)
    energy_method: str | None = None
    evaluator_errors: list[str] = Field(default_factory=list)
    synthetic: list[str] = Field(
        default_factory=list,
        description="evidence computed from generated data, by dimension; every report marks it SYNTHETIC",
    )
    left_behind: list[LeftBehind] = Field(
        default_factory=list, description="groups for whom a whole-run threshold criterion does not hold"
    )
    headline: dict[str, Any] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict)
    reviews: list[dict[str, Any]] = Field(
        default_factory=list,
        description="the run's signed reviews as `civiclab verify` reads them (signer as the trust file "
        "names it, role, decision, comment, conditions, counted or why ignored); set by reports, never "
        "from the manifest (see civiclab.reporting.answers.review_entries)",
    )

    @property
    def missing(self) -> list[CriterionVerdict]:
        """Criteria without enough evidence: nothing measured, or fewer than `min_n` observations."""
        return [v for v in self.criteria if v.verdict in ("missing", "insufficient")]


SIGN = {"at_least": "≥", "at_most": "≤", "max_gap": "gap ≤", "min_ratio": "ratio ≥"}


def dimension_of(name: str, metrics: list[Metric]) -> str:
    for m in metrics:
        if m.name == name:
            return m.dimension
    return name.split(".", 1)[0]
