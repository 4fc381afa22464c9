"""Reading runs straight from an MLflow SQL store (SQLite, PostgreSQL, MySQL), a few queries per read.

MLflow's `search_runs` builds an ORM object for every param, tag and metric of every run (about
10 s for 1,000 runs on this machine) and its `get_run` takes ~90 ms for a run with 1,000 metrics.
`SqlReads` returns the same `RunSummary` from MLflow's tables (runs, experiments, tags, params,
latest_metrics). Only `Tracker` uses it, and falls back to MLflow's own API on any error (another
schema, a missing driver), so it is only ever a faster path to the same answer.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from civiclab.store.schema import VERSION_TAG

if TYPE_CHECKING:
    import sqlalchemy

SQL_SCHEMES = ("sqlite:", "postgresql", "mysql")
ID_BATCH = 500  # run ids bound in one query (SQLite allows 999 variables in older builds)
DATA_TABLES = (("tags", "key, value"), ("params", "key, value"), ("latest_metrics", "key, value, is_nan"))
RUN_HEAD = (
    "SELECT e.name, r.status, r.start_time, r.artifact_uri, r.name FROM runs r "
    "JOIN experiments e ON e.experiment_id = r.experiment_id WHERE r.run_uuid = :r"
)


def listing_query(by_name: bool) -> str:
    """Active civiclab runs newest first (MLflow's search order), of the experiment `:name` or of
    every active experiment; bound: `:version`, `:name`, `:limit`."""
    query = (
        "SELECT r.run_uuid, e.name, r.status, r.start_time, r.artifact_uri, r.name FROM runs r "
        "JOIN experiments e ON e.experiment_id = r.experiment_id "
        "WHERE r.lifecycle_stage = 'active' AND EXISTS (SELECT 1 FROM tags t "
        "WHERE t.run_uuid = r.run_uuid AND t.key = :version AND t.value != '') "
    )
    # By name, an experiment is found whatever its stage (as MLflow's get_experiment_by_name).
    query += "AND e.name = :name " if by_name else "AND e.lifecycle_stage = 'active' "
    return query + "ORDER BY r.start_time DESC, r.run_uuid LIMIT :limit"


@dataclass(frozen=True)
class RunSummary:
    """A run as the store holds it: status, tags, latest metrics, params and where its artifacts are."""

    run_id: str
    experiment: str
    status: str
    start_time: int
    tags: dict[str, str]
    metrics: dict[str, float]
    params: dict[str, str]
    artifact_uri: str
    run_name: str = ""


def row_value(table: str, row: Any) -> Any:
    """The value of a (run id, key, value[, is_nan]) row of `table`."""
    if table == "latest_metrics":
        return math.nan if row[3] else float(row[2])
    return row[2]


def id_batches(ids: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(ids), ID_BATCH):
        yield ids[i : i + ID_BATCH]


class SqlReads:
    """The run tables of one SQL store, read through one SQLAlchemy engine (made on first use)."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._engine: sqlalchemy.Engine | None = None

    @property
    def engine(self) -> sqlalchemy.Engine:
        # One engine per store: a new engine per read costs its connection pool.
        if self._engine is None:
            import sqlalchemy

            self._engine = sqlalchemy.create_engine(self.uri)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def get_run(self, run_id: str) -> RunSummary | None:
        """The run with every tag, param and latest metric, or None when the store has no such run."""
        import sqlalchemy

        with self.engine.connect() as db:
            head = db.execute(sqlalchemy.text(RUN_HEAD), {"r": run_id}).first()
            if head is None:
                return None
            data = self._data(db, [run_id], DATA_TABLES)
        return run_summary((run_id, *head), data)

    def list_runs(
        self, experiment: str | None, max_results: int, tag_keys: Collection[str] | None = None
    ) -> list[RunSummary]:
        """Active civiclab runs (those with a `civiclab.version`) of `experiment`, or of every active
        experiment, newest first, as MLflow's search orders them.

        With `tag_keys`, each run has only those tags and no metrics or params (two queries, for pages
        that list many runs); otherwise it has everything `get_run` gives.
        """
        import sqlalchemy

        query = listing_query(experiment is not None)
        bound = {"version": VERSION_TAG, "name": experiment, "limit": max_results}
        with self.engine.connect() as db:
            runs = db.execute(sqlalchemy.text(query), bound).all()
            ids = [str(row[0]) for row in runs]
            if tag_keys is None:
                data = self._data(db, ids, DATA_TABLES)
            else:
                data = self._data(db, ids, (("tags", "key, value"),), sorted(tag_keys))
        return [run_summary(tuple(row), data) for row in runs]

    @staticmethod
    def _data(
        db: sqlalchemy.Connection,
        ids: list[str],
        tables: tuple[tuple[str, str], ...],
        keys: list[str] | None = None,
    ) -> dict[str, dict[str, dict[str, Any]]]:
        """Rows of `tables` for the runs `ids` (only `keys` when given): table -> run id -> key -> value."""
        import sqlalchemy

        found: dict[str, dict[str, dict[str, Any]]] = {
            table: defaultdict(dict) for table in ("tags", "params", "latest_metrics")
        }
        for table, columns in tables:
            query = f"SELECT run_uuid, {columns} FROM {table} WHERE run_uuid IN :ids"  # noqa: S608
            params: dict[str, Any] = {}
            if keys is not None:
                query += " AND key IN :keys"
                params["keys"] = keys
            statement = sqlalchemy.text(query).bindparams(sqlalchemy.bindparam("ids", expanding=True))
            if keys is not None:
                statement = statement.bindparams(sqlalchemy.bindparam("keys", expanding=True))
            for batch in id_batches(ids):
                for row in db.execute(statement, {**params, "ids": batch}):
                    found[table][row[0]][row[1]] = row_value(table, row)
        return found


def run_summary(row: tuple[Any, ...], data: dict[str, dict[str, dict[str, Any]]]) -> RunSummary:
    """A run's summary from its `runs` row (id, experiment, status, start, artifacts, run name) and its data."""
    run_id, name, status, start, artifact_uri, run_name = row
    run_id = str(run_id)
    return RunSummary(
        run_id=run_id,
        experiment=str(name),
        status=str(status),
        start_time=int(start or 0),
        tags=data["tags"][run_id],
        metrics=data["latest_metrics"][run_id],
        params=data["params"][run_id],
        artifact_uri=str(artifact_uri),
        run_name=str(run_name or ""),
    )
