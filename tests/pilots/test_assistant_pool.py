"""A lab's own assistant in the process pool: each worker its own dispatcher, the same evidence as serially."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civiclab.plugins.experiment import load_experiment
from civiclab.run.runner import run_experiment
from pilots.assistant.standin import serve
from tests.pilots.assistant_support import DATA
from tests.pilots.byo_support import byo_spec, http_system

pytestmark = pytest.mark.slow


def test_a_deterministic_system_gives_the_same_audit_root_in_a_pool_as_serially(tmp_path: Path) -> None:
    results = {}
    with serve(DATA / "knowledge_base.yaml", delay_s=0.01) as url:
        for workers in (1, 2):
            folder = tmp_path / f"w{workers}"
            folder.mkdir()
            spec = byo_spec(folder, http_system(url, concurrency=4), sessions=16, evaluators=["auditability"])
            results[workers] = run_experiment(
                load_experiment(spec), tracking_uri=f"sqlite:///{folder}/m.db", workers=workers
            )
    assert results[2].audit_root == results[1].audit_root
    serial, pooled = (
        (Path(results[w].artifact_dir or "") / "sessions.jsonl").read_text().splitlines() for w in (1, 2)
    )
    drop = ("timings",)
    strip = lambda line: {k: v for k, v in json.loads(line).items() if k not in drop}  # noqa: E731
    assert [strip(x) for x in pooled] == [strip(x) for x in serial]
    assert {json.loads(x)["outcome"] for x in pooled} <= {"completed", "escalated_to_human"}


def test_a_rate_limited_system_stays_in_one_process(tmp_path: Path) -> None:
    """A rate limit is one budget for the whole run: a pool would multiply it by its workers."""
    from civiclab.run.sessions import build_pilot

    url = "http://127.0.0.1:9"  # never called: the pilot is only built
    limited = byo_spec(tmp_path, http_system(url, rate_limit_per_s=5.0), sessions=8)
    assert build_pilot(load_experiment(limited)).parallel is False
    free = byo_spec(tmp_path, http_system(url), sessions=8)
    assert build_pilot(load_experiment(free)).parallel is True
