"""A journey observed from a real LRS (Ralph on 127.0.0.1), through the real CLI and runner."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from civiclab.cli import main
from civiclab.store.tracker import Tracker
from tests.pilots.ralph_support import running_ralph
from tests.pilots.xapi_support import BASE, W3ID, Writer, voiding


@pytest.fixture
def ralph(tmp_path: Path) -> Any:
    """A Ralph LRS on 127.0.0.1; its tests are marked `lrs` (the tier's tool is checked before them)."""
    with running_ralph(tmp_path) as server:
        yield server


def observed_spec(journey_spec: Path, lrs: dict[str, Any]) -> Path:
    data = yaml.safe_load(journey_spec.read_text())
    data["pilot"]["params"] = {"mode": "observe", "journey": "data/journey/housing_benefit.yaml", "lrs": lrs}
    data["energy"] = {"tracker": "none"}
    data.pop("survey", None)
    journey_spec.write_text(yaml.safe_dump(data))
    return journey_spec


def lab_statements() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Five registrations as a VR tool and an LMS would send them, and the statement to send twice."""
    voided = Writer(1)
    voided("initialized", BASE)
    voided("passed", f"{BASE}/steps/web_start")
    done = voided("completed", BASE)
    family = Writer(
        2,
        {
            "objectType": "Group",
            "name": "Famille Martin",
            "member": [{"mbox": "mailto:ana.martin@example.org"}, {"mbox": "mailto:leo.martin@example.org"}],
        },
    )
    family("launched", BASE)
    family("initialized", BASE)
    family(W3ID + "satisfied", BASE)
    helped = Writer(3)
    helped("initialized", BASE)
    attempt = helped("attempted", f"{BASE}/steps/identity")
    helped("failed", f"{BASE}/steps/identity", {"success": False, "duration": "PT4M"})
    helped("https://w3id.org/civiclab/xapi/verbs/escalated", f"{BASE}/assistance/france_services")
    video = Writer(4)
    video("initialized", BASE)
    video("completed", "https://videos.example/housing-benefit.mp4")
    online = Writer(5, {"objectType": "Agent", "account": {"homePage": "https://id.example", "name": "u-77"}})
    online("initialized", BASE)
    online("passed", f"{BASE}/steps/web_start", {"success": True, "duration": "PT2M"})
    online("completed", BASE, {"completion": True, "duration": "PT15M"})
    statements = [
        *voided.statements,
        *family.statements,
        *helped.statements,
        *video.statements,
        *online.statements,
        voiding(done),
    ]
    return statements, attempt


@pytest.mark.lrs
def test_a_journey_is_observed_from_ralph(
    ralph: Any,
    journey_spec: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    statements, twice = lab_statements()
    assert len(ralph.post(statements)) == len(statements)
    ralph.post([twice])  # the same statement again: one attempt, however often it is sent
    monkeypatch.setenv("LAB_LRS", ralph.credentials)
    spec = observed_spec(journey_spec, {"url": ralph.url, "auth_env": "LAB_LRS", "page_size": 4})
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    assert main(["run", str(spec), "--tracking-uri", uri, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["sessions"] == 5
    metrics = summary["metrics"]
    # Completed: the family (cmi5 satisfied) and the account holder; the voided completion does not count.
    assert metrics["human_centered.completion_rate"] == pytest.approx(2 / 5)
    assert metrics["human_centered.escalation_rate"] == pytest.approx(1 / 5)
    assert metrics["human_centered.abandonment_rate"] == pytest.approx(2 / 5)
    folder = Tracker(uri).local_artifact_dir(summary["run_id"])
    assert folder is not None
    report = json.loads((folder / "xapi_report.json").read_text())
    assert report["source"] == "lrs"
    assert report["statements_read"] == len(statements)  # paged 4 by 4 through `more`
    assert report["voided"] == 1 and report["voiding_statements"] == 1
    assert report["unmapped_examples"] == ["https://videos.example/housing-benefit.mp4"]
    assert report["actors"] == {"agent": 4, "anonymous_group": 1}
    sessions = [json.loads(line) for line in (folder / "sessions.jsonl").read_text().splitlines()]
    first = sessions[0]
    assert first["outcome"] == "abandoned" and first["data"]["voided_statements"] == 1
    assert [e["kind"] for e in first["events"]][-1] == "xapi.voided"
    helped = next(s for s in sessions if s["outcome"] == "escalated_to_human")
    assert helped["steps"][0]["time_s"] == 240.0  # result.duration, not the gap between timestamps
    assert helped["steps"][0]["attempts"] == 1
    assert report["duplicates_ignored"] == 0  # Ralph keeps one copy itself (the file test covers ours)
    archive = (folder / "xapi_lrs_statements.jsonl").read_text()
    assert len(archive.splitlines()) == len(statements)
    for name in ("xapi_lrs_statements.jsonl", "sessions.jsonl", "audit.jsonl", "xapi_report.json"):
        text = (folder / name).read_text()
        for personal in ("example.org", "Martin", "u-77", "secret"):
            assert personal not in text, (name, personal)


def test_an_unreachable_lrs_is_one_line(
    journey_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    spec = observed_spec(
        journey_spec, {"url": f"http://127.0.0.1:{port}/xAPI/", "retries": 1, "timeout_s": 2}
    )
    assert main(["run", str(spec), "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        err[-1]
        == f"civiclab: error: LRS http://127.0.0.1:{port}/xAPI/statements: unreachable after 2 tries (ConnectError)"
    )


def test_missing_credentials_are_one_line(
    journey_spec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = observed_spec(journey_spec, {"url": "http://127.0.0.1:9/xAPI/", "auth_env": "NO_SUCH_LRS_VAR"})
    assert main(["run", str(spec), "--tracking-uri", f"sqlite:///{tmp_path / 'm.db'}"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.endswith("environment variable NO_SUCH_LRS_VAR must hold user:password (it is not set)")
