"""The content of a committee report: scorecard, public-service dimensions, impact, ALTAI, changes since
the previous run of the same experiment, and the two answers of `civiclab verify` (is the evidence intact?
what has the committee decided?). Renderers only format this."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from civiclab.evidence.labels.agreement import JudgeAgreement, judge_agreement
from civiclab.evidence.verify.result import Verification
from civiclab.evidence.verify.verification import verify
from civiclab.records import Metric
from civiclab.reporting.answers import committee_words, counted_reviews, review_entries
from civiclab.reporting.plots import funnel_rows, segment_rows
from civiclab.reporting.runs import RunReader, RunRecord
from civiclab.scoring.altai import altai_map
from civiclab.scoring.dimensions import DimensionCoverage, RunEvidence, assess_dimensions
from civiclab.scoring.scorecard import Scorecard, build_scorecard
from civiclab.spec.experiment import CriterionSpec, ScorecardSpec
from civiclab.spec.impact import ImpactAssessment, ImpactScore, score_impact
from civiclab.store.schema import AUDIT_ROOT_TAG, ENERGY_METHOD_TAG, RECOMMENDATION_TAG, SPEC_SHA256_TAG
from civiclab.store.tracker import Tracker

REPORT_VERSION = 1


class MetricDelta(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    segment: str | None = None
    previous: float | None
    current: float | None
    delta: float | None
    unit: str = ""
    higher_is_better: bool | None = None


class VerdictFlip(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str
    previous: str
    current: str


class ParamChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    previous: str | None
    current: str | None


class Changes(BaseModel):
    """What changed against the previous run of the same experiment."""

    model_config = ConfigDict(extra="forbid")

    previous_run_id: str
    previous_started: str
    previous_recommendation: str | None = None
    metric_deltas: list[MetricDelta] = Field(default_factory=list)
    verdict_flips: list[VerdictFlip] = Field(default_factory=list)
    spec_changes: list[ParamChange] = Field(default_factory=list)
    spec_digest_changed: bool = False


class ReportDocument(BaseModel):
    """Everything a scorecard report shows, in the order it shows it."""

    model_config = ConfigDict(extra="forbid")

    version: int = REPORT_VERSION
    generated: str = Field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    run_id: str
    experiment: str
    status: str
    started: str
    scorecard: Scorecard
    verification: Verification
    """`civiclab verify` of the run: the evidence verdict, the committee's status and every review."""
    public_dimensions: list[DimensionCoverage]
    altai: list[DimensionCoverage]
    impact: ImpactScore | None = None
    impact_note: str | None = None
    changes: Changes | None = None
    governance: dict[str, Any] = Field(default_factory=dict)
    segment_metrics: list[Metric] = Field(default_factory=list)
    funnel: list[Metric] = Field(default_factory=list)
    """The share of sessions reaching each step of a journey, in journey order (whole run)."""
    judge_check: JudgeAgreement | None = None
    """A judged run's judge against people's verified grades (`civiclab.evidence.labels`), once graded."""


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def criteria_of(spec: dict[str, Any]) -> list[CriterionSpec]:
    try:
        return ScorecardSpec.model_validate(spec.get("scorecard") or {}).criteria
    except ValidationError:
        return []


def _overall(metrics: list[Metric]) -> dict[str, Metric]:
    return {m.name: m for m in metrics if m.segment is None and not m.name.endswith("evaluator_error")}


def changes_since(current: RunRecord, previous: RunRecord) -> Changes:
    """Metric deltas, verdicts that flipped and parameters that differ, against the previous run."""
    now, before = _overall(current.metrics), _overall(previous.metrics)
    deltas: list[MetricDelta] = []
    for name in sorted(set(now) | set(before)):
        a, b = before.get(name), now.get(name)
        va = None if a is None or a.is_missing else float(a.value)  # type: ignore[arg-type]
        vb = None if b is None or b.is_missing else float(b.value)  # type: ignore[arg-type]
        ref = b or a
        assert ref is not None
        deltas.append(
            MetricDelta(
                name=name,
                previous=va,
                current=vb,
                delta=None if va is None or vb is None else vb - va,
                unit=ref.unit,
                higher_is_better=ref.higher_is_better,
            )
        )
    flips: list[VerdictFlip] = []
    if current.scorecard is not None and previous.scorecard is not None:
        old = {(v.label, v.metric, v.kind): v.verdict for v in previous.scorecard.criteria}
        for v in current.scorecard.criteria:
            was = old.get((v.label, v.metric, v.kind))
            if was is None:
                flips.append(VerdictFlip(label=v.label, previous="(new criterion)", current=v.verdict))
            elif was != v.verdict:
                flips.append(VerdictFlip(label=v.label, previous=was, current=v.verdict))
        new_keys = {(v.label, v.metric, v.kind) for v in current.scorecard.criteria}
        flips += [
            VerdictFlip(label=key[0], previous=verdict, current="(criterion removed)")
            for key, verdict in old.items()
            if key not in new_keys
        ]
    pa, pb = previous.summary.params, current.summary.params
    params = [
        ParamChange(key=k, previous=pa.get(k), current=pb.get(k))
        for k in sorted(set(pa) | set(pb))
        if pa.get(k) != pb.get(k)
    ]
    return Changes(
        previous_run_id=previous.run_id,
        previous_started=_iso(previous.summary.start_time),
        previous_recommendation=previous.summary.tags.get(RECOMMENDATION_TAG),
        metric_deltas=deltas,
        verdict_flips=flips,
        spec_changes=params,
        spec_digest_changed=previous.summary.tags.get(SPEC_SHA256_TAG)
        != current.summary.tags.get(SPEC_SHA256_TAG),
    )


