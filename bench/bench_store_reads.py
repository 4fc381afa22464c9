"""Store benchmark: the Tracker's reads on a SQLite store of many runs, its SQL path against MLflow's API.

Logs --runs runs (100 params, 28 tags, --metrics metrics with intervals each; a quarter in a second
experiment) into a fresh SQLite store, then times, with `Tracker(uri)` (reads MLflow's tables) and
`Tracker(uri, fast_reads=False)` (MLflow's API only), the best of a few calls of: `get_run` of one run,
`list_runs` of one experiment (what compare reads), `list_run_heads` of the whole store with two tags
(the desk's runs page), `list_runs()` (civiclab runs) and `mark_orphans_failed` (before every run).
The ratio is the MLflow API (the baseline) over the SQL path. Both paths give the same runs (tests/store/test_tracker.py checks it); only the time differs.

Usage: python bench/bench_store_reads.py [--runs 400] [--metrics 300] [--store DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from civiclab.records import Metric  # noqa: E402
from civiclab.run.lifecycle import mark_orphans_failed  # noqa: E402
from civiclab.store.schema import RECOMMENDATION_TAG, STATUS_TAG, VERSION_TAG  # noqa: E402
from civiclab.store.tracker import MAX_LISTED, Tracker  # noqa: E402


def fill(uri: str, runs: int, metrics: int) -> None:
    tracker = Tracker(uri)
    params = {f"param{i}": str(i) for i in range(100)}
    tags = {VERSION_TAG: "bench", STATUS_TAG: "finished", RECOMMENDATION_TAG: "go"}
    tags |= {f"civiclab.bench{i}": "value" for i in range(25)}
    values = [
        Metric(name=f"bench.metric{i}", value=i / 2, dimension="bench", ci_low=0.0, ci_high=1.0)
        for i in range(metrics)
    ]
    for i in range(runs):
        run_id = tracker.start_run("bench" if i % 4 else "other", f"run{i}", params, tags)
        tracker.log_metrics(run_id, values)


def best_ms(call: Callable[[], Any], times: int) -> float:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        call()
        spent.append(time.perf_counter() - started)
    return 1000 * min(spent)


def figures(tracker: Tracker) -> dict[str, float]:
    run_id = tracker.list_runs("bench", max_results=1)[0].run_id
    return {
        "get_run (one run)": best_ms(lambda: tracker.get_run(run_id), 20),
        "list_runs (one experiment)": best_ms(lambda: tracker.list_runs("bench", MAX_LISTED), 3),
        "list_run_heads (whole store, 2 tags)": best_ms(
            lambda: tracker.list_run_heads([STATUS_TAG, RECOMMENDATION_TAG]), 3
        ),
        "list_runs() (newest 1,000)": best_ms(tracker.list_runs, 2),
        "mark_orphans_failed": best_ms(lambda: mark_orphans_failed(tracker), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--metrics", type=int, default=300)
    parser.add_argument("--store", type=Path, help="a folder for the store (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="civiclab-bench-") as tmp:
        folder = args.store or Path(tmp)
        uri = f"sqlite:///{folder.resolve() / 'mlflow.db'}"
        started = time.perf_counter()
        fill(uri, args.runs, args.metrics)
        print(f"{args.runs} runs x {args.metrics} metrics logged in {time.perf_counter() - started:.0f} s")
        sql, mlflow = figures(Tracker(uri)), figures(Tracker(uri, fast_reads=False))
        print(f"{'read':40} {'SQL path':>10} {'MLflow API':>12} {'ratio':>8}")
        for name in sql:
            print(f"{name:40} {sql[name]:8.1f} ms {mlflow[name]:9.1f} ms {mlflow[name] / sql[name]:7.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
