"""Every assistant session an MLflow trace of its run, with the evaluators' grades as assessments,
read back through MLflow's own API (a SQLite store here; the PostgreSQL server in tests/integration)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from civiclab.plugins.experiment import load_experiment
from civiclab.run.runner import run_experiment
from civiclab.store.tracker import Tracker
from pilots.assistant.standin import serve
from tests.pilots.assistant_support import DATA, write_spec
from tests.pilots.byo_support import byo_spec, http_system, scenario_values

pytestmark = pytest.mark.slow


def read_traces(uri: str, run_id: str) -> list[Any]:
    import mlflow

    mlflow.set_tracking_uri(uri)
    experiment_id = mlflow.get_run(run_id).info.experiment_id
    return mlflow.search_traces(
        locations=[experiment_id], run_id=run_id, return_type="list", max_results=1000
    )


def sessions_of(folder: Path) -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in (folder / "sessions.jsonl").read_text().splitlines()]
    return {row["session_id"]: row for row in rows}


def span(trace: Any, name: str) -> Any:
    return next(s for s in trace.data.spans if s.name == name)


def check_traces(
    uri: str, result: Any, sessions: int, folder: Path | None = None
) -> tuple[list[Any], dict[str, dict[str, Any]]]:
    """What every run's traces must show, whatever the system: one per session, the turns, the grades."""
    folder = folder or Path(result.artifact_dir)
    records = sessions_of(folder)
    traces = read_traces(uri, result.run_id)
    listed = json.loads((folder / "traces.json").read_text())["traces"]
    assert len(traces) == sessions == len(listed)
    assert {t.info.trace_id for t in traces} == set(listed.values())
    for trace in traces:
        session = trace.info.tags["civiclab.session"]
        assert listed[session] == trace.info.trace_id
        turns = records[session]["data"]["turns"]
        for index, turn in enumerate(turns):
            assert span(trace, f"turn {index}").inputs["question"] == turn["question"]
            assert span(trace, f"turn {index}").outputs["answer"] == turn["answer"]
            assert span(trace, f"turn {index} hand-over").outputs["decision"] == turn["decision"]
        # The hand-over grade of each turn is the record's decision against the expected one.
        grades = [a for a in trace.info.assessments if a.name == "handover_correct"]
        assert len(grades) == len(turns)
        by_span = {a.span_id: a for a in grades}
        for index, turn in enumerate(turns):
            grade = by_span[span(trace, f"turn {index}").span_id]
            assert grade.value is (turn["decision"] == turn["expected"])
            assert grade.rationale and grade.source.source_id == "civiclab.evaluators.assistant"
    text = "\n".join(t.to_json() for t in traces)
    assert [v for v in scenario_values() if v in text] == []  # redacted before logging
    return traces, records


def test_a_built_in_run_logs_each_session_as_a_trace_with_sources_shap_and_grades(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, send_personal_data=False)
    uri = f"sqlite:///{tmp_path}/m.db"
    experiment = load_experiment(spec)
    result = run_experiment(experiment, tracking_uri=uri)
    traces, records = check_traces(uri, result, experiment.spec.population.sessions)
    trace = traces[0]
    turn = records[trace.info.tags["civiclab.session"]]["data"]["turns"][0]
    documents = span(trace, "turn 0 retrieval").outputs
    assert [d["metadata"]["doc_uri"] for d in documents] == [r["sheet"] for r in turn["retrieved"]]
    routed = span(trace, "turn 0 hand-over").outputs
    assert routed["shap"] == pytest.approx(turn["shap"]) and routed["explanation"] == turn["explanation"]
    # verify covers the list of traces: it is one of the signed files.
    from civiclab.evidence.verify.manifestcheck import verify_run_manifest

    assert verify_run_manifest(Tracker(uri), result.run_id).ok
    listed = Path(result.artifact_dir) / "traces.json"
    swapped = json.loads(listed.read_text())
    first, second = list(swapped["traces"])[:2]
    swapped["traces"][first], swapped["traces"][second] = swapped["traces"][second], swapped["traces"][first]
    listed.write_text(json.dumps(swapped, indent=1))  # two sessions' traces exchanged after the run
    tampered = verify_run_manifest(Tracker(uri), result.run_id, strict=False)
    assert not tampered.ok and "traces.json" in (tampered.problem or "")


def test_an_external_system_echoing_personal_data_is_traced_redacted(tmp_path: Path) -> None:
    with serve(DATA / "knowledge_base.yaml", mode="echo") as url:
        spec = byo_spec(tmp_path, http_system(url), sessions=20, send_personal_data=True)
        uri = f"sqlite:///{tmp_path}/m.db"
        result = run_experiment(load_experiment(spec), tracking_uri=uri)
    check_traces(uri, result, 20)
