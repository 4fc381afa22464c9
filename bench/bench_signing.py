"""Signing benchmark: what signing costs a run, and what a full `civiclab verify` costs a committee.

1. A 2,000-session journey run: signing and recording the statement (run inputs, artifact digests,
   RFC 8785 statement, Ed25519 DSSE signature, statement file) as a share of the run's wall time.
   Target <= 5 %.
2. A 10,000-session journey run, then `verify` with a trust file: signature, artifacts, the chain
   (links, sessions re-derived from it), store metrics/params/tags, the evaluators re-run on the
   stored records, manifest and reviews. Target <= 3 s; the run's own wall time is the baseline.

Usage: python bench/bench_signing.py [--small 2000] [--large 10000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "experiments" / "journey.yaml"


def timed_run(uri: str, sessions: int) -> tuple[str, float, dict[str, float]]:
    from civiclab.plugins.experiment import load_experiment
    from civiclab.run.runner import run_experiment

    exp = load_experiment(SPEC, {"population.sessions": sessions, "energy.tracker": "none"})
    t0 = time.perf_counter()
    result = run_experiment(exp, tracking_uri=uri)
    return result.run_id, time.perf_counter() - t0, result.timings


def breakdown(tracker: object, run_id: str) -> dict[str, float]:
    """The main parts of verify, timed one by one."""
    from civiclab.evidence.signing.envelope import read_envelope
    from civiclab.evidence.verify.auditcheck import check_audit_log
    from civiclab.evidence.verify.checks import file_digests
    from civiclab.evidence.verify.rerun import rerun_evaluators

    folder = tracker.local_artifact_dir(run_id)  # type: ignore[attr-defined]
    events = read_envelope((folder / "statement.dsse.json").read_bytes()).statement()["predicate"]["audit"][
        "events"
    ]
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    tracker.get_run(run_id)  # type: ignore[attr-defined]
    out["store read"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    file_digests(folder)
    out["file digests"] = time.perf_counter() - t0
    sessions: list[dict[str, object]] = []
    t0 = time.perf_counter()
    check_audit_log(folder / "audit.jsonl", folder / "sessions.jsonl", events, sessions)
    out["chain + sessions re-derived"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    rerun_evaluators(folder, sessions)  # type: ignore[arg-type]
    out["evaluators re-run"] = time.perf_counter() - t0
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--large", type=int, default=10000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CIVICLAB_HOME"] = f"{tmp}/home"
        from civiclab.evidence.signing.keys import export_public, init_key
        from civiclab.store.tracker import Tracker

        init_key("lab-bench")
        trust = Path(tmp) / "trust.yaml"
        key = export_public("lab-bench", "pem").replace("\n", "\n      ")
        trust.write_text(f"version: 1\nlabs:\n  - name: Bench lab\n    public_key: |\n      {key}\n")
        uri = f"sqlite:///{tmp}/mlflow.db"
        Tracker(uri)  # create the store outside the timings, as a warm server would be
        timed_run(uri, 50)  # warm imports and models

        _, wall, timings = timed_run(uri, args.small)
        share = timings["signing_s"] / wall
        print(
            f"{args.small:,}-session run: {wall:.2f} s wall; signing + recording the statement "
            f"{timings['signing_s'] * 1000:.1f} ms = {share:.2%} of the run (target <= 5%)"
        )

        run_id, big_wall, _ = timed_run(uri, args.large)
        from civiclab.evidence.verify.verification import verify

        t0 = time.perf_counter()
        result = verify(Tracker(uri), run_id, trust)
        in_process = time.perf_counter() - t0
        assert result.ok, result.table()
        t0 = time.perf_counter()
        cli = subprocess.run(
            [sys.executable, "-m", "civiclab.cli", "--tracking-uri", uri, "verify", run_id, "--trust", str(trust)],
            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        cli_wall = time.perf_counter() - t0
        assert cli.returncode == 0, cli.stderr
        rerun = next(c.detail for c in result.checks if c.name == "evaluators re-run")
        parts = breakdown(Tracker(uri), run_id)
        print(f"{args.large:,}-session run: {big_wall:.2f} s wall (baseline)")
        print(
            f"  verify in process: {in_process:.2f} s (target <= 3 s) = {in_process / big_wall:.1%} of the run"
        )
        print(
            f"  civiclab verify (CLI, with interpreter and mlflow import): {cli_wall:.2f} s "
            f"= {cli_wall / big_wall:.1%} of the run"
        )
        print(f"  re-run: {rerun.split(';')[0]}")
        print("  where verify's time goes: " + ", ".join(f"{k} {v:.2f} s" for k, v in parts.items()))
        print(f"  load average during the bench: {os.getloadavg()[0]:.1f} (2 cores shared)")


if __name__ == "__main__":
    main()
