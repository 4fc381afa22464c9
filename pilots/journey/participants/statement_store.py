"""civiclab's own statement store: the participants' xAPI statements in one SQLite file.

Used when the experiment names no LRS. Observe mode reads it back (`store:` in the pilot params) as
it reads an LRS; withdrawal deletes a registration's statements outright, which an LRS cannot do
(there, civiclab voids them). One writer at a time (SQLite), WAL journal so reads never wait.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS statements (
    id TEXT PRIMARY KEY,
    registration TEXT NOT NULL,
    stored REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS statements_registration ON statements (registration);
"""


class StatementStore:
    """Statements by id (a statement sent twice is kept once), with their registration."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at each checkpoint
        self._conn.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def add(self, statements: Iterable[dict[str, Any]]) -> int:
        """Store statements in one transaction; returns how many were new."""
        now = time.time()
        rows = [
            (st["id"], st["context"]["registration"], now, json.dumps(st, sort_keys=True))
            for st in statements
        ]
        with self._lock:
            before = self._conn.total_changes
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany("INSERT OR IGNORE INTO statements VALUES (?, ?, ?, ?)", rows)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return self._conn.total_changes - before

    def withdraw(self, registration: str) -> int:
        """Delete every statement of a registration; returns how many were deleted."""
        with self._lock:
            cursor = self._conn.execute("DELETE FROM statements WHERE registration = ?", (registration,))
            return cursor.rowcount

    def count(self, registration: str | None = None) -> int:
        with self._lock:
            if registration is None:
                return int(self._conn.execute("SELECT count(*) FROM statements").fetchone()[0])
            query = "SELECT count(*) FROM statements WHERE registration = ?"
            return int(self._conn.execute(query, (registration,)).fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def read_store(path: Path, page: int = 1000) -> Iterator[dict[str, Any]]:
    """Every statement of a store file, oldest first, read in pages (observe mode)."""
    if not path.exists():
        return
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        last = -1
        while True:
            rows = conn.execute(
                "SELECT rowid, body FROM statements WHERE rowid > ? ORDER BY rowid LIMIT ?", (last, page)
            ).fetchall()
            if not rows:
                return
            for rowid, body in rows:
                last = rowid
                yield json.loads(body)
    finally:
        conn.close()
