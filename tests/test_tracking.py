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
