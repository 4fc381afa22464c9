"""The `report`, `review` and `compare` commands (added to `civiclab` by civiclab/cli.py)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def cmd_report(args: argparse.Namespace) -> int:
    from civiclab.reporting.render import write_report
    from civiclab.store.tracker import Tracker

    path = write_report(Tracker(args.tracking_uri), args.run_id, args.format, args.output, args.trust)
    print(f"{args.format} report of run {args.run_id}: {path}")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from civiclab.errors import SpecError
    from civiclab.evidence.review import add_review, append_signed_review, sign_offline
    from civiclab.store.tracker import Tracker

    tracker = Tracker(args.tracking_uri)
    if args.signed is not None:
        review = append_signed_review(tracker, args.run_id, _read_signed(args.signed), trust_path=args.trust)
    else:
        if not args.key or not args.decision:
            raise SpecError("review", "--key / --decision", "both are needed to sign (or --signed FILE)")
        fields = {
            "key": args.key,
            "reviewer": args.reviewer,
            "decision": args.decision,
            "comment": args.comment or "",
            "conditions": args.condition,
            "acknowledges": args.acknowledge,
            "trust_path": args.trust,
        }
        if args.out is not None:
            envelope = sign_offline(tracker, args.run_id, **fields)
            args.out.write_text(envelope.to_json(), encoding="utf-8")
            print(
                f"review signed for run {args.run_id}, not recorded: {args.out} "
                "(upload it on the desk, or civiclab review RUN_ID --signed FILE)"
            )
            return 0
        review = add_review(tracker, args.run_id, **fields)
    print(
        f"review recorded: {review.decision.upper()} signed as {review.reviewer} on run {args.run_id} "
        f"(audit line {review.audit_seq + 1}, hash {review.hash[:16]}…)"
    )
    return 0


def _read_signed(path: Path) -> Any:
    from civiclab.errors import SigningError, SpecError
    from civiclab.evidence.signing.envelope import read_envelope

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError(path, "", f"cannot read: {exc.strerror or exc}") from None
    if len(data) > 1024 * 1024:
        raise SpecError(path, "", "larger than 1 MB: not a signed review")
    try:
        return read_envelope(data)
    except SigningError as exc:
        raise SpecError(path, "envelope", str(exc).splitlines()[0]) from None


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
    p.add_argument(
        "--key", help="your signing key, encrypted (civiclab keys init --name NAME --passphrase-env VAR)"
    )
    p.add_argument(
        "--reviewer", help="the name you sign with (reports show the trust file's name for your key)"
    )
    p.add_argument("--decision", choices=["approve", "revise", "reject"])
    p.add_argument("--comment", default="", help="the committee's comment (personal data is redacted)")
    p.add_argument(
        "--condition",
        action="append",
        default=[],
        metavar="TEXT",
        help="a condition of the decision, signed as a field of its own (repeat for each)",
    )
    p.add_argument(
        "--acknowledge",
        action="append",
        default=[],
        metavar="TEXT",
        help="a condition of an earlier review that this review accepts (repeat for each)",
    )
    p.add_argument(
        "--trust",
        help="the committee's trust file (default: CIVICLAB_TRUST): a key it does not list for a reviewing "
        "role is refused before anything is written",
    )
    p.add_argument("--out", type=Path, help="sign only: write the signed review to this file (for the desk)")
    p.add_argument("--signed", type=Path, metavar="FILE", help="record a review signed with --out")
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
