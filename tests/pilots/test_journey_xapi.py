"""Observe mode reads xAPI as the spec says: voiding, duplicates, results, cmi5 verbs, Groups, 2.0, mapping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from civiclab.errors import SpecError
from civiclab.plugins.experiment import load_experiment
from civiclab.records import SessionRecord
from civiclab.run.runner import run_experiment
from pilots.journey.model import Journey, load_journey
from pilots.journey.xapi import plans_from_statements, session_from_statements
from pilots.journey.xapi_mapping import ActivityMap, StepsMapping, default_mapping
from pilots.journey.xapi_statement import parse_duration
from tests.pilots.xapi_support import BASE, TOOL, W3ID, Writer, voiding

FAST = {"energy.tracker": "none"}


@pytest.fixture
def journey() -> Journey:
    return load_journey(Path(__file__).parents[2] / "experiments/data/journey/housing_benefit.yaml")


def sessions(
    journey: Journey, statements: list[Any], mapping: StepsMapping | None = None, salt: str = "s"
) -> tuple[list[SessionRecord], Any]:
    activities = ActivityMap(mapping or default_mapping(journey), journey)
    plans, observed = plans_from_statements(statements, salt, {}, 1000, activities)
    return [session_from_statements(journey, p) for p in plans], observed


def test_a_voided_completion_no_longer_completes_and_the_voiding_is_recorded(journey: Journey) -> None:
    w = Writer(1)
    w("initialized", BASE)
    done = w("completed", BASE)
    statements = [voiding(done), *w.statements]  # an LRS returns the newest first
    (record,), observed = sessions(journey, statements)
    assert record.outcome == "abandoned"
    assert [e.kind for e in record.events] == ["journey.start", "xapi.voided"]
    assert record.events[-1].payload == {"statement": done["id"]}
    assert record.data["voided_statements"] == 1
    assert observed.report.voided == 1 and observed.report.voiding_statements == 1
    # A voiding statement cannot itself be voided (xAPI 2.3.2), and one whose target was not read is counted.
    w2 = Writer(2)
    w2("initialized", BASE)
    first = voiding(w2("completed", BASE))
    unknown = voiding({"id": "6f1c2a56-0000-4000-8000-000000000000"})
    (record2,), observed2 = sessions(journey, [*w2.statements, first, voiding(first), unknown])
    assert record2.outcome == "abandoned"
    assert observed2.report.voided == 1 and observed2.report.voiding_without_target == 2


def test_duplicates_by_id_are_counted_once(journey: Journey) -> None:
    w = Writer(1)
    w("initialized", BASE)
    w("attempted", f"{BASE}/steps/web_start")
    failed = w("failed", f"{BASE}/steps/web_start")
    (record,), observed = sessions(journey, [*w.statements, dict(failed), dict(failed)])
    assert record.steps[0]["attempts"] == 1
    assert [e.kind for e in record.events].count("step.fail") == 1
    assert observed.report.duplicates_ignored == 2
    assert observed.report.statements_read == 5


def test_result_completion_success_and_duration_are_read(journey: Journey) -> None:
    w = Writer(1)
    w("initialized", BASE)
    w("experienced", f"{BASE}/steps/web_start", {"completion": True, "duration": "PT2M30.5S"})
    w("attempted", f"{BASE}/steps/identity")
    # `completed` but not successful: the step is not done (cmi5 keeps completion and success apart).
    w("completed", f"{BASE}/steps/identity", {"completion": True, "success": False})
    w("progressed", BASE, {"completion": True, "duration": "PT1H"})
    (record,), _ = sessions(journey, w.statements)
    web, identity = record.steps
    assert web["success"] is True and web["time_s"] == 150.5
    assert identity["success"] is False and record.data["failed_online"] is True
    assert record.outcome == "completed"
    assert record.duration_s == 4 * 60  # `progressed` gives no session duration; timestamps do


def test_cmi5_verbs(journey: Journey) -> None:
    w = Writer(1)
    w("launched", BASE)
    w("initialized", BASE)
    w(W3ID + "waived", f"{BASE}/steps/enter_town_hall", {"extensions": {}})
    w("passed", f"{BASE}/steps/web_start", {"success": True})
    w(W3ID + "satisfied", BASE)
    w("terminated", BASE, {"duration": "PT20M"})
    (record,), observed = sessions(journey, w.statements)
    assert record.outcome == "completed"
    assert record.steps[0] == {
        "step": "enter_town_hall",
        "channel": "immersive_3d",
        "attempts": 1,
        "success": True,
        "time_s": 0.0,
        "usable": True,
        "waived": True,
    }
    assert record.duration_s == 1200.0
    assert [e.kind for e in record.events][:2] == ["journey.launch", "journey.start"]
    assert observed.report.verbs["satisfied"] == 1
    # cmi5 `abandoned` after a failed journey: abandoned, and the failure is kept.
    w2 = Writer(2)
    w2("initialized", BASE)
    w2("failed", BASE, {"success": False})
    w2(W3ID + "abandoned", BASE)
    (record2,), _ = sessions(journey, w2.statements)
    assert record2.outcome == "abandoned" and record2.data["journey_failed"] is True


def test_group_actors_are_accepted_and_pseudonymised(journey: Journey) -> None:
    identified = Writer(
        1, {"objectType": "Group", "account": {"homePage": "https://lms.example", "name": "team-7"}}
    )
    identified("initialized", BASE)
    identified("completed", BASE)
    members = [
        {"mbox": "mailto:ana@example.org"},
        {"account": {"homePage": "https://id.example", "name": "42"}},
    ]
    anonymous = Writer(2, {"objectType": "Group", "name": "Famille Martin", "member": members})
    anonymous("initialized", BASE)
    records, observed = sessions(journey, identified.statements + anonymous.statements)
    assert [r.data["actor_kind"] for r in records] == ["group", "anonymous_group"]
    assert records[1].data["group_members"] == 2
    assert observed.report.actors == {"anonymous_group": 1, "group": 1}
    text = json.dumps([r.model_dump(mode="json") for r in records])
    for personal in ("team-7", "ana@", "example.org", "Martin", '"42"'):
        assert personal not in text
    assert records[0].persona_id.startswith("p-")
    # The pseudonym depends on the salt: another lab's salt gives another one.
    other, _ = sessions(journey, identified.statements, salt="other")
    assert other[0].persona_id != records[0].persona_id
    # An anonymous Group without members cannot be told apart from any other: rejected, with the field.
    bad = Writer(3, {"objectType": "Group", "name": "x"})
    bad("initialized", BASE)
    _, observed = sessions(journey, bad.statements)
    assert [(p.index, p.field) for p in observed.problems] == [(0, "actor.member")]


def test_xapi_2_statements_are_read(journey: Journey) -> None:
    w = Writer(1, version="2.0.0")
    w("initialized", BASE)
    st = w("completed", BASE)
    st["context"]["contextAgents"] = [
        {"objectType": "contextAgent", "agent": {"mbox": "mailto:m@example.org"}}
    ]
    # Another tool of the same session writes UTC: 10:01:30Z falls between 11:01+01:00 and 11:02+01:00.
    other = w("attempted", f"{BASE}/steps/web_start")
    other["timestamp"] = "2026-03-02T10:01:30Z"
    (record,), observed = sessions(journey, w.statements)
    assert record.outcome == "completed"
    assert [e.kind for e in record.events] == ["journey.start", "step.enter", "journey.complete"]
    assert record.duration_s == 60.0  # +01:00 offsets read as such
    assert observed.report.versions == {"2.0.0": 3}


def test_completed_on_a_video_does_not_complete_the_journey(journey: Journey) -> None:
    w = Writer(1)
    w("initialized", BASE)
    w("completed", "https://videos.example/housing-benefit-explained.mp4")
    (record,), observed = sessions(journey, w.statements)
    assert record.outcome == "abandoned"
    assert record.data["unmapped_statements"] == 1
    assert observed.report.unmapped_examples == ["https://videos.example/housing-benefit-explained.mp4"]


def test_steps_mapping_by_id_prefix_regex_and_type(journey: Journey) -> None:
    mapping = StepsMapping.model_validate(
        {
            "journey": {"id": TOOL},
            "map": [
                {"step": "web_start", "id": f"{TOOL}/sco/1"},
                {"step": "identity", "prefix": f"{TOOL}/sco/2/"},
                {"regex": r"/lesson-(?P<step>household|income)$"},
                {"step": "enter_town_hall", "type": "http://id.tincanapi.com/activitytype/vr-scene"},
            ],
            "assistance": [{"point": "france_services", "prefix": "https://chat.example/"}],
        }
    )
    w = Writer(1)
    w("initialized", TOOL)
    w("experienced", f"{TOOL}/scene/hall", activity_type="http://id.tincanapi.com/activitytype/vr-scene")
    w("passed", f"{TOOL}/sco/1")
    w("passed", f"{TOOL}/sco/2/page-3")
    w("passed", f"{TOOL}/lesson-household")
    w("passed", f"{TOOL}/lesson-income")
    w("completed", f"{TOOL}/lesson-intro")  # not mapped: reported, and no outcome
    w("asked", "https://chat.example/session/9")
    (record,), observed = sessions(journey, w.statements, mapping)
    assert [s["step"] for s in record.steps] == [
        "enter_town_hall",
        "web_start",
        "identity",
        "household",
        "income",
    ]
    assert record.outcome == "escalated_to_human"
    assert observed.report.unmapped_statements == 1
    with pytest.raises(ValidationError, match="exactly one of id, prefix, regex, type"):
        StepsMapping.model_validate({"journey": {"id": TOOL, "prefix": TOOL}})
    with pytest.raises(ValidationError, match="step: required"):
        StepsMapping.model_validate({"journey": {"id": TOOL}, "map": [{"regex": "x"}]})


def test_a_mapping_to_an_unknown_step_is_a_spec_error(journey_spec: Path) -> None:
    data = yaml.safe_load(journey_spec.read_text())
    data["pilot"]["params"] = {
        "mode": "observe",
        "journey": "data/journey/housing_benefit.yaml",
        "statements": "data/journey/xapi_statements.jsonl",
        "steps": {"journey": {"id": TOOL}, "map": [{"step": "identty", "id": f"{TOOL}/1"}]},
    }
    journey_spec.write_text(yaml.safe_dump(data))
    with pytest.raises(SpecError, match=r"pilot\.params\.steps\.map\[0\]\.step: unknown step 'identty'"):
        load_experiment(journey_spec, FAST)


@pytest.mark.slow
def test_unmapped_activities_are_reported_in_the_run(journey_spec: Path, store_uri: str) -> None:
    statements: list[dict[str, Any]] = []
    for i in range(6):
        w = Writer(i)
        w("initialized", BASE)
        w("completed", f"https://videos.example/v{i % 2}.mp4")
        if i % 2:
            w("completed", BASE)
        statements += w.statements
    path = journey_spec.parent / "data/journey/tool.json"
    path.write_text(json.dumps(statements))
    data = yaml.safe_load(journey_spec.read_text())
    data["pilot"]["params"] = {
        "mode": "observe",
        "journey": "data/journey/housing_benefit.yaml",
        "statements": "data/journey/tool.json",
    }
    journey_spec.write_text(yaml.safe_dump(data))
    result = run_experiment(load_experiment(journey_spec, FAST), tracking_uri=store_uri)
    values = {m.key: m.value for m in result.metrics}
    assert values["human_centered.completion_rate"] == pytest.approx(0.5)
    # Observed sessions are evidence about people: not marked SYNTHETIC as simulated ones are.
    assert not any(m.synthetic for m in result.metrics if m.dimension == "human_centered")
    assert not any(s.startswith("human_centered") for s in result.scorecard.synthetic)
    assert result.artifact_dir is not None
    report = json.loads((result.artifact_dir / "xapi_report.json").read_text())
    assert report["unmapped_statements"] == 6 and report["unmapped_activities"] == 2
    assert sorted(report["unmapped_examples"]) == [
        "https://videos.example/v0.mp4",
        "https://videos.example/v1.mp4",
    ]
    assert "example.org" not in (result.artifact_dir / "sessions.jsonl").read_text()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT1H30M", 5400.0),
        ("P1DT2S", 86402.0),
        ("PT0,5S", 0.5),
        ("P2W", 1209600.0),
        ("P1M", None),
        ("PT", None),
    ],
)
def test_iso_8601_durations(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


def test_params_are_strict_and_a_password_cannot_be_written_in_the_spec(journey_spec: Path) -> None:
    data = yaml.safe_load(journey_spec.read_text())
    data["pilot"]["params"] = {
        "mode": "observe",
        "journey": "data/journey/housing_benefit.yaml",
        "lrs": {"url": "https://lrs.example/xAPI/", "password": "hunter2"},
    }
    journey_spec.write_text(yaml.safe_dump(data))
    with pytest.raises(SpecError, match=r"pilot\.params\.lrs\.password") as caught:
        load_experiment(journey_spec, FAST)
    assert "hunter2" not in str(caught.value)
    data["pilot"]["params"]["lrs"] = {"url": "https://lrs.example/xAPI/"}
    data["pilot"]["params"]["statements"] = "data/journey/xapi_statements.jsonl"
    journey_spec.write_text(yaml.safe_dump(data))
    with pytest.raises(SpecError, match="exactly one of statements, lrs or store"):
        load_experiment(journey_spec, FAST)
