"""Issue 10's tamper matrix on the default SQLite store: every attack makes verify exit 1 naming it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.signing.attacks import sqlite_store
from tests.signing.conftest import verify_cli
from tests.signing.matrix import ATTACKS, Attack


@pytest.fixture(scope="module")
def store_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite store for the module: creating its schema costs seconds, each attack has its run."""
    return f"sqlite:///{tmp_path_factory.mktemp('tamper') / 'mlflow.db'}"


def test_an_untampered_signed_run_verifies(
    signed_run: Callable[..., Any], store_uri: str, trust_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = signed_run(store_uri)
    code, table, err = verify_cli(store_uri, result.run_id, trust_file, capsys)
    assert code == 0, err
    assert table["ok"] and table["kind"] == "signed" and table["trusted"] is True
    assert table["signer"] == "Lab Belleval"
    rows = {c["name"]: c for c in table["checks"]}
    assert {n: rows[n]["status"] for n in rows} == {
        "signature": "ok",
        "artifacts": "ok",
        "audit chain": "ok",
        "sessions": "ok",
        "store: metrics": "ok",
        "store: params": "ok",
        "store: tags": "ok",
        "evaluators re-run": "ok",
        "manifest": "ok",
        "reviews": "ok",
        "anchor": "skipped",
    }
    assert "60 sessions opened and closed" in rows["audit chain"]["detail"]
    assert "human_centered re-run" in rows["evaluators re-run"]["detail"]
    assert "energy: measures the energy" in rows["evaluators re-run"]["detail"]


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_tamper_matrix_sqlite(
    attack: Attack,
    signed_run: Callable[..., Any],
    store_uri: str,
    trust_file: Path,
    keys: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = signed_run(store_uri)
    store = sqlite_store(store_uri)
    attack.apply(store, result.run_id, keys)
    code, table, err = verify_cli(store_uri, result.run_id, trust_file, capsys)
    assert code == 1, table
    rows = {c["name"]: c for c in table["checks"]}
    for check, words in attack.expect:
        assert rows[check]["status"] == "failed", (check, rows[check])
        assert words in rows[check]["detail"], (check, rows[check]["detail"])
    first = next(c for c in table["checks"] if c["status"] == "failed")
    assert f"verify failed: run {result.run_id}: {first['name']}: " in err
