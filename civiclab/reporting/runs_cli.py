"""`civiclab runs` and `civiclab show`: what the store holds, read only."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from civiclab.store.schema import (
    AUDIT_ROOT_TAG,
    ENERGY_METHOD_TAG,
    ERROR_TAG,
    GIT_SHA_TAG,
    RECOMMENDATION_TAG,
    SCORECARD_FILE,
    SPEC_SHA256_TAG,
    TAG_PREFIX,
)


def cmd_runs(args: argparse.Namespace) -> int:
    """List runs; read only: a run whose process vanished is shown FAILED, not rewritten."""
    from civiclab.run.lifecycle import shown_status
    from civiclab.store.tracker import Tracker

    tracker = Tracker(args.tracking_uri)
    runs = tracker.list_runs(args.experiment, max_results=args.limit)
    statuses = {r.run_id: shown_status(r) for r in runs}
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "run_id": r.run_id,
                        "experiment": r.experiment,
                        "status": statuses[r.run_id],
                        "recommendation": r.tags.get(RECOMMENDATION_TAG),
                        "start_time": r.start_time,
                    }
                    for r in runs
                ]
            )
        )
        return 0
    if not runs:
        print("no civiclab runs in this store yet: try `civiclab run experiments/journey.yaml`")
        return 0
    print(f"{'run id':32}  {'experiment':28}  {'status':9}  {'recommendation':14}  started")
    for r in runs:
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.start_time / 1000))
        print(
            f"{r.run_id:32}  {r.experiment[:28]:28}  {statuses[r.run_id]:9}  "
            f"{r.tags.get(RECOMMENDATION_TAG, '-'):14}  {started}"
        )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    import tempfile

    from civiclab.scoring.scorecard import Scorecard
    from civiclab.scoring.scorecard_text import to_table
    from civiclab.store.tracker import Tracker

    tracker = Tracker(args.tracking_uri)
    run = tracker.get_run(args.run_id)
    with tempfile.TemporaryDirectory() as tmp:
        folder = tracker.download(args.run_id, Path(tmp))
        from civiclab.store.files import read_artifact

        try:
            card_bytes: bytes | None = read_artifact(folder, SCORECARD_FILE)
        except FileNotFoundError:
            card_bytes = None
        if args.json:
            data = json.loads(card_bytes) if card_bytes is not None else None
            print(
                json.dumps(
                    {
                        "run_id": run.run_id,
                        "experiment": run.experiment,
                        "status": run.status,
                        "metrics": run.metrics,
                        "scorecard": data,
                    }
                )
            )
            return 0
        print(f"run {run.run_id} · experiment {run.experiment} · status {run.status}")
        for key in (
            SPEC_SHA256_TAG,
            AUDIT_ROOT_TAG,
            GIT_SHA_TAG,
            ENERGY_METHOD_TAG,
        ):
            if key in run.tags:
                print(f"  {key.removeprefix(TAG_PREFIX)}: {run.tags[key]}")
        if ERROR_TAG in run.tags:
            print(f"  error: {run.tags[ERROR_TAG]}")
        if card_bytes is not None:
            print()
            print(to_table(Scorecard.model_validate_json(card_bytes)))
        else:
            print("  no scorecard: the run did not finish")
    return 0
