"""The journey pilot: a reproducible behavioural model, and real xAPI telemetry in observe mode."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml

from civiclab.plugins.experiment import load_experiment
from civiclab.records import SessionPlan
from civiclab.run.runner import run_experiment
from pilots.journey import behaviour
from pilots.journey.model import Access, load_journey
from pilots.journey.pilot import SIMULATED
from pilots.journey.simulate import simulate_session
from pilots.journey.xapi import check_statement

FAST = {"energy.tracker": "none"}


def plan(segment: dict[str, str], seed: int = 1, index: int = 0) -> SessionPlan:
    full = {
        "age_band": "25-39",
        "digital_literacy": "high",
        "disability": "none",
        "language": "fr",
        "device": "computer",
        "territory": "urban",
        **segment,
    }
    return SessionPlan(session_id=f"s{index}", index=index, persona_id="p", segment=full, seed=seed)


@pytest.fixture
def journey(journey_spec: Path):  # type: ignore[no-untyped-def]
    return load_journey(journey_spec.parent / "data/journey/housing_benefit.yaml")


def completion(journey, segment: dict[str, str], n: int = 400) -> float:  # type: ignore[no-untyped-def]
    import datetime as dt

    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    done = [simulate_session(journey, plan(segment, seed=i, index=i), start).outcome for i in range(n)]
    return done.count("completed") / n


def test_same_plan_gives_the_same_record(journey) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    a = simulate_session(journey, plan({"digital_literacy": "low"}, seed=9), start)
    b = simulate_session(journey, plan({"digital_literacy": "low"}, seed=9), start)
    assert a == b
    assert a.events[0].kind == "journey.start"


def test_literacy_and_accessibility_drive_completion(journey) -> None:  # type: ignore[no-untyped-def]
    high = completion(journey, {"digital_literacy": "high"})
    low = completion(journey, {"digital_literacy": "low"})
    assert high > low + 0.1
    # A persona without any device cannot complete online: every session ends with a human or abandons.
    assert completion(journey, {"device": "none", "digital_literacy": "none"}, 100) == 0.0


def test_a_step_needing_a_headset_falls_back_to_the_web(journey) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    record = simulate_session(
        journey, plan({"device": "computer"}, seed=3), dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    first = record.steps[0]
    assert first["step"] == "enter_town_hall" and first["usable"] is False and first["attempts"] == 0
    assert record.steps[1]["step"] == "web_start"
    assert record.data["fallback_used"] is True
    assert any(e.kind == "channel.fallback" for e in record.events)


def test_a_human_is_in_reach_only_if_this_persona_can_get_there(journey) -> None:  # type: ignore[no-untyped-def]
    offline_senior = Access(device="none", digital_literacy="none", disability="none")
    # The 3D town hall needs a headset; its fallback is a web form: nothing a person without a device can use.
    assert journey.human_in_reach("enter_town_hall", offline_senior) is False
    # With a computer, the web form's France Services counter is in reach.
    assert journey.human_in_reach("enter_town_hall", Access(device="computer")) is True
    # A person with no digital literacy does not switch to a web form on their own.
    assert (
        journey.human_in_reach("enter_town_hall", Access(device="computer", digital_literacy="none")) is False
    )
    # A phone line is out of a deaf person's reach; a counter is not.
    deaf = Access(device="computer", disability="hearing")
    assert not deaf.can_reach(journey.assistance("phone_line"))
    assert deaf.can_reach(journey.assistance("france_services"))
    assert not deaf.can_use(journey.step("phone_income"))


def test_offline_seniors_abandon_at_the_first_step_with_no_human_in_reach(journey) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    senior = {"age_band": "80+", "digital_literacy": "none", "device": "none", "territory": "rural"}
    records = [simulate_session(journey, plan(senior, seed=i, index=i), start) for i in range(60)]
    assert {r.outcome for r in records} == {"abandoned"}
    assert {r.data["last_step"] for r in records} == {"enter_town_hall"}
    assert all(r.data["failed_online"] and r.data["human_reachable_on_failure"] is False for r in records)
    # No help point is offered from a step they could not open.
    assert not any(e.kind == "assistance.request" for r in records for e in r.events)


@pytest.mark.slow
def test_demo_scorecard_names_the_offline_seniors_and_never_goes_on_synthetic_answers(
    journey_spec: Path, store_uri: str
) -> None:
    exp = load_experiment(journey_spec, {**FAST, "population.sessions": 400})
    result = run_experiment(exp, tracking_uri=store_uri)
    by_key = {m.key: m for m in result.metrics}
    seniors = by_key["human_centered.human_reachable_on_failure[device=none]"]
    assert seniors.value == 0.0 and seniors.n is not None and seniors.n >= 20 and seniors.ci_high < 0.2  # type: ignore[operator]
    assert by_key["human_centered.offline_resolution_rate[age_band=80+]"].value == 0.0
    reach = next(
        v for v in result.scorecard.criteria if v.metric == "human_centered.human_reachable_on_failure"
    )
    assert reach.verdict == "fail" and "fails for" in reach.detail and "age_band=80+ 0 [0," in reach.detail
    assert any(g.segment == "device=none" and g.confident for g in result.scorecard.left_behind)
    summary = result.summary()
    assert summary["recommendation"] != "go" and summary["synthetic"][0].startswith("acceptability:")
    # Simulated sessions are a model's behaviour, not citizens': every figure of them says so.
    assert (
        summary["synthetic"][1].startswith("human_centered:")
        and "SIMULATED sessions" in summary["synthetic"][1]
    )
    centred = [m for m in result.metrics if m.dimension == "human_centered"]
    assert centred and all(m.synthetic == SIMULATED for m in centred)
    assert summary["synthetic"][1].endswith(SIMULATED)
    # The report draws the funnel from the logged metrics, steps in journey order, with its text
    # alternative; the run itself no longer spends a second drawing it.
    from civiclab.reporting.document import load_document
    from civiclab.reporting.html import report_plots
    from civiclab.store.tracker import Tracker

    assert result.artifact_dir is not None and not (result.artifact_dir / "plots" / "funnel.png").exists()
    (funnel,) = [
        p
        for p in report_plots(load_document(Tracker(store_uri), result.run_id))
        if p.title == "Journey funnel"
    ]
    steps = [part.split(":")[0] for part in funnel.alt.split("; ")]
    assert steps[0] == "enter_town_hall" and len(steps) >= 4 and funnel.png.startswith(b"\x89PNG")
    reached = by_key[f"human_centered.funnel_reached.{steps[1]}"].value
    assert f"{steps[1]}: {reached:.0%} reach it" in funnel.alt


def test_missing_accessibility_feature_makes_a_step_harder(journey) -> None:  # type: ignore[no-untyped-def]
    step = journey.step("household")
    sighted = behaviour.Profile.from_plan(plan({}).segment, {})
    blind = behaviour.Profile.from_plan(plan({"disability": "visual"}).segment, {})
    assert behaviour.difficulty(blind, step) == behaviour.difficulty(sighted, step)  # screen reader present
    no_reader = step.model_copy(update={"accessibility": []})
    assert behaviour.difficulty(blind, no_reader)[0] > behaviour.difficulty(sighted, no_reader)[0]
    assert behaviour.success_probability(blind, no_reader) < behaviour.success_probability(sighted, no_reader)


@pytest.mark.slow
def test_same_spec_and_seed_give_the_same_audit_root(journey_spec: Path, store_uri: str) -> None:
    exp = load_experiment(journey_spec, {**FAST, "population.sessions": 300})
    first = run_experiment(exp, tracking_uri=store_uri)
    second = run_experiment(
        load_experiment(journey_spec, {**FAST, "population.sessions": 300}), tracking_uri=store_uri
    )
    pooled = run_experiment(
        load_experiment(journey_spec, {**FAST, "population.sessions": 300}), tracking_uri=store_uri, workers=2
    )
    other = run_experiment(
        load_experiment(journey_spec, {**FAST, "population.sessions": 300, "population.seed": 1}),
        tracking_uri=store_uri,
    )
    assert first.audit_root == second.audit_root == pooled.audit_root
    assert other.audit_root != first.audit_root
    assert first.run_id != second.run_id
    values = {m.key: m.value for m in first.metrics}
    assert values["auditability.reproducible"] == 1.0
    assert values["auditability.chain_valid"] == 1.0
    assert 0 < values["human_centered.completion_rate"] < 1


def write_statements(path: Path, n_sessions: int = 12) -> list[dict]:  # type: ignore[type-arg]
    base = "https://belleval.example/journeys/housing-benefit"
    adl = "http://adlnet.gov/expapi/verbs/"
    statements: list[dict] = []  # type: ignore[type-arg]
    rng = random.Random(0)
    for i in range(n_sessions):
        reg = f"00000000-0000-4000-8000-{i:012d}"
        actor = {"mbox": f"mailto:citizen{i}@example.org"}
        persona = "young-parent" if i % 2 else "retiree-online"
        t = 0

        def st(
            verb: str, obj: str, success: bool | None = None, actor=actor, reg=reg, persona=persona
        ) -> dict:  # type: ignore[no-untyped-def, type-arg]
            nonlocal t
            t += rng.randint(30, 300)
            s = {
                "actor": actor,
                "verb": {"id": verb},
                "object": {"id": obj},
                "timestamp": f"2026-03-02T{9 + t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}Z",
                "context": {
                    "registration": reg,
                    "extensions": {"https://w3id.org/civiclab/xapi/persona": persona},
                },
            }
            if success is not None:
                s["result"] = {"success": success}
            return s

        statements.append(st(adl + "initialized", base))
        statements.append(st(adl + "attempted", f"{base}/steps/web_start"))
        statements.append(st(adl + "passed", f"{base}/steps/web_start", True))
        statements.append(st(adl + "attempted", f"{base}/steps/identity"))
        if i % 3 == 0:
            statements.append(st(adl + "failed", f"{base}/steps/identity", False))
            statements.append(
                st("https://w3id.org/civiclab/xapi/verbs/escalated", f"{base}/assistance/france_services")
            )
        elif i % 3 == 1:
            statements.append(st(adl + "passed", f"{base}/steps/identity", True))
            statements.append(st(adl + "completed", base))
        else:
            statements.append(st("https://w3id.org/xapi/adl/verbs/abandoned", base))
    statements.append(
        {
            "actor": {"mbox": "mailto:x@example.org"},
            "verb": {"id": adl + "passed"},
            "object": {"id": base},
            "timestamp": "2026-03-02T09:00:00Z",
            "context": {},
        }
    )
    path.write_text("\n".join(json.dumps(s) for s in statements) + "\n")
    return statements


@pytest.mark.slow
def test_observe_mode_reads_xapi_sessions_and_pseudonymises(journey_spec: Path, store_uri: str) -> None:
    statements = journey_spec.parent / "data/journey/statements.jsonl"
    written = write_statements(statements)
    data = yaml.safe_load(journey_spec.read_text())
    data["pilot"]["params"] = {
        "mode": "observe",
        "journey": "data/journey/housing_benefit.yaml",
        "statements": "data/journey/statements.jsonl",
    }
    journey_spec.write_text(yaml.safe_dump(data))
    result = run_experiment(load_experiment(journey_spec, FAST), tracking_uri=store_uri)
    assert result.sessions == 12
    values = {m.key: m.value for m in result.metrics}
    assert values["human_centered.completion_rate"] == pytest.approx(4 / 12)
    assert values["human_centered.escalation_rate"] == pytest.approx(4 / 12)
    assert values["human_centered.abandonment_rate"] == pytest.approx(4 / 12)
    folder = result.artifact_dir
    assert folder is not None
    rejected = [json.loads(line) for line in (folder / "xapi_rejected.jsonl").read_text().splitlines()]
    assert rejected == [
        {
            "index": len(written) - 1,
            "field": "context.registration",
            "kind": "rejected",
            "reason": "context.registration missing or not a UUID",
            "statement_id": None,
        }
    ]
    for name in ("audit.jsonl", "sessions.jsonl", "metrics.json", "scorecard.json"):
        assert "example.org" not in (folder / name).read_text(), name
    sessions = [json.loads(line) for line in (folder / "sessions.jsonl").read_text().splitlines()]
    assert {s["persona_id"] for s in sessions} == {"young-parent", "retiree-online"}
    assert all(s["data"]["registration"].startswith("p-") for s in sessions)


@pytest.mark.parametrize(
    ("statement", "reason"),
    [
        ({}, "actor has no inverse functional identifier"),
        ({"actor": {"mbox": "mailto:a@b.c"}, "verb": {"id": "nope"}}, "verb.id missing or not an IRI"),
        (
            {
                "actor": {"account": {"homePage": "https://x", "name": "7"}},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
                "object": {"id": "https://x/y"},
                "timestamp": "2026-01-01T00:00:00Z",
                "context": {"registration": "abc"},
            },
            "context.registration missing or not a UUID",
        ),
    ],
)
def test_invalid_statements_are_rejected_with_a_reason(statement: dict, reason: str) -> None:  # type: ignore[type-arg]
    assert (check_statement(statement) or "").startswith(reason)
