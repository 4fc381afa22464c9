"""Bulk reads of an MLflow SQL store (SQLite, PostgreSQL): the runs' tables read in a few queries.

The same summaries `Tracker.get_run` and `Tracker.list_runs` return, at a fraction of the cost when
a page or a comparison lists hundreds of runs. A schema this code does not know falls back to
MLflow's own API, so this is only ever a faster path to the same answer.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from civiclab.errors import TrackingError
from civiclab.store.tracker import SQL_SCHEMES, RunSummary, Tracker

log = logging.getLogger(__name__)


def fast_list_runs(tracker: Tracker, experiment: str) -> list[RunSummary]:
    """Active civiclab runs of `experiment`, as `Tracker.list_runs` returns them (in no particular order)."""
    if not tracker.uri.startswith(SQL_SCHEMES):
        return tracker.list_runs(experiment, max_results=50_000)
    try:
        return _read_tables(tracker, experiment)
    except Exception as exc:  # a schema we do not know: take MLflow's own, slower path
        log.info("fast read of %s failed (%s); using MLflow's search instead", tracker.uri, exc)
        return tracker.list_runs(experiment, max_results=50_000)


def _read_tables(tracker: Tracker, experiment: str) -> list[RunSummary]:
    import sqlalchemy

    exp_id = tracker.experiment_id(experiment, create=False)
    if exp_id is None:
        return []
    engine = sqlalchemy.create_engine(tracker.uri)
    select_runs = "SELECT run_uuid FROM runs WHERE experiment_id = :e AND lifecycle_stage = 'active'"
    try:
        with engine.connect() as db:
            params = {"e": int(exp_id)}
            runs = db.execute(
                sqlalchemy.text(
                    "SELECT run_uuid, status, start_time, artifact_uri FROM runs "
                    "WHERE experiment_id = :e AND lifecycle_stage = 'active'"
                ),
                params,
            ).all()
            tables: dict[str, dict[str, dict[str, Any]]] = {}
            for table, columns in (
                ("tags", "key, value"),
                ("params", "key, value"),
                ("latest_metrics", "key, value, is_nan"),
            ):
                rows: dict[str, dict[str, Any]] = defaultdict(dict)
                query = f"SELECT run_uuid, {columns} FROM {table} WHERE run_uuid IN ({select_runs})"  # noqa: S608
                for row in db.execute(sqlalchemy.text(query), params):
                    value = row[2]
                    if table == "latest_metrics":
                        value = math.nan if row[3] else float(value)
                    rows[row[0]][row[1]] = value
                tables[table] = rows
    finally:
        engine.dispose()
    return [
        RunSummary(
            run_id=run_id,
            experiment=experiment,
            status=str(status),
            start_time=int(start or 0),
            tags=tables["tags"].get(run_id, {}),
            metrics=tables["latest_metrics"].get(run_id, {}),
            params=tables["params"].get(run_id, {}),
            artifact_uri=str(artifact_uri),
        )
        for run_id, status, start, artifact_uri in runs
        if tables["tags"].get(run_id, {}).get("civiclab.version")  # what list_runs filters on
    ]


def _engine(tracker: Tracker) -> Any:
    """One SQLAlchemy engine per tracker for the fast reads (a new engine per call costs its pool)."""
    import sqlalchemy

    if getattr(tracker, "_sql_engine", None) is None:
        tracker._sql_engine = sqlalchemy.create_engine(tracker.uri)  # type: ignore[attr-defined]
    return tracker._sql_engine  # type: ignore[attr-defined]


def list_run_heads(
    tracker: Tracker, tag_keys: Iterable[str], experiment: str | None = None
) -> list[RunSummary]:
    """Every active civiclab run of the store (or of `experiment`) with only `tag_keys` among its tags,
    no metrics, no params.

    What a listing of many runs needs (the committee's desk), read from an SQL store in two queries;
    other stores go through MLflow's search (slower, and with every field).
    """
    keys = sorted(set(tag_keys) | {"civiclab.version"})
    if not tracker.uri.startswith(SQL_SCHEMES):
        return tracker.list_runs(experiment, max_results=50_000)
    import sqlalchemy

    try:
        with _engine(tracker).connect() as db:
            query_runs = (
                "SELECT r.run_uuid, e.name, r.status, r.start_time, r.artifact_uri FROM runs r "
                "JOIN experiments e ON e.experiment_id = r.experiment_id "
                "WHERE r.lifecycle_stage = 'active' AND e.lifecycle_stage = 'active'"
            )
            if experiment is not None:
                query_runs += " AND e.name = :name"
            runs = db.execute(sqlalchemy.text(query_runs), {"name": experiment}).all()
            tags: dict[str, dict[str, str]] = defaultdict(dict)
            query = sqlalchemy.text("SELECT run_uuid, key, value FROM tags WHERE key IN :keys").bindparams(
                sqlalchemy.bindparam("keys", expanding=True)
            )
            for run_id, key, value in db.execute(query, {"keys": keys}):
                tags[run_id][key] = value
    except Exception as exc:  # a schema we do not know: take MLflow's own, slower path
        log.info("fast read of %s failed (%s); using MLflow's search instead", tracker.uri, exc)
        return tracker.list_runs(experiment, max_results=50_000)
    return [
        RunSummary(
            run_id=run_id,
            experiment=str(name),
            status=str(status),
            start_time=int(start or 0),
            tags=tags[run_id],
            metrics={},
            params={},
            artifact_uri=str(artifact_uri),
        )
        for run_id, name, status, start, artifact_uri in runs
        if tags.get(run_id, {}).get("civiclab.version")
    ]


def fast_get_run(tracker: Tracker, run_id: str) -> RunSummary:
    """`Tracker.get_run`, read from an SQL store in four small queries (MLflow's own takes ~90 ms for a
    run with 1,000 metrics); other stores, or a schema this does not know, go through MLflow.

    Raises:
        TrackingError: no such run.
    """
    if not tracker.uri.startswith(SQL_SCHEMES):
        return tracker.get_run(run_id)
    import sqlalchemy

    try:
        with _engine(tracker).connect() as db:
            head = db.execute(
                sqlalchemy.text(
                    "SELECT e.name, r.status, r.start_time, r.artifact_uri FROM runs r "
                    "JOIN experiments e ON e.experiment_id = r.experiment_id WHERE r.run_uuid = :r"
                ),
                {"r": run_id},
            ).first()
            tables: dict[str, dict[str, Any]] = {}
            for table, columns in (
                ("tags", "key, value"),
                ("params", "key, value"),
                ("latest_metrics", "key, value, is_nan"),
            ):
                found: dict[str, Any] = {}
                query = f"SELECT {columns} FROM {table} WHERE run_uuid = :r"  # noqa: S608
                for row in db.execute(sqlalchemy.text(query), {"r": run_id}):
                    found[row[0]] = (
                        (math.nan if row[2] else float(row[1])) if table == "latest_metrics" else row[1]
                    )
                tables[table] = found
    except Exception as exc:
        log.info("fast read of run %s failed (%s); using MLflow's get_run", run_id, exc)
        return tracker.get_run(run_id)
    if head is None:
        raise TrackingError(f"{tracker.uri}: no run {run_id!r}")
    name, status, start, artifact_uri = head
    return RunSummary(
        run_id=run_id,
        experiment=str(name),
        status=str(status),
        start_time=int(start or 0),
        tags=tables["tags"],
        metrics=tables["latest_metrics"],
        params=tables["params"],
        artifact_uri=str(artifact_uri),
    )
