"""Reporting benchmark: render a scorecard, and compare 1,000 runs in a SQLite MLflow store.

1. Runs the journey experiment (experiments/journey.yaml, --sessions sessions, no energy meter) and
   times building its report document and rendering it as HTML, Markdown and PDF (cold: first render
   in the process, imports included; warm: median of the next three).
2. Logs --runs SYNTHETIC runs of one experiment straight into a fresh SQLite store with the Tracker
   (params, tags, 12 metrics with intervals, per-segment values; no artifacts, so no sessions.jsonl:
   every metric is compared through its stored interval), then times `compare_runs(experiment=...)`
   (the comparison itself), the terminal summary and the HTML page with its plots.
Targets: scorecard render <= 1 s (warm HTML); comparing 1,000 runs <= 3 s.

Usage: python bench/bench_reports.py [--sessions 1000] [--runs 1000] [--store DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from civiclab.records import Metric  # noqa: E402
from civiclab.store.tracker import Tracker  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEGMENTS = ("territory=urban", "territory=rural", "age_band=25-39", "age_band=65-79")


def timed(fn, repeat: int = 1):  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return result, times


def bench_render(store: str, sessions: int) -> None:
    from civiclab.plugins.experiment import load_experiment
    from civiclab.reporting.document import load_document
    from civiclab.reporting.render import render
    from civiclab.run.runner import run_experiment

    experiment = load_experiment(
        ROOT / "experiments" / "journey.yaml", {"population.sessions": sessions, "energy.tracker": "none"}
    )
    t = time.perf_counter()
    result = run_experiment(experiment, tracking_uri=store)
    print(
        f"journey run ({sessions} sessions)        {time.perf_counter() - t:7.2f} s  (setup, not timed below)"
    )
    tracker = Tracker(store)
    doc, cold_doc = timed(lambda: load_document(tracker, result.run_id))
    _, warm_doc = timed(lambda: load_document(tracker, result.run_id), 3)
    print(
        f"report document (verify + dims)    cold {cold_doc[0]:6.3f} s  warm {statistics.median(warm_doc):6.3f} s"
    )
    for fmt in ("html", "md", "pdf"):
        data, cold = timed(lambda f=fmt: render(doc, f))
        _, warm = timed(lambda f=fmt: render(doc, f), 3)
        total = statistics.median(warm_doc) + statistics.median(warm)
        target = f"  (target <= 1 s: ratio {total / 1.0:.2f})" if fmt == "html" else ""
        print(
            f"render {fmt:4}  {len(data):>8} bytes     cold {cold[0]:6.3f} s  warm {statistics.median(warm):6.3f} s"
            f"  document+render {total:6.3f} s{target}"
        )


def synthetic_runs(tracker: Tracker, runs: int) -> float:
    """Log `runs` finished-looking runs directly (no pilot, no artifacts); returns seconds taken."""
    import numpy as np

    rng = np.random.default_rng(0)
    t = time.perf_counter()
    for i in range(runs):
        params = {f"pilot.params.p{j}": str(j) for j in range(20)}
        params["population.seed"] = str(i)
        params["pilot.params.variant"] = "b" if i % 2 else "a"
        tags = {
            "civiclab.version": "bench",
            "civiclab.status": "finished",
            "civiclab.synthetic": "true",
            "civiclab.recommendation": "go",
            "civiclab.sessions": "2000",
        }
        run_id = tracker.start_run("bench-compare", f"synthetic-{i}", params, tags)
        metrics = []
        for k in range(12):
            name = f"human_centered.metric_{k:02d}"
            for seg in (None, *SEGMENTS) if k < 3 else (None,):
                v = float(rng.uniform(0.3, 0.9))
                metrics.append(
                    Metric(
                        name=name,
                        value=v,
                        dimension="human_centered",
                        ci_low=v - 0.03,
                        ci_high=v + 0.03,
                        n=2000,
                        segment=seg,
                    )
                )
        tracker.log_metrics(run_id, metrics)
    return time.perf_counter() - t


def bench_compare(store: str, runs: int, out: Path) -> None:
    from civiclab.reporting.compare import compare_runs, to_text
    from civiclab.reporting.compare_html import write_compare_html

    tracker = Tracker(store)
    if not tracker.list_runs("bench-compare", max_results=1):
        created = synthetic_runs(tracker, runs)
        print(f"logged {runs} SYNTHETIC runs with the Tracker  {created:7.2f} s (setup, not timed)")
    report, t_cmp = timed(lambda: compare_runs(tracker, experiment="bench-compare"))
    _, t_text = timed(lambda: to_text(report))
    _, t_html = timed(lambda: write_compare_html(report, out))
    print(
        f"compare {len(report.runs)} runs: {len(report.rows)} rows, {len(report.params_differ)} params differ"
    )
    print(
        f"compare_runs (read store + tests)  {t_cmp[0]:7.3f} s  (target <= 3 s: ratio {t_cmp[0] / 3.0:.2f})"
    )
    print(f"terminal summary                   {t_text[0]:7.3f} s")
    print(
        f"compare.html + plots               {t_html[0]:7.3f} s  ({(out / 'compare.html').stat().st_size} bytes)"
    )
    print(
        f"compare end to end (no --json)     {t_cmp[0] + t_text[0]:7.3f} s; with HTML {t_cmp[0] + t_text[0] + t_html[0]:7.3f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--store", type=Path, help="keep the stores here (reused if present)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="civiclab-bench-") as tmp:
        root = args.store or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        bench_render(f"sqlite:///{root / 'render.db'}", args.sessions)
        bench_compare(f"sqlite:///{root / 'compare.db'}", args.runs, root / "compare")
    return 0


if __name__ == "__main__":
    sys.exit(main())
