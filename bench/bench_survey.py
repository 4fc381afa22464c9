"""Survey benchmark: the web form under concurrent load on loopback, and scoring 10,000 responses.

Prints submissions per second and p50/p99 latency (request sent to answer read) of `civiclab survey serve`
under N concurrent complete submissions with distinct codes, how many were lost (must be 0: every 303 is
a stored response and every code is used once), and the time to score 10,000 responses (every construct
with bootstrap CIs, alphas, rates and segment breakdowns). The form is measured three ways, side by side:
the SQLite default (one uvicorn process; the baseline), then a PostgreSQL store (started by the bench in a
throwaway cluster, as the integration tests start it) with one process and with `--workers N`.
Targets on a 2-core machine: SQLite >= 150 submissions/s, p99 <= 5 s with 1,000 connections in flight;
PostgreSQL with workers >= 1,000 submissions/s, p99 <= 1 s with 2,000 connections; 0 lost;
scoring 10,000 responses <= 5 s. The load generator runs on the same 2 cores as the server.

Usage: python bench/bench_survey.py [--submissions 2000] [--connections 1000] [--workers 2]
       [--pg-submissions 4000] [--pg-connections 2000] [--responses 10000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from civiclab.spec.instruments import load_instrument
from civiclab.survey.loadtest import start_server, stop_server, submit_concurrently
from civiclab.survey.responses import SurveyResponse
from civiclab.survey.scoring import ScoringOptions, score_survey
from civiclab.survey.store import SurveyStore

INSTRUMENTS = [load_instrument(n) for n in ("sus", "utaut", "trust", "feedback")]
TARGET_PER_S, TARGET_P99_S, TARGET_SCORING_S = 150.0, 5.0, 5.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bench_form(
    submissions: int, connections: int, url: str | None = None, workers: int = 1
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite:///{tmp}/survey.db"
        store = SurveyStore(url)
        codes = store.create_invitations("bench", submissions)
        port = free_port()
        server = start_server("bench", url, port, Path(tmp), workers=workers)
        try:
            result = submit_concurrently(
                f"http://127.0.0.1:{port}", INSTRUMENTS, codes, connections=connections
            )
        finally:
            stop_server(server)
        statuses = Counter(result.statuses)
        stored = store.count("bench")
        used = sum(store.invitation("bench", c).state == "used" for c in codes)
        store.close()
    return {
        "submitted": float(submissions),
        "accepted_303": float(statuses.get(303, 0)),
        "stored": float(stored),
        "lost": float(submissions - stored),
        "codes_used": float(used),
        "other_status": float(sum(v for k, v in statuses.items() if k != 303)),
        "per_s": result.per_second,
        "p50_s": result.p(0.50),
        "p99_s": result.p(0.99),
        "wall_s": result.wall_s,
    }


def synthetic_responses(n: int, seed: int = 0) -> list[SurveyResponse]:
    rng = np.random.default_rng(seed)
    ages = ["18-24", "25-39", "40-64", "65-79", "80+"]
    literacy = ["none", "low", "medium", "high"]
    out = []
    for i in range(n):
        answers: dict[str, int | str] = {}
        for inst in INSTRUMENTS:
            for column, item in inst.columns.items():
                if item.type == "likert" and inst.scale is not None and rng.random() > 0.03:
                    answers[column] = int(rng.integers(inst.scale.min, inst.scale.max + 1))
        segment = {
            "age_band": ages[i % 5],
            "digital_literacy": literacy[i % 4],
            "language": "fr" if i % 7 else "en",
        }
        out.append(SurveyResponse(uid=str(i), complete=i % 10 != 0, answers=answers, segment=segment))
    return out


def bench_scoring(n: int) -> dict[str, float]:
    responses = synthetic_responses(n)
    t0 = time.perf_counter()
    metrics = score_survey(INSTRUMENTS, responses, ScoringOptions(k=5, invited=n + 1000))
    elapsed = time.perf_counter() - t0
    return {"responses": float(n), "seconds": elapsed, "metrics": float(len(metrics))}


def print_form(name: str, form: dict[str, float], connections: int) -> None:
    print(
        f"form, {name}: {int(form['submitted'])} concurrent submissions ({connections} connections) in "
        f"{form['wall_s']:.2f} s -> {form['per_s']:.0f} submissions/s, p50 {form['p50_s'] * 1000:.0f} ms, "
        f"p99 {form['p99_s'] * 1000:.0f} ms; 303 {int(form['accepted_303'])}, stored {int(form['stored'])}, "
        f"codes used {int(form['codes_used'])}, other statuses {int(form['other_status'])}, lost {int(form['lost'])}"
    )


def sound(form: dict[str, float]) -> bool:
    return form["lost"] == 0 and form["other_status"] == 0 and form["codes_used"] == form["submitted"]


def postgres_forms(args: argparse.Namespace) -> list[dict[str, float]]:
    """One PostgreSQL cluster: one process, then `--workers`, each on a fresh database."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import sqlalchemy as sa

    from tests.integration.servers import postgres

    out = []
    with postgres() as base:
        server = sa.create_engine(
            base.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
        )
        for workers in (1, args.workers):
            name = f"survey{workers}"
            with server.connect() as db:
                db.execute(sa.text(f"CREATE DATABASE {name}"))
            url = base.replace("postgresql://", "postgresql+psycopg://").rsplit("/", 1)[0] + f"/{name}"
            form = bench_form(args.pg_submissions, args.pg_connections, url, workers)
            print_form(f"PostgreSQL, {workers} worker(s)", form, args.pg_connections)
            out.append(form)
        server.dispose()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=2000)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)  # one per core: the load generator shares them
    parser.add_argument("--pg-submissions", type=int, default=4000)
    parser.add_argument("--pg-connections", type=int, default=2000)
    parser.add_argument("--responses", type=int, default=10_000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    form = bench_form(args.submissions, args.connections)
    print_form("SQLite, 1 process (the default; baseline)", form, args.connections)
    forms = [] if args.no_postgres else postgres_forms(args)
    if forms:
        one, many = forms
        print(
            f"PostgreSQL with {args.workers} workers: {many['per_s']:.0f}/s = {many['per_s'] / form['per_s']:.2f}x "
            f"the SQLite default, {many['per_s'] / one['per_s']:.2f}x one PostgreSQL process; p99 "
            f"{many['p99_s']:.2f} s (targets >= 1,000/s: {many['per_s'] / 1000:.2f}x; p99 <= 1 s)"
        )
    scoring = bench_scoring(args.responses)
    print(
        f"scoring: {int(scoring['responses'])} responses -> {int(scoring['metrics'])} metrics in "
        f"{scoring['seconds']:.2f} s"
    )
    print(
        f"ratio vs targets: throughput {form['per_s'] / TARGET_PER_S:.2f}x of {TARGET_PER_S:.0f}/s, "
        f"p99 {form['p99_s'] / TARGET_P99_S:.2f} of {TARGET_P99_S:.0f} s budget, "
        f"scoring {scoring['seconds'] / TARGET_SCORING_S:.2f} of {TARGET_SCORING_S:.0f} s budget"
    )
    return 0 if all(sound(f) for f in [form, *forms]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
