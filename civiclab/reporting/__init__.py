"""Reports for committees and comparisons for researchers.

- `civiclab.reporting.runs`: what a report reads of a run (scorecard, metrics, spec, manifest, sessions).
- `civiclab.reporting.document`: the report's content (scorecard, public-service dimensions, impact,
  ALTAI, changes since the previous run, verification), rendered by `html`, `markdown` and `pdf`.
- `civiclab.reporting.answers`: the two answers every surface (reports, desk) gives, worded once from
  `civiclab verify`: is the evidence intact, what has the committee decided, and each review's line.
- `civiclab.reporting.compare` and `civiclab.reporting.tests`: run comparisons with significance tests.
- `civiclab.reporting.cli`: the `report`, `review` and `compare` commands.
"""
