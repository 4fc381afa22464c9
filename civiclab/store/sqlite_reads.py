"""Reading runs from a local SQLite MLflow store with the standard library, without importing MLflow.

Importing MLflow and opening its client takes about 2 s, more than reading a run: a committee member
who types `civiclab verify` waits for it. `SqliteReads` answers what `SqlReads` answers (the same
queries over MLflow's tables, the same `RunSummary`) through `sqlite3`, opened read-only, so
reading a run on the default store never imports MLflow nor SQLAlchemy. Only `Tracker` uses it, and
falls back to MLflow's API on any error (a schema it does not know, a store not yet created).
"""

from __future__ import annotations

import os
import sqlite3
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Collection
from contextlib import closing
from pathlib import Path
from typing import Any

from civiclab.store.reads import (
    DATA_TABLES,
    RUN_HEAD,
    RunSummary,
    id_batches,
    listing_query,
    row_value,
    run_summary,
)
from civiclab.store.schema import VERSION_TAG

_NEEDED = frozenset({"runs", "experiments", "tags", "params", "latest_metrics"})
# SQLite writes the database file itself (rollback journal) or its -wal file (WAL mode); -journal exists
# while a writer is in a transaction.
_STORE_FILES = ("", "-wal", "-journal")
# A file changed this recently may change again within the filesystem's timestamp granularity without
# its times moving: its stamp is not trusted (git's "racily clean" rule).
RACY_S = 2.0


class SqliteReads:
    """The run tables of one SQLite store file, read through a read-only connection per read."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        # Read-only: a reader never creates, migrates nor locks the store for writing. A connection
        # per read, because the desk reads from several threads and sqlite3 ties one to its thread.
        uri = f"file:{urllib.parse.quote(str(self.path))}?mode=ro"
        return sqlite3.connect(uri, uri=True, timeout=5)

    def close(self) -> None:
        """Nothing is held between reads."""

    def holds_runs(self) -> bool:
        """Whether the file already has MLflow's run tables (False for a store not yet created)."""
        if not self.path.is_file():
            return False
        try:
            with closing(self._connect()) as db:
                names = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.Error:
            return False
        return names >= _NEEDED

    def stamp(self) -> tuple[Any, ...] | None:
        """What changes whenever anything is written to the store: inode, size, mtime and ctime of the
        database file and of its journal files. None while a write may be too recent to show in them.

        ctime cannot be set back by a user (`touch -d` sets mtime and moves ctime forward), so an edit of
        the store followed by a reset of its mtime still changes the stamp.
        """
        out: list[Any] = []
        newest = 0
        for suffix in _STORE_FILES:
            try:
                st = os.stat(f"{self.path}{suffix}")
            except FileNotFoundError:
                out.append(None)
                continue
            except OSError:
                return None
            out.append((st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
            newest = max(newest, st.st_mtime_ns, st.st_ctime_ns)
        if time.time_ns() - newest < RACY_S * 1e9:
            return None
        return tuple(out)

    def get_run(self, run_id: str) -> RunSummary | None:
        """The run with every tag, param and latest metric, or None when the store has no such run."""
        with closing(self._connect()) as db:
            head = db.execute(RUN_HEAD, {"r": run_id}).fetchone()
            if head is None:
                return None
            data = _data(db, [run_id], DATA_TABLES)
        return run_summary((run_id, *head), data)

    def list_runs(
        self, experiment: str | None, max_results: int, tag_keys: Collection[str] | None = None
    ) -> list[RunSummary]:
        """As `SqlReads.list_runs`: newest first; with `tag_keys`, only those tags and no metrics or params."""
        bound = {"version": VERSION_TAG, "name": experiment, "limit": max_results}
        with closing(self._connect()) as db:
            runs = db.execute(listing_query(experiment is not None), bound).fetchall()
            ids = [str(row[0]) for row in runs]
            if tag_keys is None:
                data = _data(db, ids, DATA_TABLES)
            else:
                data = _data(db, ids, (("tags", "key, value"),), sorted(tag_keys))
        return [run_summary(tuple(row), data) for row in runs]


def _data(
    db: sqlite3.Connection, ids: list[str], tables: tuple[tuple[str, str], ...], keys: list[str] | None = None
) -> dict[str, dict[str, dict[str, Any]]]:
    """Rows of `tables` for the runs `ids` (only `keys` when given): table -> run id -> key -> value."""
    found: dict[str, dict[str, dict[str, Any]]] = {
        table: defaultdict(dict) for table in ("tags", "params", "latest_metrics")
    }
    key_filter = f" AND key IN ({', '.join('?' * len(keys))})" if keys else ""
    for table, columns in tables:
        if keys is not None and not keys:
            break
        for batch in id_batches(ids):
            marks = ", ".join("?" * len(batch))
            query = f"SELECT run_uuid, {columns} FROM {table} WHERE run_uuid IN ({marks}){key_filter}"  # noqa: S608
            for row in db.execute(query, [*batch, *(keys or [])]):
                found[table][row[0]][row[1]] = row_value(table, row)
    return found
