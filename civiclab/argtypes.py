"""Command-line value types that refuse out-of-range values at parse time (exit 2, naming the option)."""

from __future__ import annotations

import argparse

MAX_WORKERS = 256


def workers(text: str) -> int:
    """`--workers`: a whole number of processes from 1 to 256."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"{value}: give a number of processes from 1 to {MAX_WORKERS}")
    return value
