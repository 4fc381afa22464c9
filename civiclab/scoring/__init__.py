"""Metrics to verdicts to GO / ITERATE / STOP: the scorecard, criteria, gaps, equity, dimensions and ALTAI."""
