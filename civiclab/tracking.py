"""Everything civiclab stores in MLflow; the only module that imports mlflow or reads its tables.

`fast_list_runs` reads many runs of one experiment with four plain SQL queries on MLflow's tables
(runs, tags, params, latest_metrics) when the store is a SQL database: `search_runs` builds an ORM
object for every param, tag and metric of every run, about 10 s for 1,000 runs on this machine.
Anything unexpected (another kind of store, a schema that differs) falls back to `Tracker.list_runs`,
so it is only ever a faster path to the same answer.
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from civiclab.errors import TrackingError
from civiclab.records import Metric

DEFAULT_STORE_DIR = Path("mlruns")
MAX_METRICS, MAX_PARAMS, MAX_TAGS = 1000, 100, 100
MAX_PARAM_CHARS = 6000
SQL_SCHEMES = ("sqlite:", "postgresql", "mysql")
_KEY_BAD = re.compile(r"[^A-Za-z0-9_\-. /]")

log = logging.getLogger(__name__)

MLFLOW_ENVIRONMENT = {
    "MLFLOW_DISABLE_TELEMETRY": "true",  # no vendor telemetry, ever
    "DO_NOT_TRACK": "true",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",  # stderr belongs to civiclab's own messages
    "GIT_PYTHON_REFRESH": "quiet",  # mlflow probes git; a machine without git is fine
}


def configure_mlflow_environment() -> None:
    """Set MLflow's environment before it is imported (values the user set are kept)."""
    for name, value in MLFLOW_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


def default_tracking_uri(root: Path | None = None) -> str:
    """The documented default store, `sqlite:///mlruns/mlflow.db`, under `root` (default: the current folder)."""
    store = ((root or Path.cwd()) / DEFAULT_STORE_DIR).resolve()
    return f"sqlite:///{store / 'mlflow.db'}"


def spec_tracking_uri(uri: str | None, spec_dir: Path) -> str | None:
    """A spec's `tracking.uri` with a relative SQLite path taken relative to the spec's folder.

    `sqlite:///mlruns/mlflow.db` in `lab/exp.yaml` means `lab/mlruns/mlflow.db` wherever the command
    runs; absolute paths (`sqlite:////abs/…`) and server URIs are kept as written.
    """
    if not uri or not uri.startswith("sqlite:///") or uri.startswith("sqlite:////"):
        return uri
    path = Path(uri.removeprefix("sqlite:///"))
    return f"sqlite:///{(spec_dir / path).resolve()}"


def resolve_tracking_uri(cli_uri: str | None = None, spec_uri: str | None = None) -> str:
    """The store to use: `--tracking-uri`, then MLFLOW_TRACKING_URI, then the spec, then the default."""
    return cli_uri or os.environ.get("MLFLOW_TRACKING_URI") or spec_uri or default_tracking_uri()


def metric_key(metric: Metric) -> str:
    """The MLflow key of a metric: `name` or `name/attribute/value` for a segment."""
    if metric.segment is None:
        return metric.name
    attribute, _, value = metric.segment.partition("=")
    return _KEY_BAD.sub("_", f"{metric.name}/{attribute}/{value.replace('+', 'plus')}")


def metric_rows(metrics: Iterable[Metric]) -> dict[str, float]:
    """The values logged for metrics, by key: each value and its interval bounds (`.ci_low`,
    `.ci_high`). The run's signed statement holds exactly these, so `verify` can compare the store."""
    rows: dict[str, float] = {}
    for m in metrics:
        if m.is_missing:
            continue
        key = metric_key(m)
        rows[key] = float(m.value)  # type: ignore[arg-type]
        if m.ci_low is not None and m.ci_high is not None:
            rows[f"{key}.ci_low"] = float(m.ci_low)
            rows[f"{key}.ci_high"] = float(m.ci_high)
    return rows


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """A nested mapping as dotted keys with string values (lists of scalars joined)."""
    out: dict[str, str] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}.{i}"))
    else:
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        out[prefix] = text[:MAX_PARAM_CHARS]
    return out


@dataclass(frozen=True)
class RunSummary:
    """A run as `civiclab runs` lists it."""

    run_id: str
    experiment: str
    status: str
    start_time: int
    tags: dict[str, str]
    metrics: dict[str, float]
    params: dict[str, str]
    artifact_uri: str


