"""The assistant pilot's own commands (`civiclab assistant scan`), added through the `civiclab.commands`
entry point. Kept outside `pilots.assistant` so that every `civiclab` start does not import the pilot."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def cmd_scan(args: argparse.Namespace) -> int:
    from pilots.assistant.scan import run_scan

    experiment = Path(args.experiment)
    out = Path(args.out) if args.out else Path(f"scan-{experiment.stem}")
    report = run_scan(experiment, out, Path(args.bank) if args.bank else None)
    for c in report.categories:
        share = "–" if c.share_passed is None else f"{c.share_passed:.2f}"
        print(
            f"{c.category:20} {c.passed:3d} passed  {c.failed:3d} failed  {c.errors:3d} no answer  ({share})"
        )
    print(f"report: {out / 'scan.md'} and {out / 'scan.json'}")
    # 0: every probe passed; 1: the report was written and some probe did not pass; 2: bad input.
    return 0 if report.all_passed else 1


def add_commands(sub: Any) -> None:
    """`civiclab assistant scan EXPERIMENT [--out DIR] [--bank FILE]`."""
    assistant = sub.add_parser("assistant", help="the assistant pilot's own commands")
    commands = assistant.add_subparsers(dest="assistant_command")
    p = commands.add_parser(
        "scan",
        help="ask the adversarial bank alone to the experiment's system and write a report (md + JSON)",
    )
    p.add_argument("experiment", help="an assistant experiment YAML (its `system` is the one scanned)")
    p.add_argument("--out", help="the report's folder (default: ./scan-<experiment>)")
    p.add_argument("--bank", help="a bank of the lab's own, in the shape of civiclab's (default: civiclab's)")
    p.set_defaults(handler=cmd_scan)
