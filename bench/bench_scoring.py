"""Scoring benchmark: a 10,000-session journey run's evaluators, today's code against a baseline.

Simulates the demo journey (experiments/journey.yaml) once, then times the evaluators that score it
from the records alone (human_centered: rates with their intervals, quantiles, funnel, equity) and the
interval functions of `civiclab.stats.intervals` on that size. The same timing runs on a baseline tree extracted
from a git ref (default `main`), the two trees alternating in subprocesses for `--rounds` rounds so
that a shared machine's load weighs on both alike, and the ratio new / baseline is printed: the target
is <= 1.0 (the small-n intervals must not slow scoring down).

Usage: python bench/bench_scoring.py [--sessions 10000] [--repeat 5] [--rounds 3] [--baseline-ref main | --no-baseline]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "experiments" / "journey.yaml"


def _build_pilot(exp: Any) -> Any:
    # The runner moved into a package (issue 9); accept either layout so the baseline tree runs too.
    try:
        from civiclab.run import build_pilot  # type: ignore[attr-defined]
    except ImportError:
        from civiclab.run.runner import build_pilot  # type: ignore[no-redef]
    return build_pilot(exp)


def _facts(pilot: Any) -> Any:
    facts = pilot.run_facts()
    return facts


def measure(sessions: int, repeat: int) -> dict[str, float]:
    """Median seconds of each scoring step on `sessions` simulated sessions (this interpreter's tree)."""
    import numpy as np

    from civiclab.plugins.evaluation import RunData
    from civiclab.plugins.experiment import load_experiment
    from civiclab.plugins.population import sample_plans
    from civiclab.stats import intervals as stats
    from evaluators.human_centered import HumanCenteredParams, human_centered

    exp = load_experiment(SPEC, {"population.sessions": sessions})
    pilot = _build_pilot(exp)
    pilot.setup()
    plans = sample_plans(exp.personas, sessions, exp.spec.population.seed)
    records = [pilot.run_session(p) for p in plans]
    facts = _facts(pilot)
    rng = np.random.default_rng(0)
    outcomes = rng.random(sessions) < 0.8
    durations = rng.lognormal(6, 0.7, size=sessions)
    timings: dict[str, list[float]] = {"human_centered": [], "rate": [], "mean": [], "quantile": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeat):
            run = RunData.for_experiment(exp, records=records, artifact_dir=Path(tmp), facts=facts)
            t0 = time.perf_counter()
            human_centered(run, HumanCenteredParams(funnel_plot=False))
            timings["human_centered"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            stats.rate(outcomes)
            timings["rate"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            stats.mean(durations)
            timings["mean"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            stats.quantile(durations, 0.9)
            timings["quantile"].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in timings.items()}


def _subprocess(tree: Path, sessions: int, repeat: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, __file__, "--sessions", str(sessions), "--repeat", str(repeat), "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        cwd=tree,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def interleaved(
    ref: str, sessions: int, repeat: int, rounds: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Both trees measured in alternating subprocesses, `rounds` times: a shared machine's load
    then weighs on both alike. Returns the medians over rounds (this tree, baseline)."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "tree.tar"
        subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), ref], check=True)
        tree = Path(tmp) / "tree"
        with tarfile.open(archive) as tar:
            tar.extractall(tree, filter="data")
        now: list[dict[str, float]] = []
        before: list[dict[str, float]] = []
        for _ in range(rounds):
            before.append(_subprocess(tree, sessions, repeat))
            now.append(_subprocess(ROOT, sessions, repeat))

    def median(runs: list[dict[str, float]]) -> dict[str, float]:
        return {k: statistics.median(r[k] for r in runs) for k in runs[0]}

    return median(now), median(before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline-ref", default="main")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="alternating baseline/current measurements")
    parser.add_argument("--json", action="store_true", help="print this tree's timings as JSON only")
    args = parser.parse_args()
    if args.json:
        print(json.dumps(measure(args.sessions, args.repeat)))
        return
    before: dict[str, float] | None = None
    if args.no_baseline:
        now = measure(args.sessions, args.repeat)
    else:
        now, before = interleaved(args.baseline_ref, args.sessions, args.repeat, args.rounds)
    print(
        f"scoring {args.sessions} journey sessions (median of {args.repeat} x {args.rounds} alternating rounds)"
    )
    for key, seconds in now.items():
        line = f"  {key:<15} {seconds * 1000:9.1f} ms"
        if before is not None and key in before:
            line += f"   baseline {before[key] * 1000:9.1f} ms   ratio {seconds / before[key]:.2f}"
        print(line)
    if before is not None:
        total_now, total_before = now["human_centered"], before["human_centered"]
        print(
            f"evaluator ratio new/baseline ({args.baseline_ref}): {total_now / total_before:.2f} (target <= 1.0)"
        )


if __name__ == "__main__":
    main()
