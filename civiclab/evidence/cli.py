"""The `verify` command (added to `civiclab` by civiclab/cli.py)."""

from __future__ import annotations

import argparse
import json
import os
import sys


def cmd_verify(args: argparse.Namespace) -> int:
    from civiclab.evidence.review import recover_pending
    from civiclab.evidence.signing.trust import load_trust
    from civiclab.evidence.verify.headline import exit_code, headline
    from civiclab.evidence.verify.verification import recovered_row, verify
    from civiclab.store.tracker import Tracker

    tracker = Tracker(args.tracking_uri)
    load_trust(args.trust)  # a bad trust file is named before anything is written
    # Verifying only reads; completing a review left half-recorded is this command's own write,
    # done first (so the run is verified as completed) and shown as the table's first row.
    recovered = recover_pending(tracker, args.run_id)
    result = verify(tracker, args.run_id, args.trust)
    if recovered:
        result.checks.insert(0, recovered_row(recovered))
    code = exit_code(result)
    if args.json:
        print(
            json.dumps(
                result.model_dump(mode="json")
                | {
                    "ok": result.ok,
                    "evidence_ok": result.evidence_ok,
                    "reviews_ok": result.reviews_ok,
                    "exit_code": code,
                    "headline": headline(result, args.lang),
                }
            )
        )
    else:
        print("\n".join(headline(result, args.lang)))
        print()
        print(result.table())
    if not result.ok:
        failure = result.first_failure()
        assert failure is not None
        print(
            f"civiclab: verify failed: run {args.run_id}: {failure.name}: {failure.detail}", file=sys.stderr
        )
    elif code != 0:
        print(
            f"civiclab: verify: run {args.run_id}: evidence intact, signer not checked (no trust file)",
            file=sys.stderr,
        )
    return code


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `verify` on the civiclab command line."""
    p = sub.add_parser(
        "verify",
        help="check a run against its signed statement: signature, store, files, audit log, evaluators, reviews, anchor",
        description="Answers two questions: is the evidence intact, and which committee reviews count (under "
        "the trust file's decision rule). Exit 0: intact, signer trusted, reviews sound; 1: something does "
        "not verify; 3: intact, but no trust file was given, so whose signature it is was not checked.",
    )
    p.add_argument("run_id")
    p.add_argument("--trust", help="the committee's trust file (default: CIVICLAB_TRUST)")
    p.add_argument("--json", action="store_true", help="print the table as one JSON object")
    p.add_argument(
        "--lang",
        choices=["en", "fr"],
        default="fr" if os.environ.get("LANG", "").lower().startswith("fr") else "en",
        help="language of the headline (default: from LANG)",
    )
    p.set_defaults(handler=cmd_verify)
