"""Verifying only reads: a run with a review left half-recorded is verified as it was left, every byte
of its artifacts, its write-ahead record and its store unchanged; `civiclab verify` (the command)
completes the review first, and says so in its table."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from civiclab.evidence import review as review_module
from civiclab.evidence.review import add_review
from civiclab.evidence.review_record import PENDING
from civiclab.evidence.verify.verification import verify
from civiclab.store.tracker import Tracker
from tests.evidence.signing.conftest import verify_cli


class _Interrupted(Exception):
    """Stands for the power cut: the review stops after its chain line landed."""


def _interrupt_after_the_audit_line(point: str) -> None:
    if point == "review:after-audit":
        raise _Interrupted(point)


def _snapshot(*roots: Path) -> dict[str, str]:
    """sha256 of every file under `roots` (links are not followed), by path."""
    out: dict[str, str] = {}
    for root in roots:
        for dirpath, _, files in os.walk(root):
            for name in files:
                path = Path(dirpath, name)
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _store_state(tracker: Tracker, run_id: str) -> tuple[Any, ...]:
    run = tracker.get_run(run_id)
    return run.status, run.tags, run.metrics, run.params


def test_verify_leaves_a_pending_review_and_the_run_unchanged(
    signed_run: Callable[..., Any],
    tmp_path: Path,
    trust_file: Path,
    keys: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "store" / "mlflow.db"
    db.parent.mkdir()
    store_uri = f"sqlite:///{db}"
    result = signed_run(store_uri)
    tracker = Tracker(store_uri)
    folder = tracker.local_artifact_dir(result.run_id)
    assert folder is not None
    monkeypatch.setattr(review_module, "_fault", _interrupt_after_the_audit_line)
    with pytest.raises(_Interrupted):
        add_review(tracker, result.run_id, key=keys["member"], decision="revise", comment="rural gap")
    monkeypatch.undo()
    wal = folder.parent / PENDING
    assert wal.exists()  # the chain holds the review's line; the manifest and the tags do not yet

    run_dir, store_dir = folder.parent, db.parent
    files_before, store_before = _snapshot(run_dir, store_dir), _store_state(tracker, result.run_id)
    verification = verify(tracker, result.run_id, trust_file)
    assert _snapshot(run_dir, store_dir) == files_before
    assert _store_state(tracker, result.run_id) == store_before
    assert wal.exists()
    pending = verification.checks[0]
    assert (pending.name, pending.status) == ("pending review", "warning")
    assert "civiclab verify" in pending.detail
    # As left, the chain is one review ahead of the manifest: the run does not verify until completed.
    assert not verification.ok

    # The command completes it (its own write, done before verifying) and says so in the first row.
    code, table, err = verify_cli(store_uri, result.run_id, trust_file, capsys)
    assert code == 0, err
    assert table["checks"][0] == {
        "name": "pending review",
        "status": "warning",
        "detail": "an interrupted review was completed",
    }
    assert [r["decision"] for r in table["reviews"]] == ["revise"]
    assert not wal.exists()
    assert _store_state(tracker, result.run_id) != store_before  # the tags now count the review

    # Once completed, verifying again is quiet about it.
    again = verify(tracker, result.run_id, trust_file)
    assert again.ok, again.table()
    assert "pending review" not in {c.name for c in again.checks}
