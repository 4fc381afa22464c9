"""The `report`, `review` and `compare` commands (added to `civiclab` by civiclab/cli.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def cmd_report(args: argparse.Namespace) -> int:
    from civiclab.reporting.render import write_report
    from civiclab.store.tracker import Tracker

    path = write_report(Tracker(args.tracking_uri), args.run_id, args.format, args.output, args.trust)
    print(f"{args.format} report of run {args.run_id}: {path}")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from civiclab.evidence.review import add_review
    from civiclab.store.tracker import Tracker

    review = add_review(
        Tracker(args.tracking_uri),
        args.run_id,
        key=args.key,
        reviewer=args.reviewer,
        decision=args.decision,
        comment=args.comment or "",
        conditions=args.condition,
    )
    print(
        f"review recorded: {review.decision.upper()} by {review.reviewer} on run {args.run_id} "
        f"(audit line {review.audit_seq + 1}, hash {review.hash[:16]}…)"
    )
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from civiclab.errors import SpecError
    from civiclab.reporting.compare import compare_runs
    from civiclab.reporting.compare_html import write_compare_html
    from civiclab.store.tracker import Tracker

    if bool(args.run_ids) == bool(args.experiment):
        raise SpecError("compare", "RUN_ID / --experiment", "give two or more run ids, or --experiment NAME")
    report = compare_runs(
        Tracker(args.tracking_uri), run_ids=args.run_ids or None, experiment=args.experiment
    )
    for note in report.notes:
        if "did not finish" in note:
            print(f"warning: {note}", file=sys.stderr)
    if args.output is not None:
        page = write_compare_html(report, Path(args.output))
        if not args.json:
            print(f"comparison page: {page}")
    if args.json:
        print(json.dumps(report.model_dump(mode="json")))
    else:
        from civiclab.reporting.compare import to_text

        print(to_text(report))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register `report`, `review` and `compare` on the civiclab command line."""
    p = sub.add_parser(
        "report",
        help="write a run's scorecard as HTML, Markdown or PDF",
        description="Write the scorecard report of a run (default: reports/RUN_ID/scorecard.FORMAT, "
        "outside the run's artifacts, so the run still verifies).",
    )
    p.add_argument("run_id")
    p.add_argument("--format", choices=["html", "md", "pdf"], default="html")
    p.add_argument("--output", type=Path, help="file (or folder) to write")
    p.add_argument("--trust", help="trust file saying whose signatures count (default: CIVICLAB_TRUST)")
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser(
        "review",
        help="sign a committee decision on a run (appended to its audit chain)",
        description="Sign a committee decision with your key (a DSSE envelope over the run's signed "
        "statement) and append it to the run's audit chain, manifest and tags. Refused when the run "
        "does not verify. The trust file says whose key it is and in which role.",
    )
    p.add_argument("run_id")
    p.add_argument("--key", required=True, help="your signing key (civiclab keys init --name NAME)")
    p.add_argument("--reviewer", help="your name as reports show it (default: the key's name)")
    p.add_argument("--decision", required=True, choices=["approve", "revise", "reject"])
    p.add_argument("--comment", default="", help="the committee's comment (personal data is redacted)")
    p.add_argument(
        "--condition",
        action="append",
        default=[],
        metavar="TEXT",
        help="a condition of the decision, signed as a field of its own (repeat for each)",
    )
    p.set_defaults(handler=cmd_review)

    p = sub.add_parser(
        "compare",
        help="compare runs with intervals, significance tests and effect sizes",
        description="Compare runs against the first one (or the oldest run of --experiment): metrics with "
        "intervals and deltas, a test suited to each metric (paired when sessions pair), effect sizes, "
        "parameters that differ, per-segment results and plots.",
    )
    p.add_argument("run_ids", nargs="*", metavar="RUN_ID")
    p.add_argument("--experiment", help="compare every finished run of this experiment")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--output", help="folder for compare.html and the plots (PNG)")
    p.set_defaults(handler=cmd_compare)
