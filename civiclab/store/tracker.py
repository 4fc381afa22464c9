"""Everything civiclab stores in MLflow, behind one `Tracker`; with `reads`, the only code that touches it.

Reads pick their own path by the URI's scheme: on a SQL store (SQLite, PostgreSQL, MySQL) `get_run`,
`list_runs`, `list_run_heads` and `local_artifact_dir` read MLflow's tables directly, many times faster
than MLflow's API: a local SQLite store through the standard library, without importing MLflow at all
(`civiclab.store.sqlite_reads`), a database server through SQLAlchemy (`civiclab.store.reads`); on a
tracking server, or when that read fails (a schema it does not know), they go through MLflow, which is
imported and opened on first use. Callers never choose: every path gives the same `RunSummary`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
import urllib.parse
from collections.abc import Collection, Iterable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

from civiclab.errors import TrackingError
from civiclab.records import Metric
from civiclab.store.access import AnsweringClient, RunNotFound, StoreUnreachable, check_store, first_line
from civiclab.store.lock import store_lock
from civiclab.store.reads import SQL_SCHEMES, RunSummary, SqlReads
from civiclab.store.schema import RUNNING, VERSION_TAG
from civiclab.store.sqlite_reads import SqliteReads

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

__all__ = ["MAX_LISTED", "RunSummary", "Tracker"]

DEFAULT_STORE_DIR = Path("mlruns")
MAX_METRICS, MAX_PARAMS, MAX_TAGS = 1000, 100, 100
MAX_PARAM_CHARS = 6000
MAX_LISTED = 50_000  # MLflow's largest page of runs
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
        return _KEY_BAD.sub("_", metric.name)
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


class Tracker:
    """An MLflow store: local SQLite by default, or a tracking server given by URI.

    Args:
        fast_reads: read runs from a SQL store's tables (the default); False reads only through
            MLflow's API, which gives the same answers, slower.
    """

    def __init__(self, uri: str | None = None, *, fast_reads: bool = True) -> None:
        self.uri = uri or resolve_tracking_uri()
        if self.uri.startswith("file:") or (
            "://" not in self.uri and not self.uri.startswith(("sqlite:", "postgresql:", "mysql:"))
        ):
            raise TrackingError(
                f"tracking URI {self.uri!r}: MLflow's file store is deprecated; use sqlite:///PATH/mlflow.db "
                "or an http(s):// tracking server"
            )
        check_store(self.uri)  # one line, exit 2, within seconds when the store cannot be used
        configure_mlflow_environment()
        self._client: MlflowClient | None = None
        self.sql: SqlReads | SqliteReads | None = None
        if fast_reads and self.uri.startswith("sqlite:///"):
            self.sql = SqliteReads(Path(self.uri.removeprefix("sqlite:///")))
        elif fast_reads and self.uri.startswith(SQL_SCHEMES):
            self.sql = SqlReads(self.uri)
        # A SQLite store that already holds runs is read without MLflow (importing it and opening its
        # client cost ≈2 s); MLflow is opened on the first write, or a read the reader cannot answer.
        # Every other store is opened now, which creates and migrates it.
        if not (isinstance(self.sql, SqliteReads) and self.sql.holds_runs()):
            self._open_client()

    @property
    def client(self) -> MlflowClient:
        """MLflow's client for this store, opened on first use."""
        if self._client is None:
            self._open_client()
        assert self._client is not None
        return self._client

    @property
    def mlflow(self) -> ModuleType:
        """The mlflow module, set to this store (for its fluent API: traces, assessments)."""
        self.client  # noqa: B018 - opening the client points mlflow at this store
        import mlflow

        return mlflow

    def _open_client(self) -> None:
        logging.getLogger("mlflow").setLevel(logging.ERROR)
        logging.getLogger("alembic").setLevel(logging.ERROR)
        try:
            import mlflow
            from mlflow.tracking import MlflowClient
        except ImportError as exc:  # pragma: no cover - mlflow is a dependency
            raise TrackingError(f"mlflow is not installed: {exc}") from None
        # mlflow configures its own loggers on import: quiet them afterwards.
        for name in ("mlflow", "alembic", "mlflow.store.db.utils"):
            logging.getLogger(name).setLevel(logging.ERROR)
        mlflow.set_tracking_uri(self.uri)
        try:
            # Creating the client creates and migrates the store: one process at a time.
            with (
                store_lock(Path(self.uri.removeprefix("sqlite:///")))
                if self.uri.startswith("sqlite:///")
                else contextlib.nullcontext()
            ):
                client = MlflowClient(tracking_uri=self.uri)
        except TrackingError:
            raise
        except Exception as exc:
            raise StoreUnreachable(f"cannot open the MLflow store {self.uri}: {first_line(exc)}") from None
        # A server's requests are bounded, and one that stops answering is one line (a SQL store has no such wait).
        self._client = (
            cast("MlflowClient", AnsweringClient(client, self.uri)) if self.uri.startswith("http") else client
        )

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

    def store_stamp(self) -> tuple[Any, ...] | None:
        """A value that changes whenever the store is written (a local SQLite store's files), so a
        reader may keep what it read while the stamp is the same; None when there is no such value
        (a database server, a tracking server, a write too recent): read again."""
        return self.sql.stamp() if isinstance(self.sql, SqliteReads) else None

    def local_artifact_dir(self, run_id: str) -> Path | None:
        """The run's artifact folder when it is on this machine, so files can be written in place."""
        uri = self.get_run(run_id).artifact_uri
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

    def reopen_run(self, run_id: str, *, drop_tags: tuple[str, ...] = ()) -> None:
        """Mark a FAILED or KILLED run RUNNING again (it is being resumed), without the tags that said why
        it stopped (the run will be signed again with only what is true of it at its end)."""
        try:
            self.client.update_run(run_id, status=RUNNING)
            run_tags = self.client.get_run(run_id).data.tags
            for name in drop_tags:
                if name in run_tags:
                    self.client.delete_tag(run_id, name)
        except Exception as exc:
            raise TrackingError(f"{self.uri}: cannot reopen run {run_id}: {exc}") from None

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
        """The run with every tag, param and latest metric.

        Raises:
            RunNotFound: the store has no such run.
            StoreUnreachable: the store cannot be read.
        """
        if self.sql is not None:
            try:
                found = self.sql.get_run(run_id)
            except Exception as exc:  # a schema we do not know: take MLflow's own, slower path
                log.info("fast read of run %s failed (%s); using MLflow's get_run", run_id, first_line(exc))
            else:
                if found is None:
                    raise RunNotFound(f"{self.uri}: no run {run_id!r}")
                return found
        return self._mlflow_get_run(run_id)

    def list_runs(self, experiment: str | None = None, max_results: int = 1000) -> list[RunSummary]:
        """The active civiclab runs of `experiment` (or of every active experiment), newest first."""
        if self.sql is not None:
            try:
                return self.sql.list_runs(experiment or None, max_results)
            except Exception as exc:
                log.info("fast read of %s failed (%s); using MLflow's search", self.uri, first_line(exc))
        return self._mlflow_list_runs(experiment, max_results)

    def list_run_heads(
        self, tag_keys: Collection[str], experiment: str | None = None, max_results: int = MAX_LISTED
    ) -> list[RunSummary]:
        """Every active civiclab run, as `list_runs`, with only `tag_keys` among its tags, no metrics, no params.

        What a listing of many runs needs (the committee's desk): two queries on a SQL store; other
        stores give each run with every field, through MLflow's search.
        """
        if self.sql is not None:
            try:
                return self.sql.list_runs(experiment or None, max_results, tag_keys=tag_keys)
            except Exception as exc:
                log.info("fast read of %s failed (%s); using MLflow's search", self.uri, first_line(exc))
        return self._mlflow_list_runs(experiment, max_results)

    def _mlflow_get_run(self, run_id: str) -> RunSummary:
        try:
            run = self.client.get_run(run_id)
        except Exception as exc:
            if getattr(exc, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
                raise RunNotFound(f"{self.uri}: no run {run_id!r}") from None
            raise StoreUnreachable(f"{self.uri}: cannot read run {run_id!r}: {first_line(exc)}") from None
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
            run_name=run.info.run_name or "",
        )

    def _mlflow_list_runs(self, experiment: str | None, max_results: int) -> list[RunSummary]:
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
            filter_string=f"tags.`{VERSION_TAG}` != ''",
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
                run_name=r.info.run_name or "",
            )
            for r in runs
        ]
