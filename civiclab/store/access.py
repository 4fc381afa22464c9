"""Reaching the MLflow store: fail fast, in one line, when it cannot be used.

MLflow retries an unreachable tracking server with exponential back-off for minutes (≈250 s by
default) and then raises a long traceback; a SQLite path under a file or under /proc raises
from deep inside SQLAlchemy. civiclab checks the store before MLflow touches it and bounds
MLflow's own retries, so a wrong `--tracking-uri` is a one-line error with exit 2 within seconds.

How long and how often is set by `CIVICLAB_TRACKING_TIMEOUT_S` and `CIVICLAB_TRACKING_RETRIES`
(see `civiclab.home`). MLflow's own variables, when set, win.
"""

from __future__ import annotations

import functools
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from civiclab.errors import TrackingError
from civiclab.home import int_setting, parse_number
from civiclab.privacy.credentials import strip_url_credentials


class StoreUnreachable(TrackingError):
    """The MLflow store cannot be opened or reached: a wrong URI or a server that is down."""

    exit_code = 2


class RunNotFound(TrackingError):
    """No run has this id in the store: a user's mistake, like a wrong file name."""

    exit_code = 2


def bound_http_retries() -> tuple[int, int]:
    """Set MLflow's HTTP retry and timeout variables; returns (retries, timeout_s).

    CIVICLAB_TRACKING_RETRIES / CIVICLAB_TRACKING_TIMEOUT_S, when set, win; else MLflow's own variables
    when set; else civiclab's defaults. (A default written here by an earlier call never hides a
    setting given later, nor one a child process is given.)
    """
    retries = int_setting("CIVICLAB_TRACKING_RETRIES")
    timeout = max(1, int_setting("CIVICLAB_TRACKING_TIMEOUT_S"))
    for variable, setting, value in (
        ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "CIVICLAB_TRACKING_RETRIES", retries),
        ("MLFLOW_HTTP_REQUEST_TIMEOUT", "CIVICLAB_TRACKING_TIMEOUT_S", timeout),
    ):
        if os.environ.get(setting):
            os.environ[variable] = str(value)
        else:
            os.environ.setdefault(variable, str(value))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    return (
        int(parse_number("MLFLOW_HTTP_REQUEST_MAX_RETRIES", os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"])),
        int(parse_number("MLFLOW_HTTP_REQUEST_TIMEOUT", os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"])),
    )


def prepare_sqlite_folder(uri: str) -> Path:
    """Create the folder of a `sqlite:///PATH` store; a path that cannot hold a database is one line."""
    path = Path(uri.removeprefix("sqlite:///"))
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnreachable(
            f"tracking URI {uri}: cannot create the store's folder {folder}: {exc.strerror or exc}"
        ) from None
    if not folder.is_dir():
        raise StoreUnreachable(f"tracking URI {uri}: {folder} is not a folder")
    if path.exists() and not path.is_file():
        raise StoreUnreachable(f"tracking URI {uri}: {path} is not a database file")
    import sqlite3

    # One attempt here: MLflow retries a database it cannot open fifteen times over ≈100 s.
    try:
        sqlite3.connect(path, timeout=5).close()
    except sqlite3.Error as exc:
        raise StoreUnreachable(f"tracking URI {uri}: cannot open {path}: {exc}") from None
    return path


def check_database_server(uri: str, timeout_s: float) -> None:
    """Connect once to a PostgreSQL or MySQL store (bounded by `timeout_s`), or `StoreUnreachable`."""
    import sqlalchemy as sa

    url = uri
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    connect_args = {"connect_timeout": int(max(1, timeout_s))}
    try:
        engine = sa.create_engine(url, connect_args=connect_args, poolclass=sa.pool.NullPool)
        try:
            with engine.connect():
                pass
        finally:
            engine.dispose()
    except ImportError as exc:
        raise StoreUnreachable(f"tracking URI {strip_url_credentials(uri)}: driver missing: {exc}") from None
    except Exception as exc:  # any DBAPI error: refused, unknown host, bad password, no database
        raise StoreUnreachable(
            f"cannot open the MLflow store {strip_url_credentials(uri)}: {first_line(exc)}"
        ) from None


def _health_request(uri: str) -> urllib.request.Request:
    """GET URI/health; credentials written in the URI (`http://user:pw@host`) go in a Basic header, as
    MLflow's requests send them (urllib would take them for part of the host name)."""
    import base64
    import urllib.parse

    parts = urllib.parse.urlsplit(uri.rstrip("/") + "/health")
    if parts.username is None:
        return urllib.request.Request(parts.geturl())
    host = parts.hostname or ""
    netloc = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
    user = urllib.parse.unquote(parts.username)
    password = urllib.parse.unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    url = parts._replace(netloc=netloc).geturl()
    return urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})


def check_http_server(uri: str, timeout_s: float) -> None:
    """GET /health of a tracking server (bounded by `timeout_s`), or `StoreUnreachable` naming it."""
    try:
        request = _health_request(uri)
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310 - http(s) only
            response.read(64)
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            return  # the server answers; authentication is MLflow's business
        raise StoreUnreachable(
            f"tracking server {strip_url_credentials(uri)} answered HTTP {exc.code} on /health"
        ) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise StoreUnreachable(
            f"tracking server {strip_url_credentials(uri)} is unreachable: {reason}"
        ) from None


def check_store(uri: str) -> None:
    """Fail fast, in one line, when the store at `uri` cannot be used (before importing MLflow)."""
    if uri.startswith("sqlite:///"):
        prepare_sqlite_folder(uri)
    elif uri.startswith(("http://", "https://")):
        _retries, timeout = bound_http_retries()
        check_http_server(uri, timeout)
    elif uri.startswith(("postgresql", "mysql")):
        check_database_server(uri, int_setting("CIVICLAB_TRACKING_TIMEOUT_S"))


def first_line(exc: BaseException) -> str:
    """An exception's message without SQLAlchemy's background notes and continuation lines."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def unanswered(exc: BaseException) -> bool:
    """Whether MLflow gave up on a request to the tracking server (timed out, refused, reset)."""
    return type(exc).__name__ == "MlflowException" and str(exc).startswith("API request to ")


class AnsweringClient:
    """MLflow's client, except that a tracking server that stops answering is one line, not a traceback.

    The server answered /health (`check_store`) but its API may still hang or drop connections:
    each request is bounded by MLflow's timeout and retries (`bound_http_retries`), after which
    MLflow raises a bare `MlflowException`; this says which server, and what bounded the wait.
    """

    def __init__(self, client: Any, uri: str) -> None:
        self._client = client
        self._uri = uri

    def __getattr__(self, name: str) -> Any:
        member = getattr(self._client, name)
        if not callable(member):
            return member

        @functools.wraps(member)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return member(*args, **kwargs)
            except Exception as exc:
                if not unanswered(exc):
                    raise
                raise StoreUnreachable(self._problem(exc)) from None

        return call

    def _problem(self, exc: BaseException) -> str:
        server = f"tracking server {strip_url_credentials(self._uri)}"
        text = first_line(exc)
        if "timed out" in text or "timeout" in text.lower():
            timeout = os.environ.get("MLFLOW_HTTP_REQUEST_TIMEOUT", "?")
            retries = os.environ.get("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "?")
            return (
                f"{server} answers /health but its API did not answer within {timeout} s "
                f"({retries} retries; CIVICLAB_TRACKING_TIMEOUT_S and CIVICLAB_TRACKING_RETRIES set them)"
            )
        return f"{server} answers /health but its API failed: {text}"
