"""MLflow's schema built once per test worker, then copied into each new SQLite store a test makes.

A fresh `sqlite:///…/mlflow.db` costs MLflow its whole chain of Alembic migrations (2 to 8 s on two
cores), and hundreds of tests each open a fresh store. The first store of a worker runs the real
migrations into a template file; every later empty SQLite store gets a byte copy of that template (SQLite's
backup API), which is the very database the migrations would have written. MLflow then goes on as
usual: it creates the Default experiment with this store's own artifact root, and every read and write
is the real store's. Stores that are not empty SQLite files (PostgreSQL, a file with tables already,
a store opened by a civiclab subprocess) run the migrations as before.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sqlite3
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

MODULE = "mlflow.store.db.utils"


class _Template:
    path: Path | None = None
    lock = threading.Lock()


def _copying(real: Callable[[Any], None]) -> Callable[[Any], None]:
    def initialize_tables(engine: Any) -> None:
        import sqlalchemy

        database = engine.url.database
        template = _Template.path
        if (
            template is None
            or engine.url.get_backend_name() != "sqlite"
            or not database
            or database == ":memory:"
            or sqlalchemy.inspect(engine).get_table_names()
        ):
            real(engine)
            return
        with _Template.lock:
            if not template.exists():
                source = sqlalchemy.create_engine(f"sqlite:///{template}")
                try:
                    real(source)  # the real migrations, once for this worker
                finally:
                    source.dispose()
        raw = engine.raw_connection()
        try:
            with sqlite3.connect(template) as copy_from:
                copy_from.backup(raw.driver_connection)
        finally:
            raw.close()

    initialize_tables.__wrapped__ = real  # type: ignore[attr-defined]
    return initialize_tables


def _patch(module: ModuleType) -> None:
    real = module._initialize_tables
    if not hasattr(real, "__wrapped__"):
        module._initialize_tables = _copying(real)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches MLflow's module when something imports it, so a test that never touches MLflow does
    not pay for importing it."""

    def find_spec(
        self, fullname: str, path: Any, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_then_patch(module: ModuleType) -> None:
            exec_module(module)
            _patch(module)

        loader.exec_module = exec_then_patch  # type: ignore[method-assign]
        return spec


def copy_schema_from(template: Path) -> None:
    """Give each new SQLite MLflow store of this process a copy of `template` (made on first use)."""
    _Template.path = template
    if MODULE in sys.modules:
        _patch(sys.modules[MODULE])
    elif not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())
