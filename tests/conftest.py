"""Shared fixtures: a real SQLite MLflow store per test, the repository's experiments, offline models."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments"


@pytest.fixture(scope="session", autouse=True)
def civiclab_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Signing keys of the test session, never the developer's ~/.config/civiclab.

    Session-wide (module fixtures run experiments too); the demo key runs are signed with is made once.
    """
    home = tmp_path_factory.getbasetemp() / "civiclab-home"
    saved = {k: os.environ.get(k) for k in ("CIVICLAB_HOME", "CIVICLAB_KEY", "CIVICLAB_TRUST")}
    os.environ["CIVICLAB_HOME"] = str(home)
    os.environ.pop("CIVICLAB_KEY", None)
    os.environ.pop("CIVICLAB_TRUST", None)
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def store_uri(tmp_path: Path) -> str:
    """A fresh SQLite MLflow store in the test's own folder."""
    return f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"


@pytest.fixture
def journey_spec(tmp_path: Path) -> Path:
    """A copy of the journey experiment (and its data) that a test may edit freely."""
    folder = tmp_path / "experiments"
    shutil.copytree(EXPERIMENTS / "data" / "journey", folder / "data" / "journey")
    shutil.copytree(EXPERIMENTS / "data" / "survey" / "journey", folder / "data" / "survey" / "journey")
    shutil.copy(EXPERIMENTS / "data" / "personas.yaml", folder / "data" / "personas.yaml")
    spec = folder / "journey.yaml"
    raw = yaml.safe_load((EXPERIMENTS / "journey.yaml").read_text(encoding="utf-8"))
    if raw.get("survey"):
        # The web form's store of this test, not the developer's mlruns/survey.db.
        raw["survey"]["store"] = f"sqlite:///{tmp_path / 'survey.db'}"
    spec.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return spec
