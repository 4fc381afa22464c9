"""One process at a time creates or migrates a local MLflow store.

Two runs started at the same moment on a new SQLite store both ran MLflow's schema migrations;
the second failed with `duplicate column name: step` or `Online migration expected to match one
row`. Opening the store (which creates and migrates it) is serialised with an exclusive lock on
a file beside the database; once the schema is current, opening it again is quick, so the lock is
held for milliseconds except the first time.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from civiclab.errors import TrackingError

log = logging.getLogger(__name__)
LOCK_TIMEOUT_S = 120.0


@contextlib.contextmanager
def store_lock(database: Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold an exclusive lock on `DATABASE.lock` (POSIX `flock`), waiting at most `timeout_s`.

    Raises:
        TrackingError: the lock file cannot be created, or another process held it too long.
    """
    path = database.with_name(database.name + ".lock")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise TrackingError(f"{path}: cannot create the store's lock file: {exc.strerror or exc}") from None
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TrackingError(
                        f"{database}: another civiclab process has held the store's lock for over "
                        f"{timeout_s:.0f} s (remove {path} if no civiclab is running)"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
