"""Harness benchmark: 10,000 simulated journey sessions end to end, against the pilot alone.

Prints sessions per second end to end (audit chain, redaction, MLflow on SQLite, evaluators,
scorecard), the harness overhead (end-to-end − pilot-only) / pilot-only, and the median wall time
of `civiclab --help` and `civiclab validate` beside `mlflow --help`.
Targets on a 2-core machine: >= 2,000 sessions/s, overhead <= 25 %, CLI <= 0.5 s.

Usage: python bench/bench_harness.py [--sessions 10000] [--workers 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "experiments" / "journey.yaml"


def pilot_only(sessions: int) -> float:
    from civiclab.plugins.experiment import load_experiment
    from civiclab.plugins.population import iter_plans
    from civiclab.run.runner import build_pilot, gc_tuned

    exp = load_experiment(SPEC, {"population.sessions": sessions})
    pilot = build_pilot(exp)
    pilot.setup()
    # Plans drawn before the clock starts (drawing them is the harness's work); records dropped as
    # the streaming runner drops them; same garbage-collector settings.
    plans = list(iter_plans(exp.personas, sessions, exp.spec.population.seed))
    with gc_tuned():
        t0 = time.perf_counter()
        for plan in plans:
            pilot.run_session(plan)
        return time.perf_counter() - t0


def end_to_end(sessions: int, workers: int, energy: bool) -> tuple[float, dict[str, float]]:
    from civiclab.plugins.experiment import load_experiment
    from civiclab.run.runner import run_experiment
    from civiclab.store.tracker import Tracker

    with tempfile.TemporaryDirectory() as tmp:
        uri = f"sqlite:///{tmp}/mlflow.db"
        tracker = Tracker(uri)  # open (and create) the store outside the timing, as a warm server would be
        tracker.experiment_id("housing-benefit-journey")
        overrides = {"population.sessions": sessions, "energy.tracker": "codecarbon" if energy else "none"}
        exp = load_experiment(SPEC, overrides)
        t0 = time.perf_counter()
        result = run_experiment(exp, tracker=tracker, workers=workers)
        return time.perf_counter() - t0, result.timings


def cli_median(args: list[str], repeat: int = 5) -> float:
    times = []
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(args, capture_output=True, check=False, env=env, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    bin_dir = Path(sys.executable).parent

    pilot_s = pilot_only(args.sessions)
    total_s, timings = end_to_end(args.sessions, args.workers, energy=False)
    total_energy_s, _ = end_to_end(args.sessions, args.workers, energy=True)
    overhead = (total_s - pilot_s) / pilot_s
    print(f"sessions                         {args.sessions} (workers={args.workers})")
    print(f"pilot only                       {pilot_s:7.2f} s  {args.sessions / pilot_s:8.0f} sessions/s")
    print(
        f"end to end (no energy meter)     {total_s:7.2f} s  {args.sessions / total_s:8.0f} sessions/s"
        f"  (target >= 2000: ratio {args.sessions / total_s / 2000:.2f})"
    )
    print(
        f"end to end (codecarbon meter)    {total_energy_s:7.2f} s  {args.sessions / total_energy_s:8.0f} sessions/s"
    )
    print(f"harness overhead                 {overhead:7.1%}  (target <= 25%: ratio {overhead / 0.25:.2f})")
    print("phases (no meter): " + ", ".join(f"{k} {v:.2f}s" for k, v in sorted(timings.items())))

    help_s = cli_median([str(bin_dir / "civiclab"), "--help"])
    validate_s = cli_median([str(bin_dir / "civiclab"), "validate", str(SPEC)])
    mlflow_s = cli_median([str(bin_dir / "mlflow"), "--help"], repeat=3)
    print(
        f"civiclab --help                  {help_s:7.3f} s  (target <= 0.5 s; mlflow --help {mlflow_s:.2f} s,"
        f" ratio {mlflow_s / help_s:.0f}x faster)"
    )
    print(
        f"civiclab validate                {validate_s:7.3f} s  (target <= 0.5 s; ratio to mlflow --help "
        f"{mlflow_s / validate_s:.1f}x faster)"
    )


if __name__ == "__main__":
    main()
