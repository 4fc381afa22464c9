"""The fast bulk read of a SQL store gives what MLflow's search gives; sessions become observations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from civiclab.records import Metric
from civiclab.reporting.observations import observation_for, read_observations
from civiclab.reporting.runs import metrics_from_tracking
from civiclab.store.tracker import Tracker


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
    fast = {r.run_id: r for r in tracker.list_runs("bulk")}
    slow = {r.run_id: r for r in Tracker(tracker.uri, fast_reads=False).list_runs("bulk")}
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
    assert tracker.list_runs("no such experiment") == []


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


def _journey_sessions(path: Path, failed: int, fine: int, *, seed: int = 0) -> None:
    """`failed` sessions failed online with a human in reach (all of them), `fine` never failed online."""
    rows = [
        {
            "session_id": f"s{seed + i}",
            "persona_id": "p",
            "segment": {"age_band": "80+" if i % 2 else "25-39"},
            "outcome": "escalated_to_human" if i < failed else "completed",
            "channel_path": ["online_form", "counter"] if i < failed else ["online_form"],
            "duration_s": 10.0,
            "data": {
                "failed_online": i < failed,
                "human_reachable_on_failure": True if i < failed else None,
            },
        }
        for i in range(failed + fine)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")


def test_compare_leaves_out_sessions_a_metric_does_not_apply_to(tmp_path: Path) -> None:
    from civiclab.reporting.compare import _session_test

    _journey_sessions(tmp_path / "a.jsonl", failed=40, fine=160)
    _journey_sessions(tmp_path / "b.jsonl", failed=60, fine=140, seed=1000)
    a, b = read_observations(tmp_path / "a.jsonl"), read_observations(tmp_path / "b.jsonl")
    assert observation_for("human_centered.human_reachable_on_failure", a) == (
        "binary",
        "data.human_reachable_on_failure",
        "mean",
    )
    # 40 of 40 against 60 of 60: the same rate. Counting the 160 and 140 others as "not reachable"
    # made it 0.2 against 0.3, a difference that does not exist.
    result = _session_test("binary", "data.human_reachable_on_failure", "mean", a, b, None)
    assert (result.n_a, result.n_b) == (40, 60)
    assert result.p_value == 1.0 and result.effect == 0.0
    seniors = _session_test("binary", "data.human_reachable_on_failure", "mean", a, b, None, "age_band=80+")
    assert (seniors.n_a, seniors.n_b) == (20, 30)
    assert a.binary["offline_resolution_rate"][a.applies("offline_resolution_rate")].all()
    assert int(a.applies("offline_resolution_rate").sum()) == 40


def test_compare_applies_secondary_suppression_to_segments() -> None:
    from civiclab.privacy.breakdowns import publishable
    from civiclab.records import Metric

    def metric(segment: str | None, n: int) -> Metric:
        return Metric(
            name="human_centered.completion_rate", value=0.5, dimension="human_centered", n=n, segment=segment
        )

    # A run scored before secondary suppression: device=none (3) hidden, but 25 − 10 − 12 would give it away.
    shown = publishable(
        [metric(None, 25), metric("device=computer", 10), metric("device=smartphone", 12)], k=5
    )
    assert [m.segment for m in shown] == [None, "device=smartphone"]
