"""xAPI observe-mode benchmark: statements read from a real LRS (Ralph) and built into sessions.

Posts N synthetic statements (default 100,000, about 16 per registration, with a few voided and
duplicated ones) to Ralph on 127.0.0.1 (`fs` backend, `.venv-lrs`), then times what the journey
pilot does in observe mode: read every page through the Statements API (`more` links), archive what
was read (pseudonymised, redacted), deduplicate, void, map to steps and build every session record.
The baseline is the same statements read from a JSON-lines file (no HTTP, no archive). Prints
statements per second for both and their ratio.

Ralph's `fs` backend rescans its file from the start for every page, so the page size matters: the
default asks 5,000 statements a page (Ralph's own default cap is 100, which makes 100,000 statements
take a thousand full scans).

Usage: python bench/bench_xapi_lrs.py [--statements 100000] [--page-size 5000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pilots.journey.lrs import LrsParams, read_lrs  # noqa: E402
from pilots.journey.model import load_journey  # noqa: E402
from pilots.journey.xapi import ObservedStatements, session_from_statements  # noqa: E402
from pilots.journey.xapi_archive import Archive  # noqa: E402
from pilots.journey.xapi_mapping import ActivityMap, default_mapping  # noqa: E402
from pilots.journey.xapi_statement import iter_statements  # noqa: E402
from tests.pilots.ralph_support import RALPH, running_ralph  # noqa: E402

JOURNEY = load_journey(ROOT / "experiments/data/journey/housing_benefit.yaml")
BASE = "https://belleval.example/journeys/housing-benefit"
ADL = "http://adlnet.gov/expapi/verbs/"
PATH = ["web_start", "identity", "household", "income", "documents", "review_web"]


def _statement(
    registration: int, minute: int, verb: str, obj: str, result: dict[str, Any] | None = None
) -> dict[str, Any]:
    reg = str(uuid.UUID(int=registration))
    st: dict[str, Any] = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{reg}/{minute}")),
        "actor": {"objectType": "Agent", "mbox": f"mailto:citizen{registration}@example.org"},
        "verb": {"id": ADL + verb},
        "object": {"objectType": "Activity", "id": obj},
        "timestamp": f"2026-03-{1 + registration % 28:02d}T{8 + minute // 60:02d}:{minute % 60:02d}:00Z",
        "context": {"registration": reg},
        "version": "1.0.3",
    }
    if result:
        st["result"] = result
    return st


def synthetic(n: int) -> list[dict[str, Any]]:
    """n statements: registrations walking the web path, one in 20 voided, ids as an LRS keeps them."""
    out: list[dict[str, Any]] = []
    registration = 0
    while len(out) < n:
        registration += 1
        session = [("initialized", BASE, None)]
        for step in PATH[: 2 + registration % 5]:
            session.append(("attempted", f"{BASE}/steps/{step}", None))
            session.append(("passed", f"{BASE}/steps/{step}", {"success": True, "duration": "PT1M30S"}))
        session.append(("completed", BASE, {"completion": True, "duration": "PT25M"}))
        session.append(("terminated", BASE, None))
        statements = [_statement(registration, m, *args) for m, args in enumerate(session, start=1)]
        out += statements
        if registration % 20 == 0:
            out.append(
                {
                    "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{registration}/void")),
                    "actor": {"objectType": "Agent", "mbox": "mailto:admin@belleval.example"},
                    "verb": {"id": ADL + "voided"},
                    "object": {"objectType": "StatementRef", "id": statements[-2]["id"]},
                    "timestamp": "2026-04-01T00:00:00Z",
                }
            )
    return out[:n]


def build(statements: Any, archive: Archive | None = None) -> tuple[int, int]:
    observed = ObservedStatements(ActivityMap(default_mapping(JOURNEY), JOURNEY), "bench-salt", {}, "bench")
    for st in statements:
        if archive is not None:
            archive.write(st)
        observed.add(st)
    plans = observed.plans(10**9)
    records = [session_from_statements(JOURNEY, p) for p in plans]
    return observed.report.statements_read, len(records)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=5000)
    args = parser.parse_args()
    if not RALPH.exists():
        print(f"bench_xapi_lrs: {RALPH} missing; run `make lrs`", file=sys.stderr)
        return 1
    statements = synthetic(args.statements)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        file = folder / "statements.jsonl"
        file.write_text("".join(json.dumps(s) + "\n" for s in statements))
        t = time.perf_counter()
        read_file, sessions_file = build(iter_statements(file))
        file_s = time.perf_counter() - t
        with running_ralph(folder, max_page=args.page_size) as ralph:
            t = time.perf_counter()
            ralph.post(statements)
            post_s = time.perf_counter() - t
            os.environ["BENCH_LRS_AUTH"] = ralph.credentials
            params = LrsParams(
                url=ralph.url, auth_env="BENCH_LRS_AUTH", page_size=args.page_size, timeout_s=600
            )
            t = time.perf_counter()
            fetched = list(read_lrs(params))
            fetch_s = time.perf_counter() - t
            t = time.perf_counter()
            archive = Archive(folder / "archive.jsonl", "bench-salt")
            read_lrs_n, sessions_lrs = build(read_lrs(params), archive)
            archive.close()
            lrs_s = time.perf_counter() - t
    assert read_lrs_n == read_file == len(fetched) == len(statements), (read_lrs_n, read_file, len(fetched))
    assert sessions_lrs == sessions_file
    file_rate, lrs_rate = read_file / file_s, read_lrs_n / lrs_s
    print(
        f"statements: {len(statements):,} ({sessions_file:,} sessions), Ralph fs backend, page size {args.page_size}"
    )
    print(
        f"POST to Ralph (one request):            {post_s:8.1f} s  ({len(statements) / post_s:,.0f} statements/s)"
    )
    print(
        f"GET from Ralph only (all pages):        {fetch_s:8.1f} s  ({len(fetched) / fetch_s:,.0f} statements/s)"
    )
    print(f"LRS -> archive + sessions (the pilot):  {lrs_s:8.1f} s  ({lrs_rate:,.0f} statements/s)")
    print(f"file -> sessions (baseline):            {file_s:8.1f} s  ({file_rate:,.0f} statements/s)")
    print(f"ratio file/LRS: {file_rate / lrs_rate:.1f}x (reading from the LRS is that many times slower)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
