"""Public-service dimensions: what a public administration is accountable for, judged on the run's results.

Beside the four families of evidence, a committee asks seven questions of a pilot. Each dimension
lists the evidence it used and the scorecard results it rests on (`DimensionCoverage.rests_on`), and
**fails when those results fail** (`civiclab.scoring.dimension_evidence.judged`):

1. *Digital never the only way* (other channels kept open): the hand-over and reach criteria
   (escalation, fallback, a human within reach, offline resolution); fails when one fails, when a group
   is left behind on a blocking criterion, or when a group's people whom the digital journey failed
   are, with confidence, mostly not resolved through another channel.
2. *Quality per public and territory*: the gap and ratio criteria between groups and every group left
   behind; fails when a gap criterion fails or a group fails a blocking criterion with its whole interval.
3. *Socio-digital commons*: what was published, where, under which licence (`governance.open_outputs`
   as `{name, location, licence}`); fails when an output's licence is not an open one; a bare name is a
   declaration, not a publication.
4. *Data governance*: the declarations (controller, legal basis, retention, storage) and the privacy
   results (personal data echoed, leaked, redaction); fails when one of those criteria fails.
5. *Co-construction*: agents and citizens who took part in the design (`governance.co_design`); a
   committee that reviews the result oversees it, it does not co-construct it.
6. *Citizen participation*: real answers (synthetic ones are no one taking part), a response rate over
   invitations issued, and the acceptability criteria; fails when one fails.
7. *Opening to new usages without yielding to every injunction*: participation is voluntary, the old
   channel is kept and used, leaving the digital way costs nothing: a non-digital channel in the
   experiment, people actually using it (fallback, escalation), those who left the digital journey
   resolved elsewhere, and survey items on free choice; fails when those results fail.

Energy sobriety is one of the four families of evidence (its own scorecard dimension) and a part of
ALTAI's societal well-being; it is shown after the seven.
"""

from __future__ import annotations

from typing import Literal

from civiclab.scoring.dimension_evidence import (
    CountedReview,
    Coverage,
    DimensionCoverage,
    RunEvidence,
    about,
    judged,
    names,
    segments_of,
)
from civiclab.spec.commons import OPEN_LICENCES, OpenOutput

__all__ = [
    "DIMENSIONS",
    "Coverage",
    "CountedReview",
    "DimensionCoverage",
    "RunEvidence",
    "assess_dimensions",
]

PUBLIC_ATTRIBUTES = ("age_band", "digital_literacy", "disability", "language", "device")
OPEN_CHANNEL_FLOOR = 0.5
"""A group is left without another channel when, with confidence, fewer than half of those the
digital journey failed are resolved through a non-digital one."""
CHANNEL_WORDS = ("escalation", "fallback", "human_reachable", "handover", "offline_resolution", "under_load")
DIGITAL_CHANNELS = frozenset({"online_form", "immersive_3d", "web", "app", "assistant", "chatbot", "email"})


def _stranded(ev: RunEvidence) -> tuple[list[str], list[str]]:
    """Evidence and failures from per-group resolution through non-digital channels."""
    per_group = segments_of(ev, "human_centered.offline_resolution_rate")
    stranded = [m for m in per_group if m.ci_high is not None and m.ci_high < OPEN_CHANNEL_FLOOR]
    evidence, failures = [], []
    if per_group and not stranded:
        evidence.append(
            f"in each of {len(per_group)} groups, people the digital journey failed are resolved through "
            "a non-digital channel (no group confidently below half)"
        )
    for m in sorted(stranded, key=lambda m: float(m.value))[:6]:  # type: ignore[arg-type]
        failures.append(
            f"{m.segment}: only {float(m.value):.0%} [{m.ci_low:.2g}, {m.ci_high:.2g}] of {m.n} people the "  # type: ignore[arg-type]
            "digital journey failed were resolved through another channel"
        )
    if len(stranded) > 6:
        failures.append(f"and {len(stranded) - 6} more groups")
    # A human who exists but is closed or saturated is not within reach: judged under the pilot's load.
    under_load = segments_of(ev, "human_centered.human_reached_under_load")
    saturated = [m for m in under_load if m.ci_high is not None and m.ci_high < OPEN_CHANNEL_FLOOR]
    if under_load and not saturated:
        evidence.append(
            f"in each of {len(under_load)} groups, people who asked for a person reached one under load"
        )
    for m in sorted(saturated, key=lambda m: float(m.value))[:6]:  # type: ignore[arg-type]
        failures.append(
            f"{m.segment}: only {float(m.value):.0%} [{m.ci_low:.2g}, {m.ci_high:.2g}] of {m.n} people who "  # type: ignore[arg-type]
            "asked for a person got one (the channel was closed or saturated)"
        )
    return evidence, failures


