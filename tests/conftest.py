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
    """One lab folder (secrets) for the whole test session, so no test writes to the developer's home.

    Session-wide like a real lab's: runs built by module fixtures and the tests that re-derive their
    pseudonyms share one salt. A test that needs a fresh lab sets CIVICLAB_HOME itself.
    """
    home = tmp_path_factory.mktemp("civiclab-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CIVICLAB_HOME", str(home))
        patch.delenv("CIVICLAB_PSEUDONYM_SALT", raising=False)
        # Signing: runs are signed with the session's demo key; no trust file unless a test gives one.
        patch.delenv("CIVICLAB_KEY", raising=False)
        patch.delenv("CIVICLAB_TRUST", raising=False)
        yield home


@pytest.fixture
def lab_home(civiclab_home: Path) -> Path:
    """The lab's secrets folder (CIVICLAB_HOME) of this test session, never the developer's."""
    return civiclab_home


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
