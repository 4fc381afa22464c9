"""The steps of one run, each in its own module; `civiclab.runner.run_experiment` calls them in order.

- `sessions`: building the pilot, executing session plans (serially or in a process pool), replay.
- `journal`: the audit chain and `sessions.jsonl`, written together through one API, redacted first.
- `lifecycle`: signals, salvage of a failed run, orphaned runs, closing what a run opened.
- `artifacts`: metrics, scorecard files, spec copy, manifest and the tags that point at them.
"""
