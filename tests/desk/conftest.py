"""A real SQLite MLflow store with signed journey runs, desk accounts and the committee's trust file."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXPERIMENTS

PASSWORDS = {
    "alice": "alice-password-1",
    "carol": "carol-password-1",
    "bob": "bob-lab-password",
    "vera": "vera-viewer-pass",
}
ROLES = {"alice": "member", "carol": "member", "bob": "lab", "vera": "viewer"}


@dataclass
class DeskStore:
    uri: str
    runs: list[str]  # oldest first: [baseline, second, to-tamper]
    db: Path
    trust: Path


def _journey_copy(folder: Path) -> Path:
    shutil.copytree(EXPERIMENTS / "data" / "journey", folder / "data" / "journey")
    shutil.copytree(EXPERIMENTS / "data" / "survey" / "journey", folder / "data" / "survey" / "journey")
    shutil.copy(EXPERIMENTS / "data" / "personas.yaml", folder / "data" / "personas.yaml")
    raw = yaml.safe_load((EXPERIMENTS / "journey.yaml").read_text(encoding="utf-8"))
    if raw.get("survey"):
        raw["survey"]["store"] = f"sqlite:///{folder / 'survey.db'}"
    spec = folder / "journey.yaml"
    spec.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return spec


@pytest.fixture(scope="session")
def desk_store(tmp_path_factory: pytest.TempPathFactory, civiclab_home: Path) -> DeskStore:
    """Three signed journey runs (24 sessions, no energy meter), four accounts, a trust file."""
    import json

    from civiclab.desk.accounts import AccountStore
    from civiclab.evidence.signing.keys import default_key_name, export_public
    from civiclab.plugins.experiment import load_experiment
    from civiclab.run.runner import run_experiment

    root = tmp_path_factory.mktemp("desk")
    uri = f"sqlite:///{root / 'mlruns' / 'mlflow.db'}"
    spec = _journey_copy(root / "experiments")
    runs = []
    for seed in (1, 2, 3):
        experiment = load_experiment(
            spec, {"population.sessions": 24, "population.seed": seed, "energy.tracker": "none"}
        )
        runs.append(run_experiment(experiment, tracking_uri=uri).run_id)
    accounts = AccountStore(root / "desk.db")
    for name, role in ROLES.items():
        accounts.add_user(name, role, PASSWORDS[name])
    lab = default_key_name()
    assert lab is not None
    trust = root / "trust.yaml"
    trust.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "labs": [{"name": "Lab Belleval", "public_key": export_public(lab, "pem")}],
                "committee": [
                    {
                        "name": n,
                        "role": "member",
                        "public_key": json.loads(export_public(f"desk-{n}", "jwk"))["x"],
                    }
                    for n in ("alice", "carol")
                ],
            },
            sort_keys=False,
        )
    )
    return DeskStore(uri=uri, runs=runs, db=root / "desk.db", trust=trust)


@pytest.fixture
def desk_app(desk_store: DeskStore) -> Iterator[Any]:
    """A fresh desk application (its own sessions and login limiter) over the shared store."""
    from civiclab.desk.accounts import AccountStore
    from civiclab.desk.app import create_app
    from civiclab.store.tracker import Tracker

    yield create_app(
        Tracker(desk_store.uri), AccountStore(desk_store.db), trust=desk_store.trust, background_verify=False
    )


@pytest.fixture
def client(desk_app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(desk_app, base_url="http://127.0.0.1") as c:
        yield c


TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def login(client: Any, name: str, password: str | None = None) -> Any:
    page = client.get("/login")
    return client.post(
        "/login",
        data={"csrf_token": csrf_of(page.text), "username": name, "password": password or PASSWORDS[name]},
        follow_redirects=False,
    )
