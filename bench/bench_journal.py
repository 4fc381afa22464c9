"""Journal benchmark: what the audit chain and sessions file cost per session and per event.

Runs N journey sessions in memory first (the pilot alone, its time is the baseline), then times, in
CPU seconds (best of --repeat, so that other work on a shared machine counts less):
- writing them through the run's journal (redaction, canonical JSON, sha256 links, both files);
- `verify_audit_log` (the auditability evaluator's re-check of the audit log);
- `check_audit_log` (what `civiclab verify` does: links, structure, sessions re-derived from the audit log).
Each is printed per session, per event and as a ratio to the pilot's own time.
Before the journal fast path (08f6671), same machine, cpu time: journal 129 µs a session
(5.0 µs an event), verify_audit_log 0.89 s and check_audit_log 2.30 s for 10,000 sessions.

Each is measured for the audit log's format 1 (a line per event, as every run before format 2) and
format 2 (a line per session, the same bytes as in sessions.jsonl), with the ratio of the two.

Usage: python bench/bench_journal.py [--sessions 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "experiments" / "journey.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from civiclab.evidence import audit
    from civiclab.evidence.audit import verify_audit_log
    from civiclab.evidence.verify.auditcheck import check_audit_log
    from civiclab.plugins.experiment import load_experiment
    from civiclab.plugins.gctune import gc_tuned
    from civiclab.plugins.population import iter_plans
    from civiclab.run.journal import Journal
    from civiclab.run.sessions import build_pilot

    n = args.sessions
    experiment = load_experiment(SPEC, {"population.sessions": n})
    pilot = build_pilot(experiment)
    pilot.setup()
    plans = list(iter_plans(experiment.personas, n, experiment.spec.population.seed))
    with gc_tuned():
        t0 = time.process_time()
        records = [pilot.run_session(plan) for plan in plans]
        pilot_s = time.process_time() - t0

    best: dict[tuple[str, int], float] = {}
    chains = {}
    sizes = {}

    def timed(name: str, seconds: float) -> None:
        key = (name, audit.WRITTEN_FORMAT)
        best[key] = min(best.get(key, seconds), seconds)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for audit_format in [1, 2] * args.repeat:
            audit.WRITTEN_FORMAT = audit_format
            with gc_tuned():  # as the runner writes sessions
                t0 = time.process_time()
                journal = Journal(folder, experiment.spec.population.start)
                journal.open_run({"experiment": experiment.spec.name})
                for record in records:
                    journal.session(record)
                chain = journal.close_run()
                timed("journal", time.process_time() - t0)
            t0 = time.process_time()
            verify_audit_log(folder / "audit.jsonl")
            timed("verify_audit_log", time.process_time() - t0)
            t0 = time.process_time()
            check_audit_log(folder / "audit.jsonl", folder / "sessions.jsonl", chain.events, [])
            timed("check_audit_log", time.process_time() - t0)
            chains[audit.WRITTEN_FORMAT] = chain
            sizes[audit.WRITTEN_FORMAT] = sum(p.stat().st_size for p in folder.iterdir()) / 1e6

    print(f"sessions                 {n}")
    for f, chain in chains.items():
        print(
            f"format {f}: {chain.events} chain lines ({chain.events / n:.1f} a session), files written "
            f"{sizes[f]:.0f} MB (audit.jsonl + sessions.jsonl); root {chain.root[:16]}…"
        )
    print(f"pilot alone (baseline)   {pilot_s:6.3f} s cpu  {pilot_s / n * 1e6:6.1f} µs a session")
    for (name, f), seconds in sorted(best.items()):
        print(
            f"{name:<17} format {f} {seconds:6.3f} s cpu  {seconds / n * 1e6:6.1f} µs a session"
            f"  ratio to pilot {seconds / pilot_s:.2f}"
            + (f"  format 2 / format 1 {seconds / best[(name, 1)]:.2f}" if f == 2 else "")
        )
    print(
        f"load average             {os.getloadavg()[0]:.2f} (2 cores shared: cpu time, best of {args.repeat})"
    )


if __name__ == "__main__":
    main()
