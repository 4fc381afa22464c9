"""The served journey without a browser: codes, consent, the twin, withdrawal, and what the run reads back."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from civiclab.cli import main
from civiclab.plugins.experiment import load_experiment
from pilots.journey.participants.scene import scene_html
from pilots.journey.participants.serve import participant_app
from tests.pilots.participants_support import csrf_of, immersive_spec, invite

FAST = {"energy.tracker": "none"}


def _statements(path: Path) -> int:
    return int(sqlite3.connect(path).execute("select count(*) from statements").fetchone()[0])


def _enrol(client: TestClient, code: str, start: str = "twin", ssq: dict[str, str] | None = None) -> Any:
    token = csrf_of(client.get("/").text)
    enrolled = client.post("/enrol", data={"code": code, "csrf_token": token}, follow_redirects=False)
    assert enrolled.status_code == 303 and enrolled.headers["location"] == "/consent"
    token = csrf_of(client.get("/consent").text)
    agreed = client.post(
        "/consent", data={"agree": "yes", "start": start, "csrf_token": token}, follow_redirects=False
    )
    assert agreed.headers["location"] == "/questions/before"
    token = csrf_of(client.get("/questions/before").text)
    answer = {"action": "answer", **ssq} if ssq else {"action": "skip"}
    return client.post("/questions/before", data={**answer, "csrf_token": token}, follow_redirects=False)


def _answer_after(client: TestClient, ssq: int) -> Any:
    """Rate every SSQ symptom `ssq` on the after page (the IPQ, when shown, at its midpoint)."""
    page = client.get("/questions/after").text
    names = sorted(set(re.findall(r'type="radio" id="[^"]+" name="([^"]+)"', page)))
    fields = {n: str(ssq if n.startswith("SSQ") else 3) for n in names}
    return client.post("/questions/after", data={**fields, "action": "answer", "csrf_token": csrf_of(page)})


def _twin(client: TestClient, step: str, action: str) -> Any:
    token = csrf_of(client.get(f"/twin/{step}").text)
    return client.post(f"/twin/{step}", data={"action": action, "csrf_token": token}, follow_redirects=False)


def test_a_used_and_an_unknown_code_get_the_same_answer_and_the_scene_needs_one(tmp_path: Path) -> None:
    spec = immersive_spec(tmp_path)
    (code,) = invite(tmp_path, 1)
    with participant_app(load_experiment(spec, FAST)) as app:
        first, other = TestClient(app), TestClient(app)
        assert first.get("/scene").status_code == 403  # no code, no scene
        assert first.get("/twin/lobby").status_code == 403
        assert _enrol(first, code).status_code == 303
        answers = []
        for attempt in (code, "ABCD-EFGH-JKMN"):  # used, then unknown
            token = csrf_of(other.get("/").text)
            r = other.post("/enrol", data={"code": attempt, "csrf_token": token}, follow_redirects=False)
            answers.append((r.status_code, r.text.split('<main id="main">')[1]))
        assert answers[0] == answers[1] and answers[0][0] == 422
        assert other.get("/scene").status_code == 403
        # A form without its token is refused.
        r = other.post("/enrol", data={"code": code}, follow_redirects=False)
        assert r.status_code == 400


def test_withdrawal_deletes_the_participants_statements_and_no_one_elses(tmp_path: Path) -> None:
    spec = immersive_spec(tmp_path)
    stays, leaves = invite(tmp_path, 2)
    store = tmp_path / "statements.db"
    with participant_app(load_experiment(spec, FAST)) as app:
        a, b = TestClient(app), TestClient(app)
        _enrol(a, stays)
        assert _twin(a, "lobby", "done").headers["location"] == "/twin/parking_desk"
        kept = _statements(store)
        assert kept == 3  # initialized, attempted lobby, completed lobby
        _enrol(b, leaves, ssq={"SSQPRE[S01]": "1", "SSQPRE[S08]": "0"})
        _twin(b, "lobby", "done")
        assert _statements(store) == 2 * kept
        answers = sqlite3.connect(tmp_path / "survey.db")
        count = "select count(*) from survey_responses where experiment = 'journey_immersive'"
        assert answers.execute(count).fetchone()[0] == 1
        token = csrf_of(b.get("/stop").text)
        r = b.post("/stop", data={"action": "withdraw", "reason": "sickness", "csrf_token": token})
        assert r.status_code == 200 and "4 records" in r.text  # 3 statements and the SSQ answers
        assert _statements(store) == kept
        assert answers.execute(count).fetchone()[0] == 0
        assert b.get("/twin/parking_desk").status_code == 403  # withdrawn: no longer a participant


@pytest.mark.slow
def test_the_run_counts_each_served_session_with_its_outcome_and_channel(
    tmp_path: Path, store_uri: str
) -> None:
    from civiclab.run.runner import run_experiment

    spec = immersive_spec(tmp_path, k=2)  # two people answer the SSQ: shown from k = 2
    done, helped, stopped = invite(tmp_path, 3)
    with participant_app(load_experiment(spec, FAST)) as app:
        a, b, c = TestClient(app), TestClient(app), TestClient(app)
        none = {f"SSQPRE[S{i:02d}]": "0" for i in range(1, 17)}
        _enrol(a, done, ssq=none)
        for step in ("lobby", "parking_desk", "documents_room", "confirm"):
            last = _twin(a, step, "done")
        assert last.headers["location"] == "/finish" and "How do you feel now?" in a.get("/finish").text
        assert "Thank you" in _answer_after(a, 1).text
        _enrol(b, helped)
        _twin(b, "lobby", "done")
        assert "Help is on its way" in _twin(b, "parking_desk", "help").text
        _enrol(c, stopped, start="scene", ssq=none)
        assert c.get("/scene").status_code == 200  # the scene itself needs a browser: stopped at once
        token = csrf_of(c.get("/stop").text)
        c.post("/stop", data={"action": "leave", "reason": "sickness", "csrf_token": token})
        assert (
            "Your presence in the virtual town hall" in c.get("/questions/after").text
        )  # the IPQ: c was in 3D
        _answer_after(c, 2)
    result = run_experiment(load_experiment(spec, FAST), tracking_uri=store_uri)
    by_key = {m.key: m.value for m in result.metrics}
    assert [m.error for m in result.metrics if m.error and m.dimension == "immersion"] == []
    assert by_key["human_centered.completion_rate"] == pytest.approx(1 / 3)
    assert result.artifact_dir is not None
    lines = (result.artifact_dir / "sessions.jsonl").read_text().splitlines()
    records = sorted((json.loads(line) for line in lines), key=lambda r: r["outcome"])
    assert [r["outcome"] for r in records] == ["abandoned", "completed", "escalated_to_human"]
    immersion = [r["data"]["immersive"] for r in records]
    assert [i["started_in"] for i in immersion] == ["immersive_3d", "accessible_twin", "accessible_twin"]
    assert [i["exit_reason"] for i in immersion] == [
        "sickness",
        "finished",
        None,
    ]  # the helped one never left
    assert not any(m.synthetic for m in result.metrics if m.dimension == "human_centered")
    # SSQ by hand: every symptom 0 before; after, all 1 (a) or all 2 (c). Each subscale has 7 symptoms, so the
    # total is 3.74 x 21 x rating: a +78.54, c +157.08, both past the 20-point threshold; c left the 3D part.
    assert by_key["immersion.ssq_change"] == pytest.approx((78.54 + 157.08) / 2)
    assert by_key["immersion.ssq_change_above_threshold"] == 1.0
    assert by_key["immersion.dropout_after_sickness"] == 0.5
    assert by_key["immersion.sickness_exit_rate"] == 1.0 and by_key["immersion.switch_to_twin_rate"] == 0.0
    assert by_key["immersion.exit_reason.sickness"] == 1.0
    assert by_key["immersion.resolution_rate.accessible_twin"] == 1.0
    assert by_key["immersion.resolution_rate.immersive_3d"] == 0.0
    assert by_key["xr_accessibility.requirements_met"] == 1.0
    assert by_key["acceptability.ssq_after.total"] == pytest.approx((3.74 * 21 + 3.74 * 42) / 2)
    # With the usual k = 5, two people's health answers are not shown, even overall.
    again = run_experiment(load_experiment(spec, {**FAST, "privacy.k_anonymity": 5}), tracking_uri=store_uri)
    withheld = {m.key: m for m in again.metrics}
    assert (
        withheld["immersion.ssq_change"].value is None
        and withheld["acceptability.ssq_after.total"].value is None
    )


def test_bad_journey_files_are_one_line_and_exit_2_from_validate_and_serve(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    spec = immersive_spec(tmp_path)
    graph = spec.parent / "data/journey/town_hall.yaml"
    original = yaml.safe_load(graph.read_text())
    cases = {
        "unknown step": ("start", "hall", "start: unknown step 'hall'"),
        "door to nowhere": ("next", "basement", "steps[0].next: unknown step 'basement'"),
        "no way out": ("next", "lobby", "loop through"),
    }
    for name, (field, value, expected) in cases.items():
        broken = yaml.safe_load(yaml.safe_dump(original))
        if field == "start":
            broken["journey"]["start"] = value
        else:
            broken["journey"]["steps"][0 if value != "lobby" else 3]["next"] = value
        graph.write_text(yaml.safe_dump(broken))
        for argv in (["validate", str(spec)], ["journey", "serve", str(spec), "--port", "0"]):
            assert main(argv) == 2, (name, argv)
            err = capsys.readouterr().err.strip()
            assert len(err.splitlines()) == 1 and expected in err and "town_hall.yaml" in err, (name, err)


def test_the_scene_has_a_room_per_immersive_step_doors_help_points_and_the_twin_on_every_step(
    tmp_path: Path,
) -> None:
    from pilots.journey.model import load_journey

    journey = load_journey(Path(__file__).parents[2] / "experiments/data/journey/town_hall.yaml")
    page = scene_html(journey)
    rooms = [s.id for s in journey.steps if s.channel == "immersive_3d"]
    assert [f'id="room-{r}"' in page for r in rooms] == [True] * 4 and 'id="room-web_request"' not in page
    assert page.count('class="door"') == 3 and page.count('class="door fallback"') == 4
    assert page.count('class="help-point"') == 3
    for control in (
        'id="stop"',
        'id="twin"',
        'id="seated"',
        'id="vignette"',
        'id="turn_left"',
        'role="status"',
    ):
        assert control in page
    assert "/static/aframe-v1.8.0.min.js" in page and "http" not in page.split("<a-scene")[0].replace(
        "http-equiv", ""
    )


def test_the_xaur_check_reads_the_generated_scene_and_names_steps_that_fail() -> None:
    from pilots.journey.model import load_journey
    from pilots.journey.participants.xaur import scene_accessibility

    root = Path(__file__).parents[2] / "experiments/data/journey"
    town_hall = scene_accessibility(load_journey(root / "town_hall.yaml"))["steps"]
    assert all(all(checks.values()) for checks in town_hall.values())
    # The housing-benefit hall speaks (audio: true) but writes no caption: its spoken steps fail captions.
    housing = scene_accessibility(load_journey(root / "housing_benefit.yaml"))["steps"]
    assert sorted(s for s, checks in housing.items() if not checks["captions"]) == [
        "enter_town_hall",
        "meet_avatar",
    ]
    assert housing["review_3d"]["captions"] is True  # no speech there