def multichannel(ev: RunEvidence) -> DimensionCoverage:
    gov = ev.governance
    channels = [str(c) for c in ev.spec.get("channels") or []]
    evidence, failures = _stranded(ev)
    gaps: list[str] = []
    if not segments_of(ev, "human_centered.offline_resolution_rate"):
        gaps.append("no per-group resolution through non-digital channels measured (offline_resolution_rate)")
    if gov.fallback_channels:
        evidence.append(f"fallback channels declared: {', '.join(gov.fallback_channels)}")
    else:
        gaps.append("no fallback channel declared (governance.fallback_channels)")
    if len(channels) > 1:
        evidence.append(f"channels in the experiment: {', '.join(channels)}")
    handover = ev.measured(contains=CHANNEL_WORDS)
    if handover:
        evidence.append(f"hand-over to other channels measured: {names(handover)}")
    else:
        gaps.append("no metric shows citizens reaching another channel or a human")
    return judged(
        "multichannel",
        "Digital never the only way: other channels kept open",
        ev.rests_on(about(*CHANNEL_WORDS)),
        evidence,
        gaps,
        behind=ev.left_behind,
        declared=bool(gov.fallback_channels)
        and bool(segments_of(ev, "human_centered.offline_resolution_rate")),
        failures=failures,
    )


def quality_per_public(ev: RunEvidence) -> DimensionCoverage:
    by = ev.segmented_by()
    publics = sorted(by & set(PUBLIC_ATTRIBUTES))
    evidence, gaps = [], []
    if "territory" in by:
        evidence.append("metrics broken down by territory")
    else:
        gaps.append("no metric broken down by territory (or every group was smaller than k)")
    if publics:
        evidence.append(f"metrics broken down by {', '.join(publics)}")
    else:
        gaps.append("no metric broken down by public (age, digital literacy, disability, language, device)")
    equity = ev.rests_on(lambda v: v.kind in ("max_gap", "min_ratio"))
    if not equity:
        gaps.append("no criterion bounds the gap between groups (max_gap / min_ratio)")
    behind = ev.left_behind
    if not behind and ev.scorecard is not None and by:
        evidence.append("no group fails a blocking criterion with its whole interval")
    return judged(
        "quality_per_public",
        "Quality judged per public and territory",
        equity,
        evidence,
        gaps,
        behind=behind,
        declared="territory" in by and bool(publics),
    )


