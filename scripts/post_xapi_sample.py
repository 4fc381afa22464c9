"""POST an xAPI export (the SYNTHETIC sample by default) to an LRS, to try `experiments/with_services/journey_lrs.yaml`.

Credentials come from an environment variable holding `user:password` (CIVICLAB_LRS_AUTH by default).

Usage: python scripts/post_xapi_sample.py [--url http://127.0.0.1:8100/xAPI/] [--file PATH] [--auth-env VAR]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import httpx

from pilots.journey.xapi_statement import check_statement, iter_statements

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8100/xAPI/")
    parser.add_argument("--file", type=Path, default=ROOT / "experiments/data/journey/xapi_statements.jsonl")
    parser.add_argument("--auth-env", default="CIVICLAB_LRS_AUTH")
    args = parser.parse_args()
    user, _, password = os.environ.get(args.auth_env, "").partition(":")
    if not password:
        print(f"post_xapi_sample: set {args.auth_env}=user:password", file=sys.stderr)
        return 2
    # An LRS refuses a whole batch for one invalid statement or a repeated id: post each valid one once.
    seen: set[str] = set()
    statements = []
    for st in iter_statements(args.file):
        if check_statement(st) is None and st.get("id") not in seen:
            seen.add(st.get("id"))
            statements.append(st)
    url = args.url.rstrip("/") + "/statements"
    with httpx.Client(
        auth=(user, password), headers={"X-Experience-API-Version": "1.0.3"}, timeout=120
    ) as client:
        # One request: Ralph's `fs` backend creates its file once and refuses later writes of new statements.
        client.post(url, json=statements).raise_for_status()
    print(f"posted {len(statements)} statements to {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
