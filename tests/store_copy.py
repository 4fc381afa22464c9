"""A copy of a SQLite MLflow store with its artifacts, for a test that tampers with a run a module made once.

civiclab's SQLite store keeps its artifacts beside the database (`<store>/artifacts`, as file:// URIs in
the experiments and runs tables). The copy has the same runs, ids and signed evidence byte for byte; only
those URIs are moved to the copy's folder, which MLflow writes itself and no signature covers.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path


def copy_store(uri: str, folder: Path) -> str:
    """Copy the store at `uri` (sqlite:///…/mlflow.db) and its artifacts into `folder`; its URI."""
    db = Path(uri.removeprefix("sqlite:///")).resolve()
    shutil.copytree(db.parent, folder)
    old, new = db.parent.as_uri(), folder.resolve().as_uri()
    with sqlite3.connect(folder / db.name) as con:
        con.execute(
            "UPDATE experiments SET artifact_location = ? || substr(artifact_location, ?) "
            "WHERE substr(artifact_location, 1, ?) = ?",
            (new, len(old) + 1, len(old), old),
        )
        con.execute(
            "UPDATE runs SET artifact_uri = ? || substr(artifact_uri, ?) WHERE substr(artifact_uri, 1, ?) = ?",
            (new, len(old) + 1, len(old), old),
        )
    return f"sqlite:///{folder / db.name}"
