"""Human channels with capacity: the queue against queueing theory, load against reach, and what-ifs."""

from __future__ import annotations

import datetime as dt
import math
import random
from pathlib import Path

import pytest

from civiclab import SpecError
from civiclab.plugins.evaluation import RunData
from civiclab.plugins.experiment import load_experiment
from civiclab.records import SessionRecord
from civiclab.run.building import build_pilot
from evaluators.workload import workload_metrics
from pilots.journey.capacity import Capacity, Duration
from pilots.journey.queueing import Request, simulate_queue, staffed_frame

MONDAY = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
NEVER_GIVES_UP = 1e9


def erlang_c(servers: int, offered: float) -> float:
    """P(an arrival waits) in an M/M/c queue with offered load `offered` = λ/μ (Erlang's C formula)."""
    top = offered**servers / math.factorial(servers) * servers / (servers - offered)
    return top / (sum(offered**k / math.factorial(k) for k in range(servers)) + top)


def test_an_mmc_queue_matches_erlang_c() -> None:
    arrival_rate, mean_service, servers = 1 / 60, 84.0, 2  # offered load 1.4 Erlangs, utilisation 0.7
    rng = random.Random(7)
    clock, requests = 0.0, []
    for i in range(40_000):
        clock += rng.expovariate(arrival_rate)
        service = rng.expovariate(1 / mean_service)
        requests.append(Request(f"s{i}", i, "desk", clock, service, NEVER_GIVES_UP))
    capacity = Capacity(staff=servers, service=Duration(distribution="exponential", mean_s=mean_service))
    outcomes = simulate_queue(capacity, requests, MONDAY)
    waits = [outcomes[f"s{i}"]["wait_s"] for i in range(2_000, 40_000)]  # past the warm-up
    assert all(outcomes[r.session_id]["status"] == "served" for r in requests)

    p_wait = erlang_c(servers, arrival_rate * mean_service)
    mean_wait = p_wait / (servers / mean_service - arrival_rate)
    assert p_wait == pytest.approx(0.5765, abs=1e-4)  # 1.4²/2·2/0.6 = 3.2667; /(1 + 1.4 + 3.2667)
    assert sum(w > 0 for w in waits) / len(waits) == pytest.approx(p_wait, abs=0.02)
    assert sum(waits) / len(waits) == pytest.approx(mean_wait, rel=0.08)


def test_patience_losses_are_counted() -> None:
    # One agent, three people 10 s apart, each needing 100 s and waiting at most 50 s: the first is
    # served at once; the second gives up at 60 s and the third at 70 s, before the agent is free at 100 s.
    capacity = Capacity(staff=1, service=Duration(median_s=100, sigma=0))
    requests = [Request(f"s{i}", i, "desk", 10.0 * i, 100.0, 50.0) for i in range(3)]
    outcomes = simulate_queue(capacity, requests, MONDAY)
    assert [outcomes[f"s{i}"]["status"] for i in range(3)] == ["served", "lost", "lost"]
    assert [outcomes[f"s{i}"]["wait_s"] for i in range(3)] == [0.0, 50.0, 50.0]


def test_closed_hours_and_slots_shape_who_is_answered() -> None:
    capacity = Capacity.model_validate(
        {
            "hours": {"days": ["mon"], "open": "09:00", "close": "12:00"},
            "staff": [{"start": "09:00", "end": "10:00", "staff": 1}],  # nobody from 10:00
            "service": {"median_s": 60, "sigma": 0},
        }
    )
    at = lambda h: h * 3600.0  # noqa: E731
    requests = [
        Request("night", 0, "desk", at(3), 60, 3600),  # closed, turned away
        Request("early", 1, "desk", at(9), 60, 3600),  # served at once
        Request("late", 2, "desk", at(10.5), 60, 600),  # open but nobody on duty: gives up
    ]
    outcomes = simulate_queue(capacity, requests, MONDAY)
    assert {k: v["status"] for k, v in outcomes.items()} == {
        "night": "closed",
        "early": "served",
        "late": "lost",
    }
    frame = staffed_frame(capacity, MONDAY, 1)
    assert sum(frame["open_s"][0]) == 3 * 3600 and sum(frame["staffed_s"][0]) == 3600


def test_priority_discipline_serves_the_named_group_first() -> None:
    capacity = Capacity.model_validate(
        {
            "staff": 1,
            "service": {"median_s": 100, "sigma": 0},
            "discipline": "priority",
            "priority": {"digital_literacy": ["none"]},
        }
    )
    requests = [
        Request("busy", 0, "desk", 0.0, 100.0, 1e6),
        Request("first-come", 1, "desk", 1.0, 100.0, 1e6),
        Request("offline", 2, "desk", 2.0, 100.0, 1e6, prioritised=True),
    ]
    outcomes = simulate_queue(capacity, requests, MONDAY)
    assert outcomes["offline"]["wait_s"] == 98.0  # served when the agent frees at 100 s
    assert outcomes["first-come"]["wait_s"] == 199.0


def _reach_of_dependent_groups(spec: Path, overrides: dict[str, object]) -> tuple[float, float]:
    """Sessions of people with low or no digital literacy that failed online: share with a human in
    reach, and the 90th percentile wait at the counter."""
    experiment = load_experiment(spec, {"energy.tracker": "none", **overrides})
    pilot = build_pilot(experiment, None)
    plans = pilot.plans(experiment.spec.population.sessions, experiment.spec.population.seed)
    assert plans is not None
    reach, waits = [], []
    for plan in plans:
        record = pilot.run_session(plan)
        data = record.data
        if record.segment["digital_literacy"] in ("none", "low") and data["failed_online"]:
            reach.append(bool(data["human_reachable_on_failure"]))
        queue = data.get("queue")
        if queue and queue["status"] == "served":
            waits.append(queue["wait_s"])
    waits.sort()
    return sum(reach) / len(reach), waits[int(0.9 * len(waits))]


