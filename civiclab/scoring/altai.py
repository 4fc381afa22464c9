"""A run's evidence mapped against the seven requirements of the EU's ALTAI (Assessment List for
Trustworthy Artificial Intelligence): what the run covers, partly covers, or leaves as a gap.
"""

from __future__ import annotations

from civiclab.scoring.dimensions import Coverage, DimensionCoverage, RunEvidence
from civiclab.spec.impact import ImpactAssessment


def _cov(key: str, label: str, evidence: list[str], gaps: list[str], needed: int = 2) -> DimensionCoverage:
    status: Coverage = (
        "covered" if len(evidence) >= needed and not gaps else ("partial" if evidence else "gap")
    )
    return DimensionCoverage(key=key, label=label, status=status, evidence=evidence, gaps=gaps)


def altai_map(ev: RunEvidence, assessment: ImpactAssessment | None = None) -> list[DimensionCoverage]:
    """The run's evidence against the seven ALTAI requirements; what nothing covers is a gap."""
    gov = ev.governance
    out: list[DimensionCoverage] = []

    human = ev.measured(contains=("escalation", "human_reachable", "handover"))
    e, g = [], []
    e += (
        [f"hand-over to a human measured ({', '.join(sorted({m.name for m in human})[:3])})"] if human else []
    )
    e += [f"fallback channels: {', '.join(gov.fallback_channels)}"] if gov.fallback_channels else []
    e += [f"{len(ev.reviews)} committee decision(s) counted"] if ev.reviews else []
    g += [] if human else ["no measure of citizens reaching a human"]
    g += [] if ev.reviews else ["no human oversight decision counted on the run"]
    out.append(_cov("human_agency", "1. Human agency and oversight", e, g))

    robust = ev.measured(contains=("reproducible", "session_errors", "failure_rate", "chain_valid"))
    e = [f"measured: {', '.join(sorted({m.name for m in robust})[:4])}"] if robust else []
    g = [] if robust else ["no reproducibility or failure metric"]
    if any(m.name.endswith("evaluator_error") for m in ev.metrics):
        g.append("an evaluator failed on this run")
    out.append(_cov("robustness", "2. Technical robustness and safety", e, g, needed=1))

    e, g = [], []
    declared = [
        k for k in ("data_controller", "legal_basis", "retention", "storage_location") if getattr(gov, k)
    ]
    e += [f"governance declared: {', '.join(declared)}"] if declared else []
    e.append("personal data redacted before logging; identifiers pseudonymised; groups below k hidden")
    g += [
        f"governance.{k} not declared"
        for k in ("data_controller", "legal_basis", "retention", "storage_location")
        if k not in declared
    ]
    out.append(_cov("privacy", "3. Privacy and data governance", e, g))

    e, g = [], []
    e += [f"hash-chained audit log, root {ev.audit_root[:12]}…"] if ev.audit_root else []
    e += ["audit root anchored on a chain"] if ev.anchored else []
    explain = ev.measured(contains=("citation", "explain", "grounded", "shap"))
    e += [f"explanations measured: {', '.join(sorted({m.name for m in explain})[:3])}"] if explain else []
    g += [] if ev.audit_root else ["no audit root"]
    out.append(_cov("transparency", "4. Transparency", e, g, needed=1))

    by = ev.segmented_by()
    equity = [c for c in ev.criteria if c.max_gap is not None or c.min_ratio is not None]
    e = [f"metrics per {', '.join(sorted(by))}"] if by else []
    e += [f"{len(equity)} criteria bound the gap between groups"] if equity else []
    g = [] if by else ["no per-segment metric"]
    g += [] if equity else ["no max_gap / min_ratio criterion"]
    g += [] if "disability" in by else ["no breakdown by disability (accessibility)"]
    out.append(_cov("fairness", "5. Diversity, non-discrimination and fairness", e, g))

    energy = ev.measured(dimension="energy")
    accept = ev.measured(dimension="acceptability")
    e = [f"energy measured ({', '.join(sorted({m.name for m in energy})[:3])})"] if energy else []
    e += ["social acceptability measured"] if accept else []
    g = [] if energy else ["no energy metric"]
    g += [] if accept else ["no acceptability metric"]
    out.append(_cov("wellbeing", "6. Societal and environmental well-being", e, g))

    e, g = [], []
    e += [f"reviewers declared: {', '.join(gov.reviewers)}"] if gov.reviewers else []
    e += ["impact assessment completed"] if assessment is not None else []
    waived = [c for c in ev.criteria if c.waiver is not None]
    e += [f"{len(waived)} waiver(s) with justification and grantor"] if waived else []
    e += ["signed decisions of the committee, counted by its trust file's rule"] if ev.reviews else []
    g += [] if gov.reviewers else ["no reviewer declared"]
    g += [] if assessment is not None else ["no impact assessment (impact_assessment)"]
    out.append(_cov("accountability", "7. Accountability", e, g))
    return out
