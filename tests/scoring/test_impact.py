"""Impact assessment scored as Canada's AIA scores it; ALTAI and public-service coverage of a run."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from civiclab.records import Metric
from civiclab.scoring.altai import altai_map
from civiclab.scoring.dimensions import CountedReview, RunEvidence, assess_dimensions
from civiclab.spec.experiment import CriterionSpec, ExperimentSpec
from civiclab.spec.impact import ImpactAssessment, score_impact


def assessment(risk_answers: list[Any], mitigation_answers: list[Any]) -> ImpactAssessment:
    """Risk questions worth 0..4 each, one checkbox worth 1+2; mitigation yes/no worth 2 each."""
    risk: list[dict[str, Any]] = [
        {
            "id": f"r{i}",
            "question": "How severe?",
            "choices": {"none": 0, "low": 1, "mid": 2, "high": 4},
            "answer": a,
        }
        for i, a in enumerate(risk_answers[:-1])
    ]
    risk.append(
        {
            "id": "data",
            "question": "Which data?",
            "multiple": True,
            "choices": {"personal": 1, "sensitive": 2},
            "answer": risk_answers[-1],
        }
    )
    mitigation = [
        {"id": f"m{i}", "question": "Mitigated?", "choices": {"yes": 2, "no": 0}, "answer": a}
        for i, a in enumerate(mitigation_answers)
    ]
    return ImpactAssessment.model_validate({"risk": risk, "mitigation": mitigation})


def test_raw_score_and_levels_by_quarters_of_the_maximum() -> None:
    # max raw = 4 * 4 + (1 + 2) = 19; quarters at 4.75, 9.5, 14.25
    low = score_impact(assessment(["low", "low", "none", "none", None], ["no"] * 5))
    assert (low.raw_risk, low.max_raw_risk, low.current, low.level_name) == (2, 19, 2, "I")
    assert low.unanswered == ["data"]
    two = score_impact(assessment(["high", "low", "none", "none", ["personal"]], ["no"] * 5))
    assert (two.raw_risk, two.level) == (6, 2)
    three = score_impact(assessment(["high", "high", "low", "none", ["personal", "sensitive"]], ["no"] * 5))
    assert (three.raw_risk, three.level) == (12, 3)
    four = score_impact(assessment(["high", "high", "high", "mid", ["personal"]], ["no"] * 5))
    assert (four.raw_risk, four.level_name) == (15, "IV")


def test_mitigation_deducts_15_percent_at_80_percent_of_half_the_maximum() -> None:
    # max mitigation = 10, half = 5, 80% of it = 4: two "yes" (4 points) are enough.
    base = ["high", "high", "high", "mid", ["personal"]]  # raw 15 -> level IV
    below = score_impact(assessment(base, ["yes", "no", "no", "no", "no"]))
    assert not below.mitigation_applied and below.current == 15
    at = score_impact(assessment(base, ["yes", "yes", "no", "no", "no"]))
    assert at.mitigation == 4 and at.mitigation_applied
    assert at.current == 13  # round(0.85 * 15 = 12.75)
    assert at.level_name == "III"  # 13 <= 14.25
    # Halves round up as the AIA tool's Math.round does: 0.85 * 10 = 8.5 -> 9.
    ten = score_impact(assessment(["high", "high", "mid", "none", None], ["yes", "yes"]))
    assert (ten.raw_risk, ten.current) == (10, 9)


def test_questionnaire_is_strict() -> None:
    with pytest.raises(ValidationError, match="'maybe' is not one of"):
        assessment(["maybe", None], [])
    with pytest.raises(ValidationError, match="only allowed when `multiple: true`"):
        assessment([["low"], None], [])
    spec = {
        "name": "x1",
        "pilot": {"kind": "k"},
        "evaluators": ["e"],
        "population": {
            "personas": [{"id": "p", "age_band": "80+", "digital_literacy": "low"}],
            "sessions": 1,
        },
        "impact_assessment": {"risk": [{"id": "a", "question": "Is it?", "choices": {"y": 1}, "bogus": 1}]},
    }
    with pytest.raises(ValidationError, match="bogus"):
        ExperimentSpec.model_validate(spec)
    spec["impact_assessment"]["risk"][0].pop("bogus")  # type: ignore[index]
    assert ExperimentSpec.model_validate(spec).impact_assessment is not None


def m(name: str, value: float, segment: str | None = None) -> Metric:
    return Metric(name=name, value=value, dimension=name.split(".")[0], segment=segment)


def test_public_dimensions_list_gaps() -> None:
    bare = RunEvidence(spec={}, metrics=[m("human_centered.completion_rate", 0.8)])
    dims = {d.key: d for d in assess_dimensions(bare)}
    assert list(dims) == [
        "multichannel",
        "quality_per_public",
        "open_outputs",
        "data_governance",
        "co_construction",
        "participation",
        "energy_sobriety",
    ]
    assert all(d.status == "gap" for d in dims.values())
    assert "legal basis not declared (governance.legal_basis)" in dims["data_governance"].gaps

    full = RunEvidence(
        spec={
            "channels": ["web", "phone"],
            "survey": {"instrument": "x"},
            "governance": {
                "data_controller": "Ville",
                "legal_basis": "public task",
                "retention": "1y",
                "storage_location": "EU",
                "reviewers": ["committee"],
                "open_outputs": ["code"],
                "fallback_channels": ["phone"],
            },
        },
        metrics=[
            m("human_centered.escalation_rate", 0.1),
            m("acceptability.trust", 4.0),
            m("energy.kwh", 0.1),
            m("human_centered.completion_rate", 0.8, "territory=rural"),
            m("human_centered.completion_rate", 0.9, "age_band=80+"),
            *offline_resolution({"age_band=80+": (40, 50), "age_band=18-24": (30, 40)}),
            Metric(name="acceptability.response_rate", value=0.4, dimension="acceptability", n=250),
        ],
        criteria=[
            CriterionSpec(metric="human_centered.completion_rate", max_gap=0.2),
            CriterionSpec(metric="energy.kwh", at_most=1),
        ],
        reviews=[CountedReview(name="Dr M", role="chair", decision="approve")],
    )
    assert {d.key: d.status for d in assess_dimensions(full)} == dict.fromkeys(dims, "covered")

    # Judged on evidence, not presence. Other channels: a group nobody resolves offline is named.
    stranded = full.metrics[:5] + offline_resolution({"age_band=80+": (0, 179), "age_band=18-24": (30, 40)})
    multichannel = {d.key: d for d in assess_dimensions(RunEvidence(**{**vars(full), "metrics": stranded}))}
    assert multichannel["multichannel"].status == "partial"
    assert any(
        g.startswith("age_band=80+: only 0% [0, 0.021] of 179 people")
        for g in multichannel["multichannel"].gaps
    )
    # Participation: generated answers are not citizens taking part.
    synthetic = [
        x.model_copy(update={"synthetic": "generated demo answers"}) if x.dimension == "acceptability" else x
        for x in full.metrics
    ]
    part = {d.key: d for d in assess_dimensions(RunEvidence(**{**vars(full), "metrics": synthetic}))}[
        "participation"
    ]
    assert part.status == "partial" and any(
        "SYNTHETIC" in g and "no citizen took part" in g for g in part.gaps
    )
    no_rate = [x for x in full.metrics if not x.name.endswith("response_rate")]
    assert {d.key: d for d in assess_dimensions(RunEvidence(**{**vars(full), "metrics": no_rate}))}[
        "participation"
    ].status == "partial"
    # Energy: a bound of 1 Wh against 4e-6 Wh measured could not fail.
    tiny = [x for x in full.metrics if x.name != "energy.kwh"] + [m("energy.wh_per_session", 4e-6)]
    loose = RunEvidence(
        **{
            **vars(full),
            "metrics": tiny,
            "criteria": [CriterionSpec(metric="energy.wh_per_session", at_most=1)],
        }
    )
    energy = {d.key: d for d in assess_dimensions(loose)}["energy_sobriety"]
    assert energy.status == "partial" and any(
        "2e+05× the measured 4e-06" in g and "uninformative" in g for g in energy.gaps
    )


def offline_resolution(groups: dict[str, tuple[int, int]]) -> list[Metric]:
    from civiclab.stats import intervals as stats

    out = []
    for segment, (k, n) in groups.items():
        est = stats.proportion(k, n)
        out.append(
            Metric(
                name="human_centered.offline_resolution_rate",
                value=est.value,
                ci_low=est.ci_low,
                ci_high=est.ci_high,
                n=n,
                method=est.method,
                segment=segment,
                dimension="human_centered",
            )
        )
    return out


def test_altai_map_has_seven_requirements() -> None:
    ev = RunEvidence(spec={}, metrics=[m("auditability.reproducible", 1)], audit_root="ab" * 32)
    reqs = altai_map(ev)
    assert [r.label.split(".")[0] for r in reqs] == [str(i) for i in range(1, 8)]
    status = {r.key: r.status for r in reqs}
    assert status["robustness"] == "covered" and status["transparency"] == "covered"
    assert status["wellbeing"] == "gap"
    assert "no impact assessment (impact_assessment)" in reqs[6].gaps


def test_the_documented_example_validates() -> None:
    import re

    import yaml

    import civiclab.spec.impact

    doc = civiclab.spec.impact.__doc__ or ""
    block = re.search(r"```yaml\n(.*?)```", doc, re.DOTALL)
    assert block is not None
    example = ImpactAssessment.model_validate(yaml.safe_load(block.group(1))["impact_assessment"])
    score = score_impact(example)
    assert (score.raw_risk, score.max_raw_risk, score.mitigation_applied, score.current) == (3, 8, True, 3)
    assert score.level_name == "II"