def test_a_saturated_counter_lowers_reach_for_the_groups_that_depend_on_it(journey_spec: Path) -> None:
    staffed = _reach_of_dependent_groups(journey_spec, {})
    saturated = _reach_of_dependent_groups(journey_spec, {"assistance.france_services.staff": 1})
    assert saturated[0] < staffed[0] - 0.05
    assert saturated[1] > staffed[1]
    # Three times as many people per hour over the same days, on the same staff: waits grow with load.
    busier = _reach_of_dependent_groups(journey_spec, {"arrivals_per_hour": 180, "population.sessions": 6000})
    assert busier[1] > staffed[1]


def test_a_what_if_on_an_unknown_point_is_one_line_naming_it(journey_spec: Path) -> None:
    with pytest.raises(SpecError) as err:
        load_experiment(journey_spec, {"assistance.nowhere.staff": 2})
    assert err.value.field == "pilot.params.assistance.nowhere"
    with pytest.raises(SpecError) as err:
        load_experiment(journey_spec, {"assistance.france_services.staff": -1})
    assert err.value.field == "pilot.params.assistance.france_services.capacity.staff"


def test_workload_figures_by_hand(tmp_path: Path) -> None:
    # One agent on duty all Monday; two people served at 10:00 and 10:30 for 30 min each, the
    # second after waiting 10 min; one gave up after 20 min. Utilisation = 3600 s busy / 86400 s on duty.
    from pilots.journey.model import Journey
    from pilots.journey.pilot import JourneyFacts

    capacity = Capacity(staff=1, service=Duration(median_s=1800, sigma=0))
    frame = staffed_frame(capacity, MONDAY, 1)
    journey = Journey.model_validate(
        {
            "id": "j",
            "title": "j",
            "start": "a",
            "steps": [{"id": "a", "title": "a", "channel": "counter", "time": {"median_s": 1}}],
        }
    )
    facts = JourneyFacts(
        journey=journey,
        mode="simulate",
        statements_read=0,
        statements_rejected=0,
        workload={"day_zero": MONDAY.isoformat(), "days": 1, "points": {"desk": frame}},
    )
    queues = [
        {
            "point": "desk",
            "status": "served",
            "arrival_s": 36000.0,
            "deferred_s": 0.0,
            "wait_s": 0.0,
            "service_s": 1800.0,
        },
        {
            "point": "desk",
            "status": "served",
            "arrival_s": 37200.0,
            "deferred_s": 0.0,
            "wait_s": 600.0,
            "service_s": 1800.0,
        },
        {
            "point": "desk",
            "status": "lost",
            "arrival_s": 37300.0,
            "deferred_s": 0.0,
            "wait_s": 1200.0,
            "service_s": 0.0,
        },
    ]
    records = [
        SessionRecord(
            session_id=f"s{i}",
            persona_id="p",
            segment={"age_band": "80+"},
            outcome="escalated_to_human",
            data={"queue": q},
        )
        for i, q in enumerate(queues)
    ]
    run = RunData(experiment_name="x", k=1, seed=0, records=records, artifact_dir=tmp_path, facts=facts)
    got = {(m.name, m.segment): m for m in workload_metrics(run)}
    assert got[("human_centered.utilisation.desk", None)].value == pytest.approx(3600 / 86400)
    assert got[("human_centered.requests_handled.desk", None)].value == 2
    assert got[("human_centered.agent_minutes.desk", None)].value == 60
    assert got[("human_centered.lost_to_patience.desk", None)].value == pytest.approx(1 / 3)
    assert got[("human_centered.wait_median_s.desk", None)].value == 300  # median of 0 and 600
    # Waiting: 600 s + 1200 s over 24 h open: 1800/86400 people on average.
    assert got[("human_centered.queue_length_mean.desk", None)].value == pytest.approx(1800 / 86400)
    # Per hour: 10:00-11:00 holds the first service (10:00-10:30) and the second (10:30-11:00).
    assert got[("human_centered.utilisation.desk.h10", None)].value == pytest.approx(1.0)
    assert got[("human_centered.utilisation.desk.h11", None)].value == 0
    assert got[("human_centered.human_reached_under_load", None)].value == pytest.approx(2 / 3)


@pytest.mark.slow
def test_a_staffing_what_if_is_run_and_compared_from_the_command_line(
    journey_spec: Path, store_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from civiclab.cli import main

    common = ["--tracking-uri", store_uri, "run", str(journey_spec), "--json", "--set", "energy.tracker=none"]
    assert main(common) == 0
    base = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert main([*common, "--set", "assistance.france_services.staff=2"]) == 0
    lean = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert main(["--tracking-uri", store_uri, "compare", base["run_id"], lean["run_id"], "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["params_differ"]["pilot.params.assistance.france_services.staff"] == [None, "2"]
    rows = {r["metric"]: r for r in report["rows"] if r["segment"] is None}
    assert rows["human_centered.wait_p90_s.france_services"]["delta"] > 0
    assert rows["human_centered.human_reached_under_load"]["delta"] < 0
    assert main([*common[:4], "--set", "assistance.nowhere.staff=2"]) == 2
    assert "pilot.params.assistance.nowhere" in capsys.readouterr().err
