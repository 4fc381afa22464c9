"""What the codecarbon energy meter adds to a journey run: 10,000 sessions with and without it.

Each figure comes from a fresh process (as `civiclab run` is one). The meter's hardware probe
(py-cpuinfo in a subprocess, codecarbon's CPU table) is stored in the lab folder by the first run on
a machine; the "cold" rows start from an empty lab folder each time, which is what every run paid
before the probe was kept (the previous figure: ≈1.1 s of a 5.3 s run, 26 %). The runs alternate
(no meter, meter, no meter...) so that the load of a shared machine falls on both alike; medians.

Prints: the meter alone (start → measuring → stop), cold and warm; the run's wall time with and
without the meter, the overhead (target <= 5 %: ratio) and its ratio to the previous 26 %; the same
for the process's CPU time (all its threads), which the load of a shared machine disturbs far less
than the wall time (at a load of 5 on 2 cores, wall times of one run spread over ±40 %); the load.

Usage: python bench/bench_energy.py [--sessions 10000] [--repeat 5] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "experiments" / "journey.yaml"
PREVIOUS_OVERHEAD = 0.26  # issue 25: the meter cost ≈1.1 s of a 5.3 s run of 10,000 sessions
TARGET = 0.05


def child_run(sessions: int, energy: str) -> dict[str, object]:
    from civiclab.evidence.signing.seal import run_signer
    from civiclab.plugins.experiment import load_experiment
    from civiclab.run.runner import run_experiment
    from civiclab.store.tracker import Tracker

    with tempfile.TemporaryDirectory() as tmp:
        tracker = Tracker(f"sqlite:///{tmp}/mlflow.db")  # opened outside the clock, as a warm server
        tracker.experiment_id("housing-benefit-journey")
        run_signer()
        exp = load_experiment(SPEC, {"population.sessions": sessions, "energy.tracker": energy})
        t0, cpu0 = time.perf_counter(), time.process_time()
        result = run_experiment(exp, tracker=tracker)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    del result
    return {"wall": wall, "cpu": cpu}


def child_meter() -> dict[str, object]:
    import mlflow  # noqa: F401  # loaded by every run before its meter starts (and pandas with it)

    from civiclab.run.energy import EnergyMeter

    meter = EnergyMeter("FRA")
    t0 = time.perf_counter()
    meter.start()
    meter.wait_started()
    started = time.perf_counter()
    time.sleep(0.5)  # the sessions: what the meter does meanwhile is not on the run's path
    stopping = time.perf_counter()
    reading = meter.stop()
    return {
        "wait_s": started - t0,
        "stop_s": time.perf_counter() - stopping,
        "method": reading.method,
        "source": reading.source,
    }


def fresh(args: list[str], home: Path, code: Path = ROOT) -> dict[str, object]:
    """One child process on civiclab's code at `code` (this checkout, or the baseline's)."""
    env = {
        **os.environ,
        "CIVICLAB_HOME": str(home),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "PYTHONPATH": str(code),
    }
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, env=env, cwd=code, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def meter_alone(repeat: int, code: Path, name: str) -> None:
    with tempfile.TemporaryDirectory() as warm_home:
        cold, warm = [], []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as cold_home:
                cold.append(fresh(["--meter"], Path(cold_home), code))
            warm.append(fresh(["--meter"], Path(warm_home), code))  # the first one stores the probe
    for label, rows in (("cold (probe)", cold), ("warm (kept probe)", warm[1:] or warm)):
        wait = statistics.median(float(r["wait_s"]) for r in rows)  # type: ignore[arg-type]
        stop = statistics.median(float(r["stop_s"]) for r in rows)  # type: ignore[arg-type]
        print(
            f"meter alone, {name:8s} {label:18s} start→measuring {wait:5.2f} s  stop {stop:5.2f} s"
            f"  {rows[-1]['source']}"
        )
    same = {str(r["source"]) for r in cold + warm}
    print(f"method labels, cold and warm: {'identical' if len(same) == 1 else sorted(same)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of civiclab to compare with (git worktree add DIR COMMIT): its meter runs"
        " alternately with this one's",
    )
    parser.add_argument("--child", choices=["none", "codecarbon"], help=argparse.SUPPRESS)
    parser.add_argument("--meter", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_run(args.sessions, args.child)))
        return
    if args.meter:
        print(json.dumps(child_meter()))
        return

    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared: figures vary with it)")
    variants: dict[str, tuple[str, Path]] = {"no meter": ("none", ROOT), "codecarbon": ("codecarbon", ROOT)}
    meter_alone(args.repeat, ROOT, "this")
    if args.baseline is not None:
        variants["baseline"] = ("codecarbon", args.baseline.resolve())
        meter_alone(args.repeat, args.baseline.resolve(), "baseline")
    runs: dict[str, list[dict[str, object]]] = {name: [] for name in variants}
    loads = []
    with tempfile.TemporaryDirectory() as warm_home:
        for energy, code in variants.values():  # the kept probe, the redaction cache
            fresh(["--sessions", "100", "--child", energy], Path(warm_home), code)
        for _ in range(args.repeat):
            for name, (energy, code) in variants.items():
                runs[name].append(
                    fresh(["--sessions", str(args.sessions), "--child", energy], Path(warm_home), code)
                )
                loads.append(os.getloadavg()[0])
    for clock in ("wall", "cpu"):
        times = {name: [float(r[clock]) for r in rows] for name, rows in runs.items()}  # type: ignore[arg-type]
        medians = {name: statistics.median(values) for name, values in times.items()}
        for name, value in medians.items():
            listed = ", ".join(f"{t:.2f}" for t in times[name])
            print(f"run of {args.sessions} sessions, {clock:4s}, {name:10s} {value:6.2f} s  (runs {listed})")
        for name in ("codecarbon", "baseline") if args.baseline is not None else ("codecarbon",):
            overhead = (medians[name] - medians["no meter"]) / medians["no meter"]
            print(
                f"meter overhead, {clock:4s}, {name:10s} {overhead:6.1%}  (target <= {TARGET:.0%}: ratio"
                f" {overhead / TARGET:.2f}; previous {PREVIOUS_OVERHEAD:.0%}: ratio"
                f" {overhead / PREVIOUS_OVERHEAD:.2f})"
            )
    print(f"load average during the runs: median {statistics.median(loads):.2f}, max {max(loads):.2f}")


if __name__ == "__main__":
    main()
