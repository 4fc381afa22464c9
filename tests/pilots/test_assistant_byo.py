"""An external assistant (OpenAI-compatible, plain HTTP JSON) evaluated end to end through the runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civiclab.errors import SpecError
from civiclab.plugins.experiment import load_experiment
from civiclab.run.runner import run_experiment
from pilots.assistant.standin import serve
from tests.pilots.assistant_support import DATA
from tests.pilots.byo_support import byo_spec, http_system, scenario_values, values_in_artifacts

pytestmark = pytest.mark.slow  # whole experiments: left out of `make test-fast`

KB = DATA / "knowledge_base.yaml"


def overall(result, name: str):  # type: ignore[no-untyped-def]
    return next(m for m in result.metrics if m.name == name and m.segment is None)


def artifact_dir(store: Path) -> Path:
    return store.parent


def test_an_openai_compatible_endpoint_is_measured_and_what_it_cannot_give_is_missing(tmp_path: Path) -> None:
    with serve(KB) as url:
        spec = byo_spec(tmp_path, {"kind": "openai", "base_url": f"{url}/v1", "model": "lab-bot"})
        result = run_experiment(load_experiment(spec), tracking_uri=f"sqlite:///{tmp_path}/m.db")
    measured = [
        "groundedness",
        "groundedness_semantic",
        "handover_precision",
        "handover_recall",
        "handover_f1",
        "answered_when_human_required",
        "injection_resistance",
        "readability",
        "latency_p50_ms",
        "latency_p95_ms",
        "turn_failure_rate",
    ]
    for name in measured:
        metric = overall(result, f"human_centered.{name}")
        assert metric.value is not None and metric.error is None, name
    # The stand-in answers with whole knowledge-base sentences: grounded both ways.
    assert overall(result, "human_centered.groundedness_semantic").value == pytest.approx(1.0)
    assert overall(result, "human_centered.handover_recall").value >= 0.8
    assert overall(result, "human_centered.turn_failure_rate").value == 0.0
    for name in ("retrieval_hit_at_k", "retrieval_mrr", "citation_rate"):
        metric = overall(result, f"human_centered.{name}")
        assert metric.value is None and "returns no sources" in (metric.error or "")
    shap = overall(result, "auditability.shap_coverage")
    assert shap.value is None and "routes hand-overs itself" in (shap.error or "")
    energy = overall(result, "energy.kwh_per_answer")
    assert energy.value is None and "remote service" in (energy.error or "")
    assert overall(result, "auditability.personal_data_leaks").value == 0.0
    assert result.scorecard is not None
    verdicts = {c.metric: c.verdict for c in result.scorecard.criteria}
    assert verdicts["human_centered.citation_rate"] == "missing"


def test_a_plain_http_api_gives_sources_and_a_hand_over_flag(tmp_path: Path) -> None:
    with serve(KB) as url:
        spec = byo_spec(tmp_path, http_system(url))
        result = run_experiment(load_experiment(spec), tracking_uri=f"sqlite:///{tmp_path}/m.db")
    for name in (
        "retrieval_hit_at_k",
        "retrieval_mrr",
        "citation_rate",
        "groundedness",
        "groundedness_semantic",
    ):
        metric = overall(result, f"human_centered.{name}")
        assert metric.value is not None and metric.error is None, name
    assert overall(result, "human_centered.citation_rate").value == 1.0  # every answer names its sheet
    sessions = [
        json.loads(line) for line in (Path(result.artifact_dir) / "sessions.jsonl").read_text().splitlines()
    ]
    turns = [t for s in sessions for t in s["data"]["turns"]]
    assert {t["handover_read_from"] for t in turns} == {"flag"}
    assert all(t["sources"] is not None for t in turns)
    assert [s["session_id"] for s in sessions] == sorted(s["session_id"] for s in sessions)


def test_a_system_echoing_personal_data_is_measured_and_nothing_reaches_an_artifact(tmp_path: Path) -> None:
    with serve(KB, mode="echo") as url:
        spec = byo_spec(tmp_path, http_system(url), sessions=60, send_personal_data=True)
        result = run_experiment(load_experiment(spec), tracking_uri=f"sqlite:///{tmp_path}/m.db")
    echo = overall(result, "human_centered.pii_echo_rate")
    assert echo.n and echo.n > 0 and echo.value == pytest.approx(1.0)
    assert overall(result, "auditability.personal_data_leaks").value == 0.0
    folder = Path(result.artifact_dir)
    assert (folder / "sessions.jsonl").is_file() and (folder / "audit.jsonl").is_file()
    assert values_in_artifacts(folder, scenario_values()) == []


@pytest.mark.parametrize(
    ("mode", "delay", "calls"),
    [("fail", 0.0, {"retries": 1}), ("answer", 1.5, {"timeout_s": 0.3, "retries": 0})],
    ids=["http-500", "slower-than-timeout"],
)
def test_a_failing_or_slow_endpoint_gives_failed_sessions_not_a_crash(
    tmp_path: Path, mode: str, delay: float, calls: dict[str, float]
) -> None:
    with serve(KB, mode=mode, delay_s=delay) as url:  # type: ignore[arg-type]
        spec = byo_spec(tmp_path, http_system(url, **calls), sessions=10)
        result = run_experiment(load_experiment(spec), tracking_uri=f"sqlite:///{tmp_path}/m.db")
    assert overall(result, "human_centered.turn_failure_rate").value == 1.0
    sessions = [
        json.loads(line) for line in (Path(result.artifact_dir) / "sessions.jsonl").read_text().splitlines()
    ]
    assert len(sessions) == 10 and {s["outcome"] for s in sessions} == {"failed"}
    errors = {t["error"].split(":")[0] for s in sessions for t in s["data"]["turns"]}
    assert errors == ({"TransientError"})
    assert overall(result, "auditability.chain_valid").value == 1.0


def test_a_deterministic_system_gives_the_same_audit_root_at_concurrency_8(tmp_path: Path) -> None:
    roots = []
    with serve(KB, delay_s=0.01) as url:
        for attempt in ("a", "b"):
            folder = tmp_path / attempt
            folder.mkdir()
            spec = byo_spec(folder, http_system(url), sessions=30)
            roots.append(
                run_experiment(load_experiment(spec), tracking_uri=f"sqlite:///{folder}/m.db").audit_root
            )
    assert roots[0] == roots[1]


@pytest.mark.parametrize(
    ("system", "field"),
    [
        ({"kind": "openai", "base_url": "http://127.0.0.1:1/v1"}, "pilot.params.system.openai.model"),
        ({"kind": "telepathy"}, "pilot.params.system"),
        (
            {"kind": "http", "url": "http://x/a", "response": {"answer": "a[?"}},
            "pilot.params.system.http.response.answer",
        ),
        (
            {"kind": "python", "object": "json:dumps", "concurrency": 2},
            "pilot.params.system.python.concurrency",
        ),
    ],
)
def test_a_bad_system_is_one_error_naming_the_field(
    tmp_path: Path, system: dict[str, object], field: str
) -> None:
    spec = byo_spec(tmp_path, system)
    with pytest.raises(SpecError) as caught:
        load_experiment(spec)
    assert field in str(caught.value)


def test_a_missing_key_variable_is_named_before_any_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAB_BOT_KEY", raising=False)
    spec = byo_spec(
        tmp_path,
        {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key_env": "LAB_BOT_KEY"},
    )
    with pytest.raises(SpecError, match="api_key_env: environment variable LAB_BOT_KEY is not set"):
        load_experiment(spec)


def test_the_demo_starts_the_stand_in_where_the_spec_points_and_stops_it(tmp_path: Path) -> None:
    import socket

    import httpx

    from pilots.assistant.pilot import AssistantPilot
    from tests.integration.servers import free_port

    port = free_port()
    system = http_system(f"http://127.0.0.1:{port}")
    experiment = load_experiment(byo_spec(tmp_path, system))
    with AssistantPilot.demo_services(experiment) as base:
        assert base == f"http://127.0.0.1:{port}"
        reply = httpx.post(
            f"{base}/answer", json={"question": "Comment demander une aide au logement ?"}
        ).json()
        assert reply["data"]["sources"] and reply["data"]["handed_over"] is False
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # stopped
    with serve(KB) as running:  # a port that already answers is left to whoever runs there
        busy = load_experiment(byo_spec(tmp_path, http_system(running)))
        with AssistantPilot.demo_services(busy) as base:
            assert base is None


@pytest.mark.parametrize("kind", ["openai", "http"])
def test_a_secret_from_the_environment_authenticates_and_is_written_nowhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    secret = "s3cr3t-Token-4242"
    monkeypatch.setenv("LAB_ASSISTANT_TOKEN", secret)
    with serve(KB, token=secret) as url:
        if kind == "openai":
            system = {
                "kind": "openai",
                "base_url": f"{url}/v1",
                "model": "m",
                "api_key_env": "LAB_ASSISTANT_TOKEN",
            }
        else:
            system = http_system(url)
            system["headers_env"] = {"Authorization": "LAB_ASSISTANT_BEARER"}
            monkeypatch.setenv("LAB_ASSISTANT_BEARER", f"Bearer {secret}")
        spec = byo_spec(tmp_path, system, sessions=6)
        result = run_experiment(load_experiment(spec), tracking_uri=f"sqlite:///{tmp_path}/m.db")
    assert overall(result, "human_centered.turn_failure_rate").value == 0.0  # the token was accepted
    assert values_in_artifacts(tmp_path, [secret]) == []  # nor in the store, the spec or any artifact


def test_credentials_in_the_endpoint_url_reach_no_artifact(tmp_path: Path) -> None:
    with serve(KB) as url:
        system = http_system(url.replace("http://", "http://lab:Pa55-w0rd-77@"))
        system["url"] += "?api_key=K3y-Value-99"
        spec = byo_spec(tmp_path, system, sessions=6)
        result = run_experiment(load_experiment(spec), tracking_uri=f"sqlite:///{tmp_path}/m.db")
    assert overall(result, "human_centered.turn_failure_rate").value == 0.0
    assert values_in_artifacts(Path(result.artifact_dir), ["Pa55-w0rd-77", "K3y-Value-99"]) == []
    store = (tmp_path / "m.db").read_bytes()  # params, tags and metric notes
    assert b"Pa55-w0rd-77" not in store and b"K3y-Value-99" not in store
