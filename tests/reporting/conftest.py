"""Fixtures: real toy runs in a real SQLite MLflow store under tmp_path."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from . import toy

os.environ.setdefault("HF_HUB_OFFLINE", "1")

PERSONAS = [
    {
        "id": "young-urban",
        "age_band": "25-39",
        "digital_literacy": "high",
        "territory": "urban",
        "device": "smartphone",
    },
    {
        "id": "senior-rural",
        "age_band": "65-79",
        "digital_literacy": "low",
        "territory": "rural",
        "device": "computer",
    },
    {"id": "adult-suburban", "age_band": "40-64", "digital_literacy": "medium", "territory": "suburban"},
]


def toy_spec(name: str = "toy-pilot", **params: Any) -> dict[str, Any]:
    """An experiment on the toy pilot with criteria of every kind."""
    return {
        "name": name,
        "description": "A toy pilot used by the reporting tests.",
        "pilot": {"kind": toy.PILOT, "params": params},
        "population": {"personas": PERSONAS, "sessions": 60, "seed": 7},
        "channels": ["web", "phone", "counter"],
        "evaluators": [toy.EVALUATOR],
        "energy": {"tracker": "none"},
        "governance": {
            "data_controller": "Ville de Test",
            "legal_basis": "public task (GDPR art. 6(1)(e))",
            "retention": "12 months",
            "storage_location": "EU (on premises)",
            "reviewers": ["ethics committee"],
            "fallback_channels": ["phone", "counter"],
        },
        "scorecard": {
            "criteria": [
                {"metric": "human_centered.completion_rate", "at_least": 0.5, "label": "completion"},
                {"metric": "human_centered.abandonment_rate", "at_most": 0.4, "severity": "advisory"},
                {
                    "metric": "human_centered.completion_rate",
                    "max_gap": 0.3,
                    "by": "territory",
                    "label": "territorial gap",
                },
                {"metric": "acceptability.trust_score", "at_least": 3.5, "label": "trust"},
            ]
        },
    }


@pytest.fixture(scope="session", autouse=True)
def _toy_registered() -> None:
    toy.register()


REVIEW_KEY = "committee"


@pytest.fixture(scope="session", autouse=True)
def review_key(civiclab_home: Path) -> str:
    """The committee's signing key, made once in the test session's CIVICLAB_HOME."""
    from civiclab.evidence.signing.keys import ensure_demo_key
    from tests.reviewer_keys import reviewer_key

    ensure_demo_key()  # the lab's key signs runs: made first, it is the default one
    return reviewer_key(REVIEW_KEY)


@pytest.fixture(scope="session")
def report_trust(tmp_path_factory: pytest.TempPathFactory, review_key: str) -> Path:
    """The committee's trust file: the lab's key signs runs, the committee key is Dr Martin's, the chair."""
    import json

    from civiclab.evidence.signing.keys import default_key_name, export_public

    lab = default_key_name()
    assert lab is not None
    path = tmp_path_factory.mktemp("trust") / "trust.yaml"
    committee = [
        {
            "name": "Dr Martin",
            "role": "chair",
            "public_key": json.loads(export_public(review_key, "jwk"))["x"],
        }
    ]
    path.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "labs": [{"name": "Lab Toy", "public_key": export_public(lab, "pem")}],
                "committee": committee,
            },
            sort_keys=False,
        )
    )
    return path


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/mlflow.db"


def make_runner(folder: Path, store: str) -> Callable[..., Any]:
    """A function running toy experiments into `store`, writing their specs under `folder`."""
    from civiclab.plugins.experiment import load_experiment
    from civiclab.run.runner import run_experiment

    def run(
        spec: dict[str, Any] | None = None, overrides: dict[str, Any] | None = None, **params: Any
    ) -> Any:
        data = spec or toy_spec(**params)
        path = folder / f"{data['name']}-{len(list(folder.glob('*.yaml')))}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        experiment = load_experiment(path, {"energy.tracker": "none", **(overrides or {})})
        return run_experiment(experiment, tracking_uri=store)

    return run


@pytest.fixture
def run_toy(tmp_path: Path, store: str) -> Callable[..., Any]:
    """Run a toy experiment into the tmp store; returns the RunResult."""
    return make_runner(tmp_path, store)
