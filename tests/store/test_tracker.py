"""The tracking module: where the store is, and what it changes in the process (only when used)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from civiclab.store.tracker import Tracker, spec_tracking_uri


def test_a_relative_sqlite_uri_in_a_spec_is_relative_to_the_spec_file(tmp_path: Path) -> None:
    lab = tmp_path / "lab"
    assert spec_tracking_uri("sqlite:///mlruns/mlflow.db", lab) == f"sqlite:///{lab / 'mlruns' / 'mlflow.db'}"
    assert spec_tracking_uri("sqlite:////srv/store/mlflow.db", lab) == "sqlite:////srv/store/mlflow.db"
    assert spec_tracking_uri("http://mlflow.lab:5000", lab) == "http://mlflow.lab:5000"
    assert spec_tracking_uri(None, lab) is None


@pytest.mark.slow
def test_importing_tracking_leaves_the_environment_alone_opening_a_store_sets_it(tmp_path: Path) -> None:
    script = (
        "import json, os, sys\n"
        "import civiclab.store.tracker as t\n"
        "before = {k: os.environ.get(k) for k in t.MLFLOW_ENVIRONMENT}\n"
        "t.Tracker(sys.argv[1])\n"
        "after = {k: os.environ.get(k) for k in t.MLFLOW_ENVIRONMENT}\n"
        "print(json.dumps([before, after]))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK")}
    env.pop("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", None)
    env.pop("GIT_PYTHON_REFRESH", None)
    out = subprocess.run(
        [sys.executable, "-c", script, f"sqlite:///{tmp_path / 'mlflow.db'}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    before, after = json.loads(out.stdout)
    assert set(before.values()) == {None}
    assert after["MLFLOW_DISABLE_TELEMETRY"] == "true" and after["DO_NOT_TRACK"] == "true"
    assert Tracker(f"sqlite:///{tmp_path / 'mlflow.db'}").list_runs() == []


def test_sql_reads_give_what_mlflow_gives_in_the_same_order(tmp_path: Path) -> None:
    """Runs opened within the same millisecond are ordered as MLflow orders them (by id), and a
    cut-off list is the same newest runs."""
    import pytest

    from civiclab.store.access import RunNotFound
    from civiclab.store.schema import STATUS_TAG, VERSION_TAG

    tracker = Tracker(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow_only = Tracker(tracker.uri, fast_reads=False)
    for i in range(6):
        tracker.start_run(
            "one" if i % 2 else "two", f"r{i}", {"i": str(i)}, {VERSION_TAG: "t", STATUS_TAG: "x"}
        )
    tracker.start_run("one", "not civiclab", {}, {})
    tracker.start_run("one", "empty version", {}, {VERSION_TAG: ""})
    for experiment in (None, "one", "two", "none such"):
        for limit in (1, 2, 1000):
            assert tracker.list_runs(experiment, limit) == mlflow_only.list_runs(experiment, limit)
    listed = tracker.list_runs()
    assert len(listed) == 6
    heads = tracker.list_run_heads([STATUS_TAG], "one")
    assert [h.run_id for h in heads] == [r.run_id for r in tracker.list_runs("one")]
    assert all(h.tags == {STATUS_TAG: "x"} and h.metrics == h.params == {} for h in heads)
    with pytest.raises(RunNotFound):
        tracker.get_run("0" * 32)
    with pytest.raises(RunNotFound):
        mlflow_only.get_run("0" * 32)
