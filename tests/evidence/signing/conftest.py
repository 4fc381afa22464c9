"""Keys, a trust file and signed journey runs for the signing tests (real SQLite store, real keys)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from civiclab.evidence.signing.keys import Signer, init_key, keys_dir, load_signer
from tests.audit_formats import audit_format
from tests.evidence.signing.matrix import write_trust

__all__ = ["audit_format"]

LAB, MEMBER, OUTSIDER = "lab-belleval", "martin", "mallory"


def _key(name: str) -> None:
    if not (keys_dir() / f"{name}.key").exists():
        init_key(name)


def _make_keys(civiclab_home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    from tests.reviewer_keys import reviewer_key

    _key(LAB)
    for name in (MEMBER, OUTSIDER):
        reviewer_key(name)
    monkeypatch.setenv("CIVICLAB_KEY", LAB)
    attacker_home = civiclab_home.parent / "attacker-home"
    if not (attacker_home / "keys" / "attacker.key").exists():
        init_key("attacker", home=attacker_home)
    attacker: Signer = load_signer("attacker", home=attacker_home)
    return {"lab": LAB, "member": MEMBER, "outsider": OUTSIDER, "attacker": attacker}


@pytest.fixture
def keys(civiclab_home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The lab's signing key (the one runs use), a committee member's, an outsider's, and an
    attacker's key made in another home (the attacker has none of the others)."""
    return _make_keys(civiclab_home, monkeypatch)


@dataclass(frozen=True)
class SignedStore:
    uri: str
    run_id: str


@pytest.fixture(scope="module")
def pristine_runs(
    tmp_path_factory: pytest.TempPathFactory, civiclab_home: Path
) -> Callable[[int], SignedStore]:
    """One signed journey run (60 sessions, no energy meter) per audit format, made once for the module
    on first use, each in a store of its own that no test changes: a test that tampers takes `signed_copy`."""
    from civiclab.evidence import audit
    from civiclab.plugins.experiment import load_experiment
    from civiclab.run.runner import run_experiment
    from tests.conftest import copy_journey

    made: dict[int, SignedStore] = {}

    def run_in(audit_format: int) -> SignedStore:
        if audit_format not in made:
            root = tmp_path_factory.mktemp(f"pristine-format{audit_format}")
            with pytest.MonkeyPatch.context() as patch:
                _make_keys(civiclab_home, patch)
                patch.setattr(audit, "WRITTEN_FORMAT", audit_format)
                experiment = load_experiment(
                    copy_journey(root), {"population.sessions": 60, "energy.tracker": "none"}
                )
                uri = f"sqlite:///{root / 'store' / 'mlflow.db'}"
                made[audit_format] = SignedStore(uri, run_experiment(experiment, tracking_uri=uri).run_id)
        return made[audit_format]

    return run_in


@pytest.fixture
def pristine_signed(
    pristine_runs: Callable[[int], SignedStore], request: pytest.FixtureRequest
) -> SignedStore:
    """The module's signed run in the format this test writes (`audit_format` when it asks for it)."""
    from civiclab.evidence import audit

    if "audit_format" in request.fixturenames:
        request.getfixturevalue("audit_format")  # set before the format is read
    return pristine_runs(audit.WRITTEN_FORMAT)


@pytest.fixture
def signed_copy(pristine_signed: SignedStore, tmp_path: Path, keys: dict[str, Any]) -> SignedStore:
    """This test's own copy of the module's signed run and its store (tests/store_copy.py)."""
    from tests.store_copy import copy_store

    return SignedStore(copy_store(pristine_signed.uri, tmp_path / "store"), pristine_signed.run_id)


@pytest.fixture
def trust_file(tmp_path: Path, keys: dict[str, Any]) -> Path:
    return write_trust(tmp_path / "trust.yaml", LAB, MEMBER)


@pytest.fixture
def signed_run(journey_spec: Path, keys: dict[str, Any]) -> Callable[..., Any]:
    """Run the journey experiment (60 sessions, no energy meter) into a store; returns the RunResult."""
    from civiclab.plugins.experiment import load_experiment
    from civiclab.run.runner import run_experiment

    def run(uri: str, sessions: int = 60) -> Any:
        experiment = load_experiment(
            journey_spec, {"population.sessions": sessions, "energy.tracker": "none"}
        )
        return run_experiment(experiment, tracking_uri=uri)

    return run


def verify_cli(
    uri: str, run_id: str, trust: Path | None, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any], str]:
    """`civiclab verify --json` as a user runs it: exit code, the table as JSON, and stderr."""
    import json

    from civiclab.cli import main

    args = ["--tracking-uri", uri, "verify", run_id, "--json"] + (["--trust", str(trust)] if trust else [])
    capsys.readouterr()
    code = main(args)
    out, err = capsys.readouterr()
    assert out, err
    return code, json.loads(out), err
