"""A one-line progress bar on stderr for long runs (`civiclab run`, `civiclab demo`)."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    """A one-line progress bar on stderr for long runs (only on a terminal)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.enabled = sys.stderr.isatty()
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < 200:
            return
        now = time.monotonic()
        if done != total and now - self._last < 0.1:
            return
        self._last = now
        width = 30
        filled = int(width * done / total)
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()
