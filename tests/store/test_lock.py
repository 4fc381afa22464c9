"""Two runs started together on a new store both succeed (issue 15: store creation race)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from civiclab.store.tracker import Tracker

ROOT = Path(__file__).resolve().parents[2]


# Guards issue 15: on main the second run failed with `duplicate column name: step` or
# `Online migration expected to match one row` (both processes migrated the new store).
@pytest.mark.slow
def test_two_runs_started_at_once_on_a_new_store_both_succeed(journey_spec: Path, tmp_path: Path) -> None:
    raw = yaml.safe_load(journey_spec.read_text(encoding="utf-8"))
    raw["energy"] = {"tracker": "none"}
    journey_spec.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    store = f"sqlite:///{tmp_path / 'new-store' / 'mlflow.db'}"
    command = [sys.executable, "-m", "civiclab.cli", "--tracking-uri", store, "run", str(journey_spec)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = [
        subprocess.Popen(
            [*command, "--sessions", "20", "--seed", str(seed), "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for seed in (1, 2)
    ]
    outcomes = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in runs]
    for p in runs:
        if p.stdout:
            p.stdout.close()
        if p.stderr:
            p.stderr.close()
    assert [code for code, _ in outcomes] == [0, 0], [err[-500:] for _, err in outcomes]
    listed = Tracker(store).list_runs()
    assert sorted(r.params["population.seed"] for r in listed) == ["1", "2"]
    assert all(r.status == "FINISHED" for r in listed)