def open_outputs(ev: RunEvidence) -> DimensionCoverage:
    outputs = ev.governance.open_outputs
    evidence, gaps, failures = [], [], []
    published = 0
    for out in outputs:
        if not isinstance(out, OpenOutput):
            gaps.append(f"{out}: declared only (give its location and licence to show it published)")
            continue
        if out.licence is not None and out.licence not in OPEN_LICENCES:
            failures.append(
                f"{out.name}: licence {out.licence} is not an open licence (EUPL-1.2, etalab-2.0...)"
            )
        elif out.licence is None:
            gaps.append(f"{out.name}: no licence stated, so nobody may reuse it")
        elif out.location is None:
            gaps.append(f"{out.name}: under {out.licence}, but where it is published is not stated")
        else:
            published += 1
            evidence.append(f"{out.name} published at {out.location} under {out.licence}")
    if not outputs:
        gaps.append("no open output declared (governance.open_outputs)")
    status: Coverage = (
        "fail" if failures else "covered" if published and not gaps else "partial" if outputs else "gap"
    )
    return DimensionCoverage(
        key="open_outputs",
        label="Socio-digital commons: reusable open outputs",
        status=status,
        evidence=evidence,
        gaps=[*failures, *gaps],
        rests_on=[f"{published} of {len(outputs)} outputs published with an open licence"],
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
    verdicts = ev.rests_on(lambda v: v.dimension == "privacy" or about("pii", "leak", "redaction")(v))
    if not verdicts:
        gaps.append("no criterion measures what becomes of personal data (pii_echo_rate, leaks, redaction)")
    return judged(
        "data_governance", "Data governance", verdicts, evidence, gaps, declared=len(evidence) > len(fields)
    )


def co_construction(ev: RunEvidence) -> DimensionCoverage:
    activities = ev.governance.co_design
    agents = sum(a.agents for a in activities)
    citizens = sum(a.citizens for a in activities)
    evidence, gaps = [], []
    for a in activities:
        when = f" ({a.date})" if a.date else ""
        changed = f"; it changed: {a.changed}" if a.changed else ""
        evidence.append(f"{a.activity}{when}: {a.agents} agents, {a.citizens} citizens{changed}")
    if not agents:
        gaps.append("no public agent took part in the design (governance.co_design)")
    if not citizens:
        gaps.append("no citizen took part in the design (governance.co_design)")
    if ev.reviews or ev.governance.reviewers:
        gaps.append(
            "committee reviews are oversight of the result, not co-construction: they are not counted here"
        )
    status: Coverage = "covered" if agents and citizens else ("partial" if agents or citizens else "gap")
    return DimensionCoverage(
        key="co_construction",
        label="Co-construction with agents and citizens",
        status=status,
        evidence=evidence,
        gaps=gaps,
        rests_on=[f"{agents} agents and {citizens} citizens in {len(activities)} design activities"],
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
        evidence.append(f"real citizens' answers measured: {names(answers)}")
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
    verdicts = ev.rests_on(lambda v: v.dimension == "acceptability")
    out = judged(
        "participation",
        "Citizen participation",
        verdicts,
        evidence,
        gaps,
        declared=bool(survey) and bool(answers) and bool(response),
    )
    if out.status == "partial" and not verdicts and answers and response and survey:
        out.status = "covered"  # real people took part and the rate is known: no criterion is needed
        out.gaps = [g for g in out.gaps if not g.startswith("no criterion")]
    return out


def voluntary_use(ev: RunEvidence) -> DimensionCoverage:
    gov = ev.governance
    channels = [str(c) for c in ev.spec.get("channels") or []]
    old = [c for c in channels if c not in DIGITAL_CHANNELS] or list(gov.fallback_channels)
    evidence, gaps = [], []
    if old:
        evidence.append(f"the old way is kept: {', '.join(old)}")
    else:
        gaps.append("no non-digital channel in the experiment: the digital way is the only one")
    used = [m for m in ev.measured(contains=("fallback_rate", "escalation_rate")) if float(m.value) > 0]  # type: ignore[arg-type]
    if used:
        evidence.append(
            "the other channel is used: " + ", ".join(f"{m.name} {float(m.value):.1%}" for m in used)  # type: ignore[arg-type]
        )
    else:
        gaps.append("no measure shows anyone using the other channel (fallback_rate, escalation_rate)")
    choice = ev.measured(dimension="acceptability", contains=("choice", "voluntar", "free", "pressure"))
    real = [m for m in choice if m.synthetic is None]
    if real:
        evidence.append(f"asked of participants: {names(real)}")
    else:
        gaps.append("no survey item asks whether taking part, and the digital way, was freely chosen")
    offline = [m for m in ev.measured(contains=("offline_resolution_rate",))]
    failures = []
    for m in offline:
        if m.ci_high is not None and m.ci_high < OPEN_CHANNEL_FLOOR:
            failures.append(
                f"leaving the digital way is penalised: only {float(m.value):.0%} of those who left it "  # type: ignore[arg-type]
                "were resolved through another channel"
            )
        else:
            evidence.append(f"those who left the digital way resolved elsewhere: {float(m.value):.0%}")  # type: ignore[arg-type]
    verdicts = ev.rests_on(about("offline_resolution", "fallback", "human_reachable", "choice", "voluntar"))
    return judged(
        "voluntary_use",
        "Opening to new usages without yielding to every injunction: voluntary, the old way kept",
        verdicts,
        evidence,
        gaps,
        declared=bool(old) and bool(used),
        failures=failures,
    )


def energy_sobriety(ev: RunEvidence) -> DimensionCoverage:
    from civiclab.scoring.scorecard import uninformative

    measured = ev.measured(dimension="energy")
    bounded = [c for c in ev.criteria if c.metric.startswith("energy.")]
    method = ev.energy_method
    evidence, gaps = [], []
    if measured:
        evidence.append(f"energy measured: {names(measured)}" + (f" ({method})" if method else ""))
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
            informative.append(c.metric)
    if not bounded:
        gaps.append("no criterion bounds the energy cost")
    if method == "estimated":
        gaps.append("energy estimated from a CPU model, not measured (RAPL unreadable)")
    verdicts = ev.rests_on(lambda v: v.metric in informative)
    return judged(
        "energy_sobriety",
        "Energy sobriety",
        verdicts,
        evidence,
        gaps,
        declared=bool(measured) and len(informative) == len(bounded),
        criteria_declared=bool(bounded),
    )


DIMENSIONS = (
    multichannel,
    quality_per_public,
    open_outputs,
    data_governance,
    co_construction,
    participation,
    voluntary_use,
    energy_sobriety,
)


def assess_dimensions(ev: RunEvidence) -> list[DimensionCoverage]:
    """The seven public-service dimensions, then energy sobriety, each with its evidence and results."""
    return [fn(ev) for fn in DIMENSIONS]
