"""Run in a fresh interpreter (cold imports): one run of an external assistant against the stand-in,
recording which thread imported each module first. Prints one JSON line: the modules first imported on a
thread other than the run's own (the dispatcher's; the stand-in's threads import nothing new).

Usage: python -m tests.pilots.race_probe FOLDER KIND   (KIND: openai | langchain)
"""

from __future__ import annotations

import json
import os
import sys
import threading

first_importer: dict[str, str] = {}


def _hook(event: str, args: tuple[object, ...]) -> None:
    if event == "import" and args[0] not in first_importer:
        first_importer[str(args[0])] = threading.current_thread().name


def main(folder: str, kind: str) -> None:
    from pathlib import Path

    from civiclab.plugins.experiment import load_experiment
    from civiclab.run.runner import run_experiment
    from pilots.assistant.standin import serve
    from tests.pilots.assistant_support import DATA
    from tests.pilots.byo_support import byo_spec

    out = Path(folder)
    with serve(DATA / "knowledge_base.yaml") as url:
        os.environ["LAB_BOT_URL"] = f"{url}/v1"
        system = (
            {"kind": "openai", "base_url": f"{url}/v1", "model": "lab-bot"}
            if kind == "openai"
            else {"kind": "python", "object": "tests.pilots.lab_bots:chain"}
        )
        system["calls"] = {"concurrency": 8, "retries": 0}
        spec = byo_spec(out, system, sessions=24, evaluators=["auditability"])
        result = run_experiment(load_experiment(spec), tracking_uri=f"sqlite:///{out}/m.db")
    sessions = [json.loads(line) for line in (Path(result.artifact_dir or out) / "sessions.jsonl").open()]
    turns = [t for s in sessions for t in s["data"]["turns"]]
    on_dispatch = sorted(f"{m} ({thread})" for m, thread in first_importer.items() if thread != "MainThread")
    print(
        json.dumps(
            {
                "imported_off_the_run_thread": on_dispatch,
                "turns": len(turns),
                "failed": [t.get("error") for t in turns if t["status"] == "failed"],
            }
        )
    )


if __name__ == "__main__":
    sys.addaudithook(_hook)
    main(sys.argv[1], sys.argv[2])