class Tracker:
    """An MLflow store: local SQLite by default, or a tracking server given by URI."""

    def __init__(self, uri: str | None = None) -> None:
        self.uri = uri or resolve_tracking_uri()
        if self.uri.startswith("file:") or (
            "://" not in self.uri and not self.uri.startswith(("sqlite:", "postgresql:", "mysql:"))
        ):
            raise TrackingError(
                f"tracking URI {self.uri!r}: MLflow's file store is deprecated; use sqlite:///PATH/mlflow.db "
                "or an http(s):// tracking server"
            )
        if self.uri.startswith("sqlite:///"):
            Path(self.uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        configure_mlflow_environment()
        logging.getLogger("mlflow").setLevel(logging.ERROR)
        logging.getLogger("alembic").setLevel(logging.ERROR)
        try:
            import mlflow
            from mlflow.tracking import MlflowClient
        except ImportError as exc:  # pragma: no cover - mlflow is a dependency
            raise TrackingError(f"mlflow is not installed: {exc}") from None
        self._mlflow = mlflow
        # mlflow configures its own loggers on import: quiet them afterwards.
        for name in ("mlflow", "alembic", "mlflow.store.db.utils"):
            logging.getLogger(name).setLevel(logging.ERROR)
        mlflow.set_tracking_uri(self.uri)
        try:
            self.client = MlflowClient(tracking_uri=self.uri)
        except Exception as exc:
            raise TrackingError(f"cannot open the MLflow store {self.uri}: {exc}") from None

    @property
    def is_local(self) -> bool:
        return self.uri.startswith("sqlite:")

    def _artifact_root(self) -> str | None:
        if not self.uri.startswith("sqlite:///"):
            return None
        store = Path(self.uri.removeprefix("sqlite:///")).parent
        return (store / "artifacts").resolve().as_uri()

    def experiment_id(self, name: str, create: bool = True) -> str | None:
        try:
            exp = self.client.get_experiment_by_name(name)
            if exp is not None:
                return str(exp.experiment_id)
            if not create:
                return None
            return str(self.client.create_experiment(name, artifact_location=self._artifact_root()))
        except Exception as exc:
            raise TrackingError(f"{self.uri}: cannot open experiment {name!r}: {exc}") from None

    def start_run(self, experiment: str, run_name: str, params: dict[str, str], tags: dict[str, str]) -> str:
        from mlflow.entities import Param

        exp_id = self.experiment_id(experiment)
        assert exp_id is not None
        try:
            run = self.client.create_run(exp_id, run_name=run_name, tags=tags)
        except Exception as exc:
            raise TrackingError(f"{self.uri}: cannot create a run: {exc}") from None
        run_id = str(run.info.run_id)
        items = sorted(params.items())
        for i in range(0, len(items), MAX_PARAMS):
            chunk = [Param(k, v) for k, v in items[i : i + MAX_PARAMS]]
            self.client.log_batch(run_id, params=chunk)
        return run_id

    def log_metrics(self, run_id: str, metrics: Iterable[Metric], step: int = 0) -> int:
        """Log values and interval bounds in batches of 1,000; returns how many values were sent."""
        from mlflow.entities import Metric as MlflowMetric

        now = int(time.time() * 1000)
        batch = [MlflowMetric(k, v, now, step) for k, v in metric_rows(metrics).items()]
        for i in range(0, len(batch), MAX_METRICS):
            self.client.log_batch(run_id, metrics=batch[i : i + MAX_METRICS])
        return len(batch)

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        from mlflow.entities import RunTag

        items = [RunTag(k, str(v)[:5000]) for k, v in tags.items()]
        for i in range(0, len(items), MAX_TAGS):
            self.client.log_batch(run_id, tags=items[i : i + MAX_TAGS])

    def local_artifact_dir(self, run_id: str) -> Path | None:
        """The run's artifact folder when it is on this machine, so files can be written in place."""
        uri = self.client.get_run(run_id).info.artifact_uri
        parsed = urllib.parse.urlparse(uri)
        if parsed.scheme in ("", "file"):
            path = Path(urllib.parse.unquote(parsed.path))
            path.mkdir(parents=True, exist_ok=True)
            return path
        return None

    def log_artifacts(self, run_id: str, local_dir: Path) -> None:
        try:
            self.client.log_artifacts(run_id, str(local_dir))
        except Exception as exc:
            raise TrackingError(f"{self.uri}: cannot store artifacts of run {run_id}: {exc}") from None

    def end_run(self, run_id: str, status: str) -> None:
        import contextlib
        import sys

        # MLflow prints "View run … at: URL" on stdout for server stores; stdout belongs to
        # civiclab (`--json` output), so send it to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            self.client.set_terminated(run_id, status=status)

    def download(self, run_id: str, dst: Path) -> Path:
        """All artifacts of a run in `dst` (or their own folder when the store is local)."""
        local = self.local_artifact_dir(run_id)
        if local is not None:
            return local
        from mlflow.artifacts import download_artifacts

        try:
            return Path(download_artifacts(run_id=run_id, dst_path=str(dst), tracking_uri=self.uri))
        except Exception as exc:
            raise TrackingError(f"{self.uri}: cannot read artifacts of run {run_id}: {exc}") from None

    def get_run(self, run_id: str) -> RunSummary:
        try:
            run = self.client.get_run(run_id)
        except Exception:
            raise TrackingError(f"{self.uri}: no run {run_id!r}") from None
        exp = self.client.get_experiment(run.info.experiment_id)
        return RunSummary(
            run_id=run.info.run_id,
            experiment=exp.name,
            status=run.info.status,
            start_time=int(run.info.start_time or 0),
            tags=dict(run.data.tags),
            metrics=dict(run.data.metrics),
            params=dict(run.data.params),
            artifact_uri=run.info.artifact_uri,
        )

    def list_runs(self, experiment: str | None = None, max_results: int = 1000) -> list[RunSummary]:
        if experiment:
            exp = self.client.get_experiment_by_name(experiment)
            exps = [exp] if exp is not None else []
        else:
            exps = list(self.client.search_experiments())
        ids = {str(e.experiment_id): e.name for e in exps}
        if not ids:
            return []
        runs = self.client.search_runs(
            list(ids),
            filter_string="tags.`civiclab.version` != ''",
            max_results=max_results,
            order_by=["attributes.start_time DESC"],
        )
        return [
            RunSummary(
                run_id=r.info.run_id,
                experiment=ids.get(str(r.info.experiment_id), "?"),
                status=r.info.status,
                start_time=int(r.info.start_time or 0),
                tags=dict(r.data.tags),
                metrics=dict(r.data.metrics),
                params=dict(r.data.params),
                artifact_uri=r.info.artifact_uri,
            )
            for r in runs
        ]


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
