"""The desk keeps what it read of a run only while nothing under it changed: the store's file, the
run's files, the trust file. A tampered store or file is seen at the next view, even with its
modification time set back; a review is shown at once."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from civiclab.store.tracker import Tracker

pytestmark = pytest.mark.slow


@pytest.fixture
def one_run(journey_spec: Path, store_uri: str, civiclab_home: Path) -> str:
    from civiclab.plugins.experiment import load_experiment
    from civiclab.run.runner import run_experiment

    experiment = load_experiment(journey_spec, {"population.sessions": 12, "energy.tracker": "none"})
    return str(run_experiment(experiment, tracking_uri=store_uri).run_id)


def _set_back(path: Path, before: os.stat_result) -> None:
    """What someone hiding an edit does: the file's access and modification times put back."""
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def _signed_metric(folder: Path) -> str:
    """The name of one metric the run's signed statement holds (a value `verify` compares)."""
    from civiclab.evidence.signing.envelope import read_envelope

    envelope = read_envelope((folder / "statement.dsse.json").read_bytes())
    statement = json.loads(envelope.payload_bytes())
    return sorted(statement["predicate"]["metrics"])[0]


def test_a_run_is_read_once_while_the_store_is_unchanged_and_again_after_any_write(
    one_run: str, store_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civiclab.desk.verify_cache import VerifyCache
    from civiclab.store import sqlite_reads

    # The store was written a moment ago: its stamp is not trusted for RACY_S. Trusted at once here,
    # which is the hard case for seeing a change (it must come from the stamp itself).
    monkeypatch.setattr(sqlite_reads, "RACY_S", 0.0)
    tracker = Tracker(store_uri)
    cache = VerifyCache(tracker, None, background=False)
    reads: list[str] = []
    real_get_run = tracker.get_run

    def counted(run_id: str) -> Any:
        reads.append(run_id)
        return real_get_run(run_id)

    monkeypatch.setattr(tracker, "get_run", counted)
    first = cache.state(one_run)
    assert reads == [one_run]
    assert cache.verify(one_run, first).ok
    reads.clear()  # verifying reads the run itself
    for _ in range(5):
        assert cache.kept_state(one_run) is first
        assert cache.state(one_run) is first
        assert cache.kept(one_run, first) is cache.verify(one_run, first)
    assert reads == []  # five more views, no read

    tracker.set_tags(one_run, {"note": "seen"})
    assert cache.kept_state(one_run) is None
    assert cache.state(one_run).summary.tags["note"] == "seen"
    assert reads == [one_run]


def test_a_metric_edited_in_the_store_with_its_time_set_back_is_seen_by_the_run_page(
    one_run: str, store_uri: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from civiclab.desk.accounts import AccountStore
    from civiclab.desk.app import create_app
    from civiclab.store import sqlite_reads
    from tests.desk.conftest import login

    monkeypatch.setattr(sqlite_reads, "RACY_S", 0.0)
    accounts = AccountStore(tmp_path / "desk.db")
    accounts.add_user("vera", "viewer", "vera-viewer-pass")
    tracker = Tracker(store_uri)
    app = create_app(tracker, accounts, background_verify=False)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        login(client, "vera", "vera-viewer-pass")
        page = client.get(f"/runs/{one_run}").text
        assert 'id="evidence-state">' in page and "status-tampered" not in page
        assert client.get(f"/runs/{one_run}").text == page  # served from memory, the same page

        folder = tracker.local_artifact_dir(one_run)
        assert folder is not None
        key = _signed_metric(folder)
        db = Path(store_uri.removeprefix("sqlite:///"))
        before = db.stat()
        with sqlite3.connect(db) as conn:
            changed = conn.execute(
                "UPDATE latest_metrics SET value = value + 1 WHERE run_uuid = ? AND key = ?", (one_run, key)
            ).rowcount
        assert changed == 1
        _set_back(db, before)
        assert db.stat().st_mtime_ns == before.st_mtime_ns  # the edit's mtime is hidden, not its ctime

        tampered = client.get(f"/runs/{one_run}").text
        assert "status-tampered" in tampered
        assert "store: metrics" in tampered


def test_an_artifact_edited_to_the_same_size_with_its_time_set_back_is_seen(
    one_run: str, store_uri: str
) -> None:
    from civiclab.desk.verify_cache import VerifyCache

    tracker = Tracker(store_uri)
    cache = VerifyCache(tracker, None, background=False)
    assert cache.verify(one_run).ok
    folder = tracker.local_artifact_dir(one_run)
    assert folder is not None
    card = folder / "scorecard.json"
    before = card.stat()
    data = bytearray(card.read_bytes())
    at = data.index(b'"recommendation"') + 1
    data[at : at + 1] = b"R"  # one byte changed, the size kept
    card.write_bytes(bytes(data))
    _set_back(card, before)
    assert card.stat().st_size == before.st_size and card.stat().st_mtime_ns == before.st_mtime_ns
    after = cache.verify(one_run)
    assert not after.ok
    assert after.first_failure().detail == "scorecard.json: sha256 differs from the signed statement"  # type: ignore[union-attr]


def test_a_desk_warms_up_at_start_and_verifies_the_newest_runs_before_anyone_asks(
    one_run: str, store_uri: str
) -> None:
    import time

    from civiclab.desk.verify_cache import VerifyCache
    from civiclab.desk.warmup import newest_runs, warm_up

    tracker = Tracker(store_uri)
    assert tracker._client is None  # a SQLite store that holds runs is read without MLflow
    assert warm_up(tracker) >= 0.0
    assert tracker._client is not None  # a first review will not wait for it
    assert newest_runs(tracker) == [one_run]

    cache = VerifyCache(Tracker(store_uri), None, background=True, warm=True)
    try:
        state = cache.state(one_run)
        deadline = time.monotonic() + 240
        while cache.kept(one_run, state) is None:  # nobody listed the run nor opened its page
            assert time.monotonic() < deadline, "the warm-up never verified the newest run"
            time.sleep(0.2)
        assert cache.kept(one_run, state).ok
    finally:
        cache.close()
