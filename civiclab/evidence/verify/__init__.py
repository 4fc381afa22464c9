"""Verification of a run: every check, read-only, as one table."""
