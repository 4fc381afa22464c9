"""Survey benchmark: the web form under concurrent load on loopback, and scoring 10,000 responses.

Prints submissions per second and p50/p99 latency (request sent to answer read) of `civiclab survey serve`
under N concurrent complete submissions with distinct codes, how many were lost (must be 0: every 303 is
a stored response and every code is used once), and the time to score 10,000 responses (every construct
with bootstrap CIs, alphas, rates and segment breakdowns). The form is measured three ways, side by side:
the SQLite default (one uvicorn process; the baseline), then a PostgreSQL store (started by the bench in a
throwaway cluster, as the integration tests start it) with one process and with `--workers N`.
Targets on a 2-core machine: SQLite >= 150 submissions/s, p99 <= 5 s with 1,000 connections in flight;
PostgreSQL with workers >= 1,000 submissions/s, p99 <= 1 s with 2,000 connections; 0 lost;
scoring 10,000 responses <= 5 s. The load generator runs on the same 2 cores as the server, so each
configuration is driven twice, each time with fresh codes: by the Python client (civiclab.survey.loadtest)
and by a raw-socket node client (bench/survey_client.mjs, about a third of the Python client's CPU per
request); the node figure is the headline, the Python one is printed beside it. Both are closed loops
(each connection sends again once answered), whose latency is connections / throughput by Little's law:
with 2,000 connections, p99 <= 1 s needs more than 2,000/s. So PostgreSQL with workers is also driven as
participants arrive, at `--rate` submissions a second over the same 2,000 open connections (open loop,
latency from when each submission was due). CPU per submission (server processes, database backends,
client) and the load average are printed beside each figure: on a shared machine they say more than
the rate.

Usage: python bench/bench_survey.py [--submissions 2000] [--connections 1000] [--workers 2]
       [--pg-submissions 4000] [--pg-connections 2000] [--rate 1000] [--responses 10000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from civiclab.spec.instruments import load_instrument
from civiclab.survey.loadtest import prepared_submissions, start_server, stop_server, submit_concurrently
from civiclab.survey.responses import SurveyResponse
from civiclab.survey.scoring import ScoringOptions, score_survey
from civiclab.survey.store import SurveyStore

INSTRUMENTS = [load_instrument(n) for n in ("sus", "utaut", "trust", "feedback")]
TARGET_PER_S, TARGET_P99_S, TARGET_SCORING_S = 150.0, 5.0, 5.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


ROOT = Path(__file__).resolve().parents[1]


def cpu_seconds(root_pid: int) -> float:
    """CPU time used so far by a process and its children (the server's workers, a cluster's backends)."""
    import psutil

    try:
        root = psutil.Process(root_pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return float("nan")
    total = 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            continue  # a backend that ended meanwhile: its time is lost, a small under-count
    return total


def postmaster_pid(url: str) -> int | None:
    """The PostgreSQL server listening on the URL's port (to count its backends' CPU), if found."""
    import psutil

    port = url.rsplit(":", 1)[-1].split("/", 1)[0]
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["name"] == "postgres" and f"-p {port}" in cmdline:
            return int(proc.pid)
    return None


def native_client() -> str | None:
    """Why the node load generator cannot run here, or None when it can."""
    return "node is not installed" if shutil.which("node") is None else None


def submit_with_node(
    base_url: str, codes: list[str], connections: int, tmp: Path, rate: float | None = None
) -> dict[str, float]:
    """The same submissions as the Python client's, sent by bench/survey_client.mjs on node: as fast as
    answered (closed loop), or at `rate` a second whatever the answers (open loop)."""
    cookie, bodies = prepared_submissions(base_url, INSTRUMENTS, codes)
    plan = tmp / "load-plan.json"
    plan.write_text(
        json.dumps(
            {
                "url": base_url,
                "path": "/fr/survey",
                "cookie": cookie,
                "connections": connections,
                "rate": rate,
                "bodies": [b.decode() for b in bodies],
            }
        )
    )
    done = subprocess.run(
        ["node", str(ROOT / "bench" / "survey_client.mjs"), str(plan)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    got = json.loads(done.stdout.strip().splitlines()[-1])
    statuses = {int(k): v for k, v in got["statuses"].items()}
    return {
        "wall_s": got["wall_s"],
        "per_s": len(codes) / got["wall_s"],
        "p50_s": got["p50_ms"] / 1000,
        "p99_s": got["p99_ms"] / 1000,
        "accepted_303": float(statuses.get(303, 0)),
        "other_status": float(sum(v for k, v in statuses.items() if k != 303) + got["errors"]),
        "client_cpu_s": got["client_cpu_s"],
    }


def submit_with_python(base_url: str, codes: list[str], connections: int) -> dict[str, float]:
    cpu = time.process_time()  # the client runs in this process, which does nothing else meanwhile
    result = submit_concurrently(base_url, INSTRUMENTS, codes, connections=connections)
    cpu = time.process_time() - cpu
    statuses = Counter(result.statuses)
    return {
        "wall_s": result.wall_s,
        "per_s": result.per_second,
        "p50_s": result.p(0.50),
        "p99_s": result.p(0.99),
        "accepted_303": float(statuses.get(303, 0)),
        "other_status": float(sum(v for k, v in statuses.items() if k != 303)),
        "client_cpu_s": cpu,
    }


def bench_form(
    submissions: int,
    connections: int,
    url: str | None = None,
    workers: int = 1,
    native: bool = True,
    rate: float | None = None,
) -> dict[str, dict[str, float]]:
    """The form under each load generator in turn (Python, node, then node at `rate` a second in an open
    loop), on one server and store.

    Each client sends its own fresh codes; what it lost is counted in the store, never from its answers.
    """
    clients = ["python", "node"] if native else ["python"]
    if native and rate:
        clients.append(f"open loop at {rate:.0f}/s")
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite:///{tmp}/survey.db"
        store = SurveyStore(url)
        codes = {client: store.create_invitations("bench", submissions) for client in clients}
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        server = start_server("bench", url, port, Path(tmp), workers=workers)
        try:
            database = postmaster_pid(url) if url.startswith("postgresql") else None
            for client in clients:
                before = store.count("bench")
                cpu_before = cpu_seconds(server.pid), cpu_seconds(database) if database else 0.0
                if client == "python":
                    form = submit_with_python(base_url, codes[client], connections)
                elif client == "node":
                    form = submit_with_node(base_url, codes[client], connections, Path(tmp))
                else:
                    form = submit_with_node(base_url, codes[client], connections, Path(tmp), rate)
                cpu_after = cpu_seconds(server.pid), cpu_seconds(database) if database else 0.0
                stored = store.count("bench") - before
                used = sum(store.invitation("bench", c).state == "used" for c in codes[client])
                form.update(
                    submitted=float(submissions),
                    stored=float(stored),
                    lost=float(submissions - stored),
                    codes_used=float(used),
                    load_1min=os.getloadavg()[0],
                    server_cpu_ms=(cpu_after[0] - cpu_before[0]) * 1000 / submissions,
                    database_cpu_ms=(cpu_after[1] - cpu_before[1]) * 1000 / submissions,
                )
                out[client] = form
        finally:
            stop_server(server)
        store.close()
    return out


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


def print_form(name: str, forms: dict[str, dict[str, float]], connections: int) -> None:
    for client, form in forms.items():
        cpu = f", client {form['client_cpu_s'] * 1000 / form['submitted']:.2f} ms"
        print(
            f"form, {name}, {client} client: {int(form['submitted'])} concurrent submissions ({connections} "
            f"connections) in {form['wall_s']:.2f} s -> {form['per_s']:.0f} submissions/s, p50 "
            f"{form['p50_s'] * 1000:.0f} ms, p99 {form['p99_s'] * 1000:.0f} ms; 303 {int(form['accepted_303'])}, "
            f"stored {int(form['stored'])}, codes used {int(form['codes_used'])}, other statuses "
            f"{int(form['other_status'])}, lost {int(form['lost'])}; CPU per submission: server "
            f"{form['server_cpu_ms']:.2f} ms, database {form['database_cpu_ms']:.2f} ms{cpu} "
            f"(load {form['load_1min']:.2f})"
        )


def best(forms: dict[str, dict[str, float]]) -> dict[str, float]:
    """The closed-loop figure of the lightest client: the one that measures the server rather than itself."""
    return forms.get("node") or forms["python"]


def open_loop(forms: dict[str, dict[str, float]]) -> tuple[str, dict[str, float]] | None:
    return next(((k, v) for k, v in forms.items() if k.startswith("open loop")), None)


def sound(form: dict[str, float]) -> bool:
    return form["lost"] == 0 and form["other_status"] == 0 and form["codes_used"] == form["submitted"]


def server_stack() -> str:
    import importlib.util

    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"uvicorn on {loop} with {http}"


def postgres_forms(args: argparse.Namespace, native: bool) -> list[dict[str, dict[str, float]]]:
    """One PostgreSQL cluster: one process, then `--workers`, each on a fresh database."""
    import sys

    sys.path.insert(0, str(ROOT))
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
            rate = args.rate if workers > 1 else None
            forms = bench_form(args.pg_submissions, args.pg_connections, url, workers, native, rate)
            print_form(f"PostgreSQL, {workers} worker(s)", forms, args.pg_connections)
            out.append(forms)
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
    # Participants arriving at this rate over --pg-connections open connections, PostgreSQL with workers.
    parser.add_argument("--rate", type=float, default=1000.0)
    args = parser.parse_args()

    missing = native_client()
    print(
        f"server: {server_stack()}; load generators on the same 2 cores: the Python client, then "
        f"{'a raw-socket node client' if missing is None else f'no node client ({missing})'}"
    )
    forms = bench_form(args.submissions, args.connections, native=missing is None)
    print_form("SQLite, 1 process (the default; baseline)", forms, args.connections)
    pg = [] if args.no_postgres else postgres_forms(args, missing is None)
    form = best(forms)
    if pg:
        one, many = best(pg[0]), best(pg[1])
        print(
            f"PostgreSQL with {args.workers} workers: {many['per_s']:.0f}/s = {many['per_s'] / form['per_s']:.2f}x "
            f"the SQLite default, {many['per_s'] / one['per_s']:.2f}x one PostgreSQL process; p99 "
            f"{many['p99_s']:.2f} s (targets >= 1,000/s: {many['per_s'] / 1000:.2f}x; p99 <= 1 s); with "
            f"{args.pg_connections} connections each sending again once answered, p99 cannot fall below "
            f"{args.pg_connections} / throughput (Little's law)"
        )
        arriving = open_loop(pg[1])
        if arriving is not None:
            name, arrived = arriving
            print(
                f"PostgreSQL with {args.workers} workers, participants arriving {name.removeprefix('open loop ')} "
                f"over {args.pg_connections} open connections: {arrived['per_s']:.0f}/s answered, p50 "
                f"{arrived['p50_s'] * 1000:.0f} ms, p99 {arrived['p99_s'] * 1000:.0f} ms (target p99 <= 1 s), lost "
                f"{int(arrived['lost'])}"
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
    every = [f for run in [forms, *pg] for f in run.values()]
    return 0 if all(sound(f) for f in every) else 1


if __name__ == "__main__":
    raise SystemExit(main())
