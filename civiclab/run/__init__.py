"""The steps of one run, each in its own module; `civiclab.run.runner.run_experiment` calls them in order.

- `recording`: the sessions of a run, from the pilot built and the chain opened (or resumed) to the chain closed.
- `sessions`: building the pilot, streaming plans to the spec's executor (`civiclab.run.executors`), replay.
- `journal`: the audit chain and `sessions.jsonl`, written together through one API, redacted first.
- `lifecycle`: signals, salvage of a failed run, orphaned runs, closing what a run opened.
- `artifacts`: metrics, scorecard files, spec copy, signed statement, manifest and the tags that point at them.
- `resume`: finishing a killed run: checks, the longest whole prefix of both files, reopening it.
- `journal_mac`: the lab's MAC over the journal while it is written, checked before a resume.
- `deadline`: a session's time limit (`executor.session_timeout_s`), enforced in whichever process runs it.

The run in the store travels between the steps as one `civiclab.store.stored_run.StoredRun`.
"""
