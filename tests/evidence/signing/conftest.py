"""Keys, a trust file and signed journey runs for the signing tests (real SQLite store, real keys)."""

from __future__ import annotations

from collections.abc import Callable
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


@pytest.fixture
def keys(civiclab_home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The lab's signing key (the one runs use), a committee member's, an outsider's, and an
    attacker's key made in another home (the attacker has none of the others)."""
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
