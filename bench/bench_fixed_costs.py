"""What a journey run pays besides its sessions: redaction cache cold vs warm, energy meter, GC, MLflow.

Each figure comes from a fresh process, as `civiclab run` is one: nothing loaded by one variant
(spaCy, Presidio, codecarbon, scipy) makes the next one look faster. The MLflow store is opened
before the clock starts, as a warm tracking server would be. All variants share one temporary lab
folder (CIVICLAB_HOME), empty at first: the first run finds the redaction cache cold, the others warm.

Prints per variant: wall time, sessions/s (ratio to the 2,000/s target), the runner's phases, time
spent in the garbage collector, and the ratio of each variant to the cold-cache run (the baseline).

Usage: python bench/bench_fixed_costs.py [--sessions 10000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "experiments" / "journey.yaml"
VARIANTS = {
    "cold redaction cache, no meter": "none",
    "warm redaction cache, no meter": "none",
    "warm redaction cache, codecarbon": "codecarbon",
}


def child(sessions: int, energy: str) -> dict[str, object]:
    """One run in this process; returns its figures."""
    from civiclab.evidence.signing.seal import run_signer
    from civiclab.plugins.experiment import load_experiment
    from civiclab.run.runner import run_experiment
    from civiclab.store.tracker import Tracker

    gc_time = [0.0, 0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_time[1] = time.perf_counter()
        else:
            gc_time[0] += time.perf_counter() - gc_time[1]

    with tempfile.TemporaryDirectory() as tmp:
        tracker = Tracker(f"sqlite:///{tmp}/mlflow.db")
        tracker.experiment_id("housing-benefit-journey")
        run_signer()  # the lab's demo key is created once, outside the clock
        exp = load_experiment(SPEC, {"population.sessions": sessions, "energy.tracker": energy})
        gc.callbacks.append(on_gc)
        t0 = time.perf_counter()
        result = run_experiment(exp, tracker=tracker)
        wall = time.perf_counter() - t0
        gc.callbacks.remove(on_gc)
    return {
        "wall": wall,
        "gc": gc_time[0],
        "timings": result.timings,
        "spacy": "spacy" in sys.modules,
        "codecarbon": "codecarbon" in sys.modules,
    }


def meter_only(energy: str) -> dict[str, object]:
    """The energy meter alone: start, wait until it measures, stop (what it adds to any run)."""
    from civiclab.run.energy import EnergyMeter

    t0 = time.perf_counter()
    meter = EnergyMeter("FRA", enabled=energy != "none")
    meter.start()
    started = time.perf_counter()
    meter.wait_started()
    waited = time.perf_counter()
    reading = meter.stop()
    return {
        "start_s": started - t0,
        "wait_started_s": waited - started,
        "stop_s": time.perf_counter() - waited,
        "method": reading.method,
    }


def in_fresh_process(args: list[str], home: Path) -> dict[str, object]:
    env = {
        **os.environ,
        "CIVICLAB_HOME": str(home),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, env=env, cwd=ROOT, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--child", choices=["none", "codecarbon"], help=argparse.SUPPRESS)
    parser.add_argument("--meter", choices=["none", "codecarbon"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.sessions, args.child)))
        return
    if args.meter:
        print(json.dumps(meter_only(args.meter)))
        return

    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared: figures vary with it)")
    with tempfile.TemporaryDirectory() as home:
        baseline = None
        for label, energy in VARIANTS.items():
            got = in_fresh_process(["--sessions", str(args.sessions), "--child", energy], Path(home))
            wall = float(got["wall"])  # type: ignore[arg-type]
            baseline = baseline or wall
            rate = args.sessions / wall
            phases = ", ".join(f"{k} {v:.2f}s" for k, v in sorted(got["timings"].items()))  # type: ignore[attr-defined]
            print(
                f"{label:34s} {wall:6.2f} s {rate:6.0f} sessions/s (target 2000: ratio {rate / 2000:.2f};"
                f" vs cold cache {baseline / wall:.2f}x)  gc {float(got['gc']):.2f}s"  # type: ignore[arg-type]
                f"  spaCy loaded: {got['spacy']}  load {os.getloadavg()[0]:.2f}"
            )
            print(f"{'':34s} phases: {phases}")
        for energy in ("none", "codecarbon"):
            got = in_fresh_process(["--meter", energy], Path(home))
            print(
                f"energy meter alone ({energy:10s})  start {float(got['start_s']):.2f}s"  # type: ignore[arg-type]
                f"  wait_started {float(got['wait_started_s']):.2f}s  stop {float(got['stop_s']):.2f}s"  # type: ignore[arg-type]
                f"  method {got['method']}"
            )


if __name__ == "__main__":
    main()
