"""Reports for committees and comparisons for researchers.

- `civiclab.reporting.runs`: what a report reads of a run (scorecard, metrics, spec, manifest, sessions).
- `civiclab.reporting.document`: the report's content (scorecard, public-service dimensions, impact,
  ALTAI, changes since the previous run, verification), rendered by `html`, `markdown` and `pdf`.
- `civiclab.reporting.compare` and `civiclab.reporting.tests`: run comparisons with significance tests.
- `civiclab.reporting.cli`: the `report`, `review` and `compare` commands.
"""
