"""The fast bulk read of a SQL store gives what MLflow's search gives; sessions become observations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from civiclab.records import Metric
from civiclab.reporting.observations import observation_for, read_observations
from civiclab.reporting.runs import metrics_from_tracking
from civiclab.tracking import Tracker, fast_list_runs


def test_fast_read_matches_mlflow_search(tmp_path: Path) -> None:
    tracker = Tracker(f"sqlite:///{tmp_path}/mlflow.db")
    ids = []
    for i in range(3):
        run_id = tracker.start_run(
            "bulk",
            f"r{i}",
            {"a": str(i), "b": "same"},
            {"civiclab.version": "t", "civiclab.status": "finished"},
        )
        tracker.log_metrics(
            run_id,
            [
                Metric(name="x.rate", value=0.1 * i, dimension="x", ci_low=0.0, ci_high=0.5),
                Metric(name="x.rate", value=0.2, dimension="x", segment="age_band=80+"),
                Metric(name="x.nan", value=float("nan"), dimension="x"),
            ],
        )
        ids.append(run_id)
    tracker.start_run("bulk", "not civiclab", {}, {})  # list_runs leaves runs without civiclab.version out
    tracker.start_run("other", "elsewhere", {}, {"civiclab.version": "t"})
    fast = {r.run_id: r for r in fast_list_runs(tracker, "bulk")}
    slow = {r.run_id: r for r in tracker.list_runs("bulk")}
    assert set(fast) == set(slow) == set(ids)
    for run_id in ids:
        f, s = fast[run_id], slow[run_id]
        assert (f.params, f.tags, f.start_time, f.status, f.artifact_uri) == (
            s.params,
            s.tags,
            s.start_time,
            s.status,
            s.artifact_uri,
        )
        assert f.metrics.keys() == s.metrics.keys()
        assert all(
            f.metrics[k] == s.metrics[k] or (np.isnan(f.metrics[k]) and np.isnan(s.metrics[k]))
            for k in f.metrics
        )
    rebuilt = {(m.name, m.segment): m for m in metrics_from_tracking(fast[ids[1]].metrics)}
    assert rebuilt[("x.rate", None)].ci_high == 0.5
    assert rebuilt[("x.rate", "age_band=80plus")].value == 0.2  # as MLflow keys store it
    assert fast_list_runs(tracker, "no such experiment") == []


def test_sessions_become_observations(tmp_path: Path) -> None:
    path = tmp_path / "sessions.jsonl"
    rows = [
        {
            "session_id": "s1",
            "persona_id": "p1",
            "segment": {"territory": "rural"},
            "outcome": "completed",
            "duration_s": 100.0,
            "data": {"fallback_used": False, "satisfaction": 4},
        },
        {
            "session_id": "s2",
            "persona_id": "p2",
            "segment": {"territory": "urban"},
            "outcome": "abandoned",
            "duration_s": 50.0,
            "data": {"fallback_used": True, "satisfaction": 2},
        },
        {
            "session_id": "s3",
            "persona_id": "p1",
            "segment": {"territory": "rural"},
            "outcome": "escalated_to_human",
            "duration_s": 300.0,
            "data": {"satisfaction": None},
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    obs = read_observations(path)
    assert len(obs) == 3
    assert obs.binary["completion_rate"].tolist() == [True, False, False]
    assert obs.binary["resolution_rate"].tolist() == [True, False, True]
    assert obs.binary["fallback_rate"].tolist() == [False, True, False]
    assert np.isnan(obs.numeric["time_on_task_s"][1]) and obs.numeric["time_on_task_s"][0] == 100.0
    assert obs.numeric["data.satisfaction"][:2].tolist() == [4.0, 2.0]
    assert obs.mask("territory=rural").tolist() == [True, False, True]
    assert observation_for("human_centered.abandonment_rate", obs) == ("binary", "abandonment_rate", "mean")
    assert observation_for("human_centered.time_on_task_median_s", obs) == (
        "numeric",
        "time_on_task_s",
        "median",
    )
    assert observation_for("acceptability.satisfaction", obs) == ("numeric", "data.satisfaction", "mean")
    assert observation_for("energy.kwh", obs) is None
    shuffled = tmp_path / "other.jsonl"
    shuffled.write_text("\n".join(json.dumps(r) for r in reversed(rows)) + "\n")
    other = read_observations(shuffled)
    assert obs.pairs_with(other)
    assert other.binary["completion_rate"][other.order_like(obs)].tolist() == [True, False, False]
    rows[0]["persona_id"] = "p9"
    shuffled.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert not obs.pairs_with(read_observations(shuffled))
