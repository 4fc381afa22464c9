"""Numbers with uncertainty: intervals, sample sizes, streaming aggregates and significance tests."""
