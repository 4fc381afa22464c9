"""Pseudonym salts: a random lab secret (0600, never logged), the spec's env var overrides, key id recorded."""

from __future__ import annotations

import hashlib
import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from civiclab.plugins.experiment import load_experiment
from civiclab.privacy.pseudonyms import pseudonym_salt
from civiclab.privacy.secrets import lab_secret, secret_key_id
from civiclab.run.runner import run_experiment
from civiclab.store.schema import PSEUDONYM_KEY_ID_TAG
from civiclab.store.tracker import Tracker

FAST = {"energy.tracker": "none", "population.sessions": 30}


@pytest.fixture
def fresh_lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "lab"
    monkeypatch.setenv("CIVICLAB_HOME", str(home))
    return home


def test_lab_secret_is_random_private_and_stable(fresh_lab: Path) -> None:
    civiclab_home = fresh_lab
    first = lab_secret("pseudonym-salt")
    path = civiclab_home / "secrets" / "pseudonym-salt"
    assert len(first) == 32 and path.read_bytes() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert lab_secret("pseudonym-salt") == first  # created once, then read
    assert lab_secret("survey-codes") != first  # one secret per use


def test_concurrent_processes_agree_on_one_secret(fresh_lab: Path) -> None:
    civiclab_home = fresh_lab
    code = "from civiclab.privacy.secrets import lab_secret; print(lab_secret('race').hex())"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True) for _ in range(4)
    ]
    outputs = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert len(outputs) == 1 and outputs == {lab_secret("race").hex()}
    assert [p.name for p in (civiclab_home / "secrets").iterdir()] == ["race"]  # no temporary files left


def test_salt_is_not_derivable_from_the_experiment(
    journey_spec: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    exp = load_experiment(journey_spec, FAST)
    salt = pseudonym_salt(exp.spec.privacy)
    assert salt != hashlib.sha256(f"civiclab:{exp.spec.name}".encode()).hexdigest()
    monkeypatch.setenv("CIVICLAB_HOME", str(tmp_path / "another-lab"))
    assert pseudonym_salt(exp.spec.privacy) != salt  # another lab, another salt
    monkeypatch.setenv(exp.spec.privacy.salt_env, "shared-by-the-lab")
    assert pseudonym_salt(exp.spec.privacy) == "shared-by-the-lab"


@pytest.mark.slow
def test_a_run_records_the_key_id_and_never_the_salt(journey_spec: Path, store_uri: str) -> None:
    exp = load_experiment(journey_spec, FAST)
    result = run_experiment(exp, tracking_uri=store_uri)
    salt = pseudonym_salt(exp.spec.privacy)
    run = Tracker(store_uri).get_run(result.run_id)
    assert (
        run.tags[PSEUDONYM_KEY_ID_TAG]
        == secret_key_id(salt)
        == hashlib.sha256(salt.encode()).hexdigest()[:16]
    )
    everything = json.dumps([run.tags, run.params, run.metrics])
    assert salt not in everything
    assert result.artifact_dir is not None
    for path in result.artifact_dir.rglob("*"):
        if path.is_file():
            assert salt.encode() not in path.read_bytes(), path.name
