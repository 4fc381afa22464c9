"""A run's results mapped against the seven requirements of the EU's ALTAI (Assessment List for
Trustworthy Artificial Intelligence).

The map is derived from the same verdicts as the scorecard and the public-service dimensions, never
from the presence of a declaration or a metric: a requirement fails when a result it rests on fails
(a failing completion gap fails "diversity, non-discrimination and fairness"), is covered when the
results it rests on hold, partial when they are missing or undecided, and a gap when nothing measures it.
"""

from __future__ import annotations

from civiclab.scoring.dimension_evidence import (
    Coverage,
    DimensionCoverage,
    RunEvidence,
    about,
    judged,
)
from civiclab.scoring.dimensions import assess_dimensions
from civiclab.spec.impact import ImpactAssessment

_RANK: dict[Coverage, int] = {"fail": 0, "gap": 1, "partial": 2, "covered": 3}


def _from_dimensions(
    key: str, label: str, dims: list[DimensionCoverage], extra: list[str]
) -> DimensionCoverage:
    """A requirement that follows public-service dimensions: the worst of them."""
    status = min((d.status for d in dims), key=lambda s: _RANK[s])
    evidence = [f"{d.label}: {d.status}" for d in dims] + extra
    gaps = [g for d in dims if d.status != "covered" for g in d.gaps[:3]]
    rests = [r for d in dims for r in d.rests_on]
    return DimensionCoverage(
        key=key, label=label, status=status, evidence=evidence, gaps=gaps, rests_on=rests
    )


def _family(ev: RunEvidence, family: str) -> str | None:
    card = ev.scorecard
    found = [d.verdict for d in card.dimensions if d.dimension == family] if card is not None else []
    return found[0] if found else None


def altai_map(ev: RunEvidence, assessment: ImpactAssessment | None = None) -> list[DimensionCoverage]:
    """The run's results against the seven ALTAI requirements."""
    from civiclab.spec.impact import score_impact

    dims = {d.key: d for d in assess_dimensions(ev)}
    out: list[DimensionCoverage] = []

    oversight = (
        [f"{len(ev.reviews)} committee decision(s) counted by the trust file's rule"] if ev.reviews else []
    )
    human = _from_dimensions(
        "human_agency",
        "1. Human agency and oversight",
        [dims["multichannel"], dims["voluntary_use"]],
        oversight,
    )
    if not ev.reviews:
        human.gaps.append("no human oversight decision counted on the run")
        if human.status == "covered":
            human.status = "partial"
    out.append(human)

    robust = ev.rests_on(about("reproducible", "failure_rate", "chain_valid", "injection", "sessions_closed"))
    errors = [m.name for m in ev.metrics if m.name.endswith("evaluator_error")]
    out.append(
        judged(
            "robustness",
            "2. Technical robustness and safety",
            robust,
            [f"{len(robust)} robustness and safety criteria judged"] if robust else [],
            [f"an evaluator failed on this run: {errors[0]}"] if errors else [],
            declared=not errors,
        )
    )

    out.append(_from_dimensions("privacy", "3. Privacy and data governance", [dims["data_governance"]], []))

    audit = ev.rests_on(lambda v: v.dimension == "auditability")
    explain = ev.rests_on(about("citation", "explain", "grounded", "shap"))
    evidence = [f"hash-chained audit log, root {ev.audit_root[:12]}…"] if ev.audit_root else []
    evidence += ["audit root anchored on a chain"] if ev.anchored else []
    out.append(
        judged(
            "transparency",
            "4. Transparency",
            audit + explain,
            evidence,
            [] if ev.audit_root else ["no audit root"],
            declared=bool(ev.audit_root),
        )
    )

    fairness = _from_dimensions(
        "fairness", "5. Diversity, non-discrimination and fairness", [dims["quality_per_public"]], []
    )
    if "disability" not in ev.segmented_by():
        fairness.gaps.append("no breakdown by disability (accessibility)")
        if fairness.status == "covered":
            fairness.status = "partial"
    out.append(fairness)

    wellbeing = _from_dimensions(
        "wellbeing",
        "6. Societal and environmental well-being",
        [dims["energy_sobriety"], dims["participation"]],
        [],
    )
    for family in ("energy", "acceptability"):
        verdict = _family(ev, family)
        wellbeing.rests_on.append(f"{family} (scorecard dimension): {str(verdict).upper()}")
        if verdict == "fail":
            wellbeing.status = "fail"
    out.append(wellbeing)

    gov = ev.governance
    evidence, gaps = [], []
    failures: list[str] = []
    if assessment is not None:
        score = score_impact(assessment)
        evidence.append(
            f"impact assessment: level {score.level_name} ({score.current} of {score.max_raw_risk})"
        )
        if score.unanswered:
            gaps.append(f"impact assessment: {len(score.unanswered)} questions unanswered")
    else:
        gaps.append("no impact assessment (impact_assessment)")
    evidence += [f"reviewers declared: {', '.join(gov.reviewers)}"] if gov.reviewers else []
    waived = [v for v in ev.verdicts if v.verdict == "waived"]
    evidence += [f"{len(waived)} waiver(s) with justification and grantor"] if waived else []
    if ev.reviews:
        evidence.append("signed decisions of the committee, counted by its trust file's rule")
    else:
        gaps.append("no committee decision counted on the run")
    status: Coverage = (
        "covered" if assessment is not None and ev.reviews and not gaps else "partial" if evidence else "gap"
    )
    out.append(
        DimensionCoverage(
            key="accountability",
            label="7. Accountability",
            status="fail" if failures else status,
            evidence=evidence,
            gaps=gaps,
            rests_on=[f"{len(ev.reviews)} counted decisions", f"{len(waived)} waivers"],
        )
    )
    return out
