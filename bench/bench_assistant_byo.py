"""Benchmark: an external assistant behind a local endpoint answering in 200 ms, 1,000 questions.

The lab's assistant is the local stand-in (pilots/assistant/standin.py) with a 200 ms delay per answer,
reached over its JSON HTTP API with `calls.concurrency: 8`. The 1,000 questions (500 sessions x 2) go
through the assistant pilot exactly as in a run: plans, the dispatcher (bounded concurrency, timeouts,
tenacity retries), redaction of every answer, records in plan order. Target: <= 35 s.

The serial baseline is the same pilot with `concurrency: 1` on the first 100 questions (50 sessions),
extrapolated x10 to 1,000 (said so in the output): asking 1,000 questions one by one would take minutes
for no extra information. With `--full-run`, the whole `run_experiment` (MLflow store, audit chain,
evaluators with semantic grounding) is timed too, for the same 1,000 questions. `--kind openai` calls the
stand-in's OpenAI-compatible endpoint instead (the set-up where civiclab's import race was seen). Failed
turns are counted by side: the endpoint's, and civiclab's (which would stop a run); the target is 0 of both.

    .venv/bin/python bench/bench_assistant_byo.py [--questions 1000] [--full-run] [--kind http|openai]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from civiclab import HarnessFault  # noqa: E402
from civiclab.plugins.experiment import load_experiment  # noqa: E402
from civiclab.run.sessions import build_pilot  # noqa: E402
from pilots.assistant.standin import serve  # noqa: E402

TARGET_S = 35.0
DELAY_S = 0.2
PER_SESSION = 2


def experiment_file(folder: Path, url: str, sessions: int, concurrency: int, kind: str = "http") -> Path:
    import yaml

    spec = yaml.safe_load((ROOT / "experiments" / "assistant_byo.yaml").read_text(encoding="utf-8"))
    params = spec["pilot"]["params"]
    for key in ("knowledge_base", "questions", "training", "redaction_labelled"):
        params[key] = str(ROOT / "experiments" / params[key])
    spec["population"]["personas"] = str(ROOT / "experiments" / spec["population"]["personas"])
    calls = {**params["system"]["calls"], "concurrency": concurrency, "rate_limit_per_s": None}
    if kind == "openai":  # the set-up of the reported import race: the OpenAI client on 8 threads
        params["system"] = {"kind": "openai", "base_url": f"{url}/v1", "model": "stand-in", "calls": calls}
    else:
        params["system"]["url"] = f"{url}/answer"
        params["system"]["calls"] = calls
    params["questions_per_session"] = PER_SESSION
    spec["population"]["sessions"] = sessions
    spec["energy"] = {"tracker": "none", "country": "FRA"}
    path = folder / f"byo-{sessions}-{concurrency}.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def ask_all(spec: Path) -> tuple[float, int, int, int]:
    """(seconds, questions, turns the endpoint failed, civiclab failures) for every session of the spec.

    A civiclab failure stops the run (`HarnessFault`): it is counted once, and the bench fails.
    """
    experiment = load_experiment(spec)
    pilot = build_pilot(experiment)
    pilot.ensure_setup()  # loads the redaction model and the clients' modules before any question
    plans = pilot.plans(experiment.spec.population.sessions, experiment.spec.population.seed)
    assert plans is not None
    started = time.perf_counter()
    try:
        records = [pilot.run_session(plan) for plan in plans]
    except HarnessFault as exc:
        print(f"civiclab failure (the run would stop): {exc}")
        return time.perf_counter() - started, 0, 0, 1
    finally:
        pilot.close()
    elapsed = time.perf_counter() - started
    turns = [t for r in records for t in r.data["turns"]]
    assert [r.session_id for r in records] == [p.session_id for p in plans]  # plan order kept
    endpoint = sum(t["status"] == "failed" and t.get("failed_by") == "endpoint" for t in turns)
    civiclab = sum(t["status"] == "failed" and t.get("failed_by") == "civiclab" for t in turns)
    return elapsed, len(turns), endpoint, civiclab


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--serial-sample", type=int, default=100, help="questions asked one by one")
    parser.add_argument("--full-run", action="store_true", help="also time run_experiment end to end")
    parser.add_argument(
        "--kind", choices=["http", "openai"], default="http", help="how the stand-in is called"
    )
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-byo-"))
    with serve(ROOT / "experiments" / "data" / "assistant" / "knowledge_base.yaml", delay_s=DELAY_S) as url:
        serial_s, serial_n, _, _ = ask_all(
            experiment_file(folder, url, args.serial_sample // PER_SESSION, 1, args.kind)
        )
        concurrent_s, n, failed, ours = ask_all(
            experiment_file(folder, url, args.questions // PER_SESSION, 8, args.kind)
        )
        full_s = None
        if args.full_run:
            from civiclab.run.runner import run_experiment

            spec = experiment_file(folder, url, args.questions // PER_SESSION, 8, args.kind)
            started = time.perf_counter()
            run_experiment(load_experiment(spec), tracking_uri=f"sqlite:///{folder}/m.db")
            full_s = time.perf_counter() - started

    serial_extrapolated = serial_s / serial_n * n
    how = "OpenAI-compatible chat completions" if args.kind == "openai" else "JSON over HTTP"
    print(f"endpoint: local stand-in, {DELAY_S * 1000:.0f} ms per answer, {how} on 127.0.0.1")
    print(
        f"serial (concurrency 1): {serial_n} questions in {serial_s:.1f} s ({serial_s / serial_n * 1000:.0f} ms each)"
    )
    print(
        f"  extrapolated to {n} questions: {serial_extrapolated:.0f} s (measured on {serial_n}, x{n / serial_n:g})"
    )
    print(
        f"concurrency 8: {n} questions in {concurrent_s:.1f} s, {n / max(concurrent_s, 1e-9):.1f} questions/s"
    )
    print(f"  failed turns: {failed} by the endpoint, {ours} by civiclab")
    print(f"  speed-up vs serial: x{serial_extrapolated / concurrent_s:.1f} (ideal x8)")
    print(f"  floor at 8 in flight: {n * DELAY_S / 8:.0f} s")
    if full_s is not None:
        print(
            f"whole run_experiment (store, audit chain, evaluators incl. semantic grounding): {full_s:.1f} s"
        )
    verdict = "OK" if concurrent_s <= TARGET_S and failed == 0 and ours == 0 else "OVER TARGET"
    print(f"target <= {TARGET_S:.0f} s for {n} questions, 0 civiclab failures: {verdict}")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    raise SystemExit(main())
