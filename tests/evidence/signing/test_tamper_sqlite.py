"""Issue 10's tamper matrix on the default SQLite store: every attack makes verify exit 1 naming it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.evidence.signing.attacks import sqlite_store
from tests.evidence.signing.conftest import SignedStore, verify_cli
from tests.evidence.signing.matrix import ATTACKS, Attack

# The journey is run and signed once for the module (`pristine_signed`); each test tampers with its own
# copy of that store (`signed_copy`), so an attack never sees another's.


@pytest.mark.slow
def test_an_untampered_signed_run_verifies(
    signed_copy: SignedStore, trust_file: Path, capsys: pytest.CaptureFixture[str], audit_format: int
) -> None:
    store_uri, run_id = signed_copy.uri, signed_copy.run_id
    code, table, err = verify_cli(store_uri, run_id, trust_file, capsys)
    assert code == 0, err
    assert table["ok"] and table["kind"] == "signed" and table["trusted"] is True
    assert table["signer"] == "Lab Belleval"
    rows = {c["name"]: c for c in table["checks"]}
    assert {n: rows[n]["status"] for n in rows} == {
        "signature": "ok",
        "artifacts": "ok",
        "audit chain": "ok",
        "sessions": "ok",
        "store: run": "ok",
        "store: metrics": "ok",
        "store: params": "ok",
        "store: tags": "ok",
        "evaluators re-run": "ok",
        "verdicts": "ok",
        "manifest": "ok",
        "reviews": "ok",
        "anchor": "skipped",
    }
    assert "60 sessions opened and closed" in rows["audit chain"]["detail"]
    rerun = rows["evaluators re-run"]["detail"]
    assert rerun.startswith("human_centered re-run, ") and int(rerun.split(", ")[1].split()[0]) > 100
    assert "energy: measures the energy" in rows["evaluators re-run"]["detail"]


def test_a_run_too_large_to_hold_is_re_run_from_its_sessions_file_and_still_caught(
    signed_copy: SignedStore,
    trust_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    audit_format: int,
) -> None:
    """Past `KEEP_AT_MOST` sessions verify holds none: the re-run streams sessions.jsonl, with the
    same values, and an edited signed metric is still caught by the re-run."""
    import json

    from civiclab.evidence.verify import auditcheck

    monkeypatch.setattr(auditcheck, "KEEP_AT_MOST", 10)
    store_uri, run_id = signed_copy.uri, signed_copy.run_id
    code, table, err = verify_cli(store_uri, run_id, trust_file, capsys)
    assert code == 0, err
    rows = {c["name"]: c for c in table["checks"]}
    assert rows["evaluators re-run"]["status"] == "ok"
    assert rows["evaluators re-run"]["detail"].startswith("human_centered re-run, ")

    from civiclab.store.tracker import Tracker

    folder = Tracker(store_uri).local_artifact_dir(run_id)
    assert folder is not None
    lines = (folder / "sessions.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["outcome"] = "abandoned" if first["outcome"] != "abandoned" else "completed"
    lines[0] = json.dumps(first)
    (folder / "sessions.jsonl").write_text("\n".join(lines) + "\n")
    code, table, _ = verify_cli(store_uri, run_id, trust_file, capsys)
    rows = {c["name"]: c for c in table["checks"]}
    assert code == 1 and rows["sessions"]["status"] == "failed"
    assert rows["evaluators re-run"]["status"] == "failed"  # streamed from the edited file


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
@pytest.mark.slow
def test_tamper_matrix_sqlite(
    attack: Attack,
    signed_copy: SignedStore,
    trust_file: Path,
    keys: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    audit_format: int,
) -> None:
    store_uri, run_id = signed_copy.uri, signed_copy.run_id
    store = sqlite_store(store_uri)
    attack.apply(store, run_id, keys)
    code, table, err = verify_cli(store_uri, run_id, trust_file, capsys)
    assert code == 1, table
    rows = {c["name"]: c for c in table["checks"]}
    for check, words in attack.expected(audit_format):
        assert rows[check]["status"] == "failed", (check, rows[check])
        assert words in rows[check]["detail"], (check, rows[check]["detail"])
    first = next(c for c in table["checks"] if c["status"] == "failed")
    assert f"verify failed: run {run_id}: {first['name']}: " in err