def _anchored(v: Verification) -> bool:
    """Whether verify found the run's anchor on chain (a signed run's row, a legacy run's manifest)."""
    if any(c.name.startswith("anchor") and c.status == "ok" for c in v.checks):
        return True
    return v.found is not None and v.found.anchor == "verified"


def build_document(
    reader: RunReader,
    record: RunRecord,
    verification: Verification,
    *,
    compare_previous: bool = True,
) -> ReportDocument:
    """Assemble the report of one run from its artifacts and its verification.

    Args:
        verification: `civiclab verify` of the run; the only source of what the report says of its
            evidence, its signers and its reviews.
    """
    summary = record.summary
    criteria = criteria_of(record.spec)
    card = record.scorecard or build_scorecard(
        experiment=summary.experiment,
        criteria=criteria,
        metrics=record.metrics,
        run_id=summary.run_id,
        spec_digest=summary.tags.get(SPEC_SHA256_TAG, ""),
        audit_root=summary.tags.get(AUDIT_ROOT_TAG, ""),
    )
    card = card.model_copy(deep=True)
    card.reviews = review_entries(verification)
    card.audit_root = card.audit_root or summary.tags.get(AUDIT_ROOT_TAG, "")
    evidence = RunEvidence(
        spec=record.spec,
        metrics=record.metrics,
        criteria=criteria,
        reviews=counted_reviews(verification),
        committee=committee_words(verification),
        energy_method=summary.tags.get(ENERGY_METHOD_TAG, ""),
        audit_root=card.audit_root,
        anchored=_anchored(verification),
        scorecard=card,
    )
    assessment: ImpactAssessment | None = None
    impact_note: str | None = None
    raw_impact = record.spec.get("impact_assessment")
    if raw_impact is not None:
        try:
            assessment = ImpactAssessment.model_validate(raw_impact)
        except ValidationError as exc:
            impact_note = f"impact_assessment does not validate: {exc.errors()[0]['msg']}"
    else:
        impact_note = "no impact assessment in the experiment (impact_assessment)"
    changes: Changes | None = None
    if compare_previous:
        previous = reader.previous(summary)
        if previous is not None:
            changes = changes_since(record, reader.load(previous))
    return ReportDocument(
        run_id=summary.run_id,
        experiment=summary.experiment,
        status=summary.status,
        started=_iso(summary.start_time),
        scorecard=card,
        verification=verification,
        public_dimensions=assess_dimensions(evidence),
        altai=altai_map(evidence, assessment),
        impact=score_impact(assessment) if assessment is not None else None,
        impact_note=impact_note,
        changes=changes,
        governance=dict(record.spec.get("governance") or {}),
        segment_metrics=segment_rows(record.metrics),
        funnel=funnel_rows(record.metrics),
    )


def load_document(
    tracker: Tracker,
    run_id: str,
    trust_path: str | Path | None = None,
    *,
    verification: Verification | None = None,
) -> ReportDocument:
    """The report of a run in a store (reads its artifacts and the previous run's).

    The run is verified against `trust_path` (else CIVICLAB_TRUST; with neither, signers are shown
    unchecked), unless `verification` is given (the desk's, already computed with its trust file).
    """
    if verification is None:
        verification = verify(tracker, run_id, trust_path)
    with RunReader(tracker) as reader:
        doc = build_document(reader, reader.load(run_id), verification)
    doc.judge_check = judge_agreement(tracker, run_id, trust_path)
    return doc
