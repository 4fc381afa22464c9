"""Scale benchmark: journey runs of 10,000 to 1,000,000 sessions, Ray against serial, and resume.

For each N, `civiclab run experiments/journey.yaml --sessions N` runs in a subprocess under
`/usr/bin/time -v` (Debian package `time`): wall time, time per session (linear time means a flat
column; the ratio is against the smallest N) and peak RSS from the OS. Targets: peak RSS <= 1 GB at
1,000,000 sessions, time per session flat.
`--ray N` runs N sessions on a local Ray cluster (2 actors) and serially: ratio and same audit root.
`--resume N` kills a run of N sessions with SIGKILL once half its sessions are on disk, resumes it,
and compares the resume's wall time with a run of the missing half alone.
The machine is shared: the load average is printed before and after each figure.

Usage: python bench/bench_scale.py [--sizes 10000,100000] [--ray 20000] [--resume 20000]
(the figures of the issue: --sizes 10000,100000,1000000 --ray 100000 --resume 100000. Measured on a
2-core machine at a load of about 1: 10,000 sessions 16.4 s and 285 MB peak RSS, 100,000 79.5 s and
286 MB, 1,000,000 419 s (0.42 ms a session) and 315 MB; a million sessions write 13.6 GB: audit.jsonl
8.5 GB, sessions.jsonl 5.1 GB)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "experiments" / "journey.yaml"
TIME = "/usr/bin/time"


def env() -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "RAY_USAGE_STATS_ENABLED": "0",
        "HF_HUB_OFFLINE": "1",
    }


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def cli(uri: str, sessions: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "civiclab.cli", "--tracking-uri", uri, "run", str(SPEC),
            "--sessions", str(sessions), "--json", *extra]  # fmt: skip


def timed_run(sessions: int, folder: Path, *extra: str) -> tuple[float, float, dict[str, object]]:
    """Wall seconds, peak RSS (MB) and the run's JSON summary of one CLI run under /usr/bin/time -v."""
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    out = subprocess.run(
        [TIME, "-v", *cli(uri, sessions, *extra)], capture_output=True, text=True, env=env(), check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"run of {sessions} failed:\n{out.stderr[-3000:]}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", out.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr)
    assert wall and rss, out.stderr[-2000:]
    parts = [float(p) for p in wall.group(1).split(":")]
    seconds = sum(p * 60**i for i, p in enumerate(reversed(parts)))
    return seconds, int(rss.group(1)) / 1024, json.loads(out.stdout)


def sizes(ns: list[int]) -> None:
    print(
        f"{'sessions':>10} {'wall s':>9} {'µs/session':>11} {'ratio':>6} {'peak RSS MB':>12}  load before→after"
    )
    base: float | None = None
    for n in ns:
        before = load()
        with tempfile.TemporaryDirectory() as tmp:
            wall, rss, _ = timed_run(n, Path(tmp))
        per = wall / n * 1e6
        base = base or per
        print(
            f"{n:>10} {wall:>9.1f} {per:>11.1f} {per / base:>6.2f} {rss:>12.0f}  {before} → {load()}",
            flush=True,
        )


def ray_vs_serial(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        serial, _, a = timed_run(n, Path(tmp) / "serial")
        ray, _, b = timed_run(n, Path(tmp) / "ray", "--executor", "ray", "--workers", "2")
    same = a["audit_root"] == b["audit_root"]
    print(f"ray local (2 actors) vs serial, {n} sessions: {ray:.1f} s vs {serial:.1f} s, "
          f"ratio {ray / serial:.2f}, same audit root: {same}  (load {load()})")  # fmt: skip


def resume(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        uri = f"sqlite:///{folder / 'mlflow.db'}"
        proc = subprocess.Popen(cli(uri, n), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env())
        sessions: Path | None = None
        while proc.poll() is None:
            found = list(folder.glob("**/sessions.jsonl"))
            if found and found[0].read_bytes().count(b"\n") >= n // 2:
                sessions = found[0]
                break
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert sessions is not None, "the run ended before half its sessions"
        from civiclab.store.tracker import Tracker

        (run,) = Tracker(uri).list_runs()
        kept = sessions.read_bytes().count(b"\n")
        t0 = time.perf_counter()
        out = subprocess.run(cli(uri, n, "--resume", run.run_id), capture_output=True, text=True, env=env())
        resumed = time.perf_counter() - t0
        assert out.returncode == 0, out.stderr[-2000:]
        half, _, _ = timed_run(n - kept, folder / "half")
    print(f"resume of a {n}-session run killed after {kept} sessions: {resumed:.1f} s; the missing "
          f"{n - kept} sessions alone: {half:.1f} s; ratio {resumed / half:.2f}  (load {load()})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--ray", type=int, default=20_000, help="sessions for Ray vs serial (0: skip)")
    parser.add_argument("--resume", type=int, default=20_000, help="sessions of the killed run (0: skip)")
    args = parser.parse_args()
    if not Path(TIME).exists():
        raise SystemExit("needs /usr/bin/time (apt-get install time)")
    print(f"{os.cpu_count()} CPUs; load average {load()}")
    if args.sizes:
        sizes([int(s) for s in args.sizes.split(",")])
    if args.ray:
        ray_vs_serial(args.ray)
    if args.resume:
        resume(args.resume)


if __name__ == "__main__":
    main()
