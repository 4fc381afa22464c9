"""Public-service dimensions and the ALTAI map follow the run's results: each fails when its evidence fails."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from civiclab.records import Metric
from civiclab.scoring.altai import altai_map
from civiclab.scoring.dimensions import CountedReview, RunEvidence, assess_dimensions
from civiclab.spec.experiment import CriterionSpec
from civiclab.stats import intervals as stats

SEVEN = [
    "multichannel",
    "quality_per_public",
    "open_outputs",
    "data_governance",
    "co_construction",
    "participation",
    "voluntary_use",
]


def share(name: str, hits: int, n: int, segment: str | None = None, **kw: Any) -> Metric:
    est = stats.proportion(hits, n)
    return Metric(
        name=name,
        value=est.value,
        ci_low=est.ci_low,
        ci_high=est.ci_high,
        n=n,
        method="wilson",
        unit="share",
        segment=segment,
        dimension=name.split(".")[0],
        **kw,
    )


def scale(name: str, value: float, half: float = 0.3, n: int = 100, **kw: Any) -> Metric:
    return Metric(
        name=name,
        value=value,
        ci_low=value - half,
        ci_high=value + half,
        n=n,
        method="bca-bootstrap",
        dimension=name.split(".")[0],
        **kw,
    )


HC = "human_centered"
SPEC: dict[str, Any] = {
    "channels": ["online_form", "phone", "counter"],
    "survey": {"instrument": "x"},
    "governance": {
        "data_controller": "Ville de Belleval",
        "legal_basis": "public task",
        "retention": "12 months",
        "storage_location": "France",
        "reviewers": ["ethics committee"],
        "fallback_channels": ["phone", "counter"],
        "open_outputs": [
            {
                "name": "journey graph",
                "location": "https://code.example.org/belleval/journey",
                "licence": "EUPL-1.2",
            }
        ],
        "co_design": [{"activity": "workshop", "agents": 6, "citizens": 9, "changed": "a phone step added"}],
    },
}


def metrics() -> list[Metric]:
    return [
        share(f"{HC}.completion_rate", 850, 1000),
        share(f"{HC}.completion_rate", 160, 200, "territory=rural"),
        share(f"{HC}.completion_rate", 170, 200, "age_band=80+"),
        share(f"{HC}.completion_rate", 180, 200, "age_band=18-24"),
        share(f"{HC}.escalation_rate", 100, 1000),
        share(f"{HC}.fallback_rate", 50, 1000),
        share(f"{HC}.human_reachable_on_failure", 198, 200),
        share(f"{HC}.offline_resolution_rate", 160, 200),
        share(f"{HC}.offline_resolution_rate", 40, 50, "age_band=80+"),
        share(f"{HC}.offline_resolution_rate", 30, 40, "age_band=18-24"),
        share(f"{HC}.pii_echo_rate", 0, 200),
        scale("acceptability.trust", 5.0),
        scale("acceptability.free_choice", 6.1),
        Metric(name="acceptability.response_rate", value=0.4, dimension="acceptability", n=250),
        Metric(name="energy.kwh", value=0.1, unit="kWh", dimension="energy"),
    ]


CRITERIA = [
    CriterionSpec(metric=f"{HC}.completion_rate", at_least=0.7),
    CriterionSpec(metric=f"{HC}.completion_rate", label="completion gap", max_gap=0.2),
    CriterionSpec(metric=f"{HC}.human_reachable_on_failure", at_least=0.95),
    CriterionSpec(metric=f"{HC}.offline_resolution_rate", at_least=0.5),
    CriterionSpec(metric=f"{HC}.pii_echo_rate", at_most=0.05),
    CriterionSpec(metric="acceptability.trust", at_least=4),
    CriterionSpec(metric="energy.kwh", at_most=1),
]


def evidence(**changes: Any) -> RunEvidence:
    base = {
        "spec": SPEC,
        "metrics": metrics(),
        "criteria": CRITERIA,
        "reviews": [CountedReview(name="Dr M", role="chair", decision="approve")],
        "audit_root": "ab" * 32,
    }
    return RunEvidence(**{**base, **changes})


def statuses(ev: RunEvidence) -> dict[str, str]:
    return {d.key: d.status for d in assess_dimensions(ev)}


def swap(name: str, new: Metric, segment: str | None = None) -> list[Metric]:
    return [new if (m.name, m.segment) == (name, segment) else m for m in metrics()]


def test_every_dimension_is_covered_when_its_results_hold() -> None:
    dims = assess_dimensions(evidence())
    assert [d.key for d in dims] == [*SEVEN, "energy_sobriety"]
    assert {d.key: d.status for d in dims} == dict.fromkeys([*SEVEN, "energy_sobriety"], "covered")
    multichannel = dims[0]
    assert "A human is within reach" not in multichannel.rests_on  # labels default to the metric
    assert f"{HC}.human_reachable_on_failure: PASS" in multichannel.rests_on


def test_a_group_left_behind_fails_quality_per_public_and_digital_never_the_only_way() -> None:
    # Rural completion 60 of 200 (0.30 [0.24, 0.37]) against >= 0.7: left behind with its whole interval.
    ev = evidence(
        metrics=swap(
            f"{HC}.completion_rate",
            share(f"{HC}.completion_rate", 60, 200, "territory=rural"),
            "territory=rural",
        )
    )
    got = {d.key: d for d in assess_dimensions(ev)}
    for key in ("quality_per_public", "multichannel"):
        assert got[key].status == "fail"
        assert any(r.startswith("group left behind: territory=rural fails") for r in got[key].rests_on)
    assert got["open_outputs"].status == "covered"  # unrelated to the group


def test_each_dimension_fails_when_the_result_it_rests_on_fails() -> None:
    cases = {
        "multichannel": swap(
            f"{HC}.human_reachable_on_failure", share(f"{HC}.human_reachable_on_failure", 150, 200)
        ),
        "quality_per_public": swap(  # gap 0.9 − 0.55 = 0.35 > 0.2, no group below 0.7 with its whole interval
            f"{HC}.completion_rate", share(f"{HC}.completion_rate", 110, 200, "age_band=80+"), "age_band=80+"
        )
        + [share(f"{HC}.completion_rate", 180, 200, "territory=urban")],
        "data_governance": swap(f"{HC}.pii_echo_rate", share(f"{HC}.pii_echo_rate", 19, 22)),
        "participation": swap("acceptability.trust", scale("acceptability.trust", 3.0)),
        "voluntary_use": swap(
            f"{HC}.offline_resolution_rate", share(f"{HC}.offline_resolution_rate", 40, 200)
        ),
        "energy_sobriety": swap(
            "energy.kwh", Metric(name="energy.kwh", value=2.5, unit="kWh", dimension="energy")
        ),
    }
    for key, changed in cases.items():
        got = statuses(evidence(metrics=changed))
        assert got[key] == "fail", (key, got)


def test_commons_checks_what_was_published_and_under_which_licence() -> None:
    def commons(outputs: list[Any]) -> Any:
        spec = {**SPEC, "governance": {**SPEC["governance"], "open_outputs": outputs}}
        return next(d for d in assess_dimensions(evidence(spec=spec)) if d.key == "open_outputs")

    closed = commons(
        [{"name": "model", "location": "https://x.example", "licence": "LicenseRef-Proprietary"}]
    )
    assert closed.status == "fail" and "is not an open licence" in closed.gaps[0]
    declared = commons(["journey graph", "scorecard"])
    assert declared.status == "partial" and "declared only" in declared.gaps[0]
    unlicensed = commons([{"name": "personas", "location": "data/personas.yaml"}])
    assert unlicensed.status == "partial" and "no licence" in unlicensed.gaps[0]
    assert commons([]).status == "gap"


def test_co_construction_counts_agents_and_citizens_in_the_design_not_committee_reviews() -> None:
    def co(activities: list[dict[str, Any]]) -> Any:
        spec = {**SPEC, "governance": {**SPEC["governance"], "co_design": activities}}
        return next(d for d in assess_dimensions(evidence(spec=spec)) if d.key == "co_construction")

    oversight_only = co([])
    assert oversight_only.status == "gap"
    assert any("oversight of the result, not co-construction" in g for g in oversight_only.gaps)
    assert co([{"activity": "mediators' workshop", "agents": 5}]).status == "partial"
    both = co([{"activity": "workshop", "agents": 5}, {"activity": "test sessions", "citizens": 12}])
    assert both.status == "covered" and both.rests_on == ["5 agents and 12 citizens in 2 design activities"]


def test_voluntary_use_needs_the_old_way_kept_and_used() -> None:
    digital_only = {
        **SPEC,
        "channels": ["online_form"],
        "governance": {**SPEC["governance"], "fallback_channels": []},
    }
    got = {d.key: d for d in assess_dimensions(evidence(spec=digital_only))}["voluntary_use"]
    assert got.status == "partial" and "the digital way is the only one" in got.gaps[0]
    unused = [m for m in metrics() if m.name not in (f"{HC}.fallback_rate", f"{HC}.escalation_rate")]
    assert statuses(evidence(metrics=unused))["voluntary_use"] == "partial"


def test_altai_map_follows_the_verdicts_never_presence() -> None:
    ok = {r.key: r.status for r in altai_map(evidence())}
    assert ok["fairness"] == "partial"  # no breakdown by disability
    assert ok["human_agency"] == "covered" and ok["privacy"] == "covered"
    # A failing completion gap (0.991) fails fairness, declarations notwithstanding.
    gap = swap(
        f"{HC}.completion_rate", share(f"{HC}.completion_rate", 2, 200, "age_band=80+"), "age_band=80+"
    )
    gap += [share(f"{HC}.completion_rate", 199, 200, "territory=urban")]
    failed = {r.key: r for r in altai_map(evidence(metrics=gap))}
    assert failed["fairness"].status == "fail" and failed["human_agency"].status == "fail"
    # Robustness fails with a failing reproducibility criterion.
    robust = evidence(
        metrics=[*metrics(), Metric(name="auditability.reproducible", value=0.0, dimension="auditability")],
        criteria=[*CRITERIA, CriterionSpec(metric="auditability.reproducible", at_least=1)],
    )
    got = {r.key: r.status for r in altai_map(robust)}
    assert got["robustness"] == "fail" and got["transparency"] == "fail"
    # Well-being fails with the acceptability family.
    low = {
        r.key: r.status
        for r in altai_map(evidence(metrics=swap("acceptability.trust", scale("acceptability.trust", 2.0))))
    }
    assert low["wellbeing"] == "fail"
    # Everything declared, nothing measured: nothing is covered.
    bare = {r.key: r.status for r in altai_map(replace(evidence(), metrics=[], scorecard=None, criteria=[]))}
    assert "covered" not in bare.values()


def test_a_pass_on_synthetic_evidence_covers_nothing() -> None:
    generated = [
        m.model_copy(update={"synthetic": "generated demo answers"}) if m.dimension == "acceptability" else m
        for m in metrics()
    ]
    got = {d.key: d for d in assess_dimensions(evidence(metrics=generated))}["participation"]
    assert got.status == "partial"
    assert "acceptability.trust: PASS (SYNTHETIC: the model predicts)" in got.rests_on
