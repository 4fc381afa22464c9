"""`verify` on a run whose process was SIGKILLed reports how far its chain is valid, not a missing file."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from civiclab.store.tracker import Tracker
from tests.evidence.signing.conftest import verify_cli
from tests.run.test_runner import start_slow_run


@pytest.mark.slow
def test_verify_a_killed_run(
    journey_spec: Path, store_uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proc = start_slow_run(journey_spec, store_uri, tmp_path)
    time.sleep(1.2)  # past the first flush of the chain
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    (run,) = Tracker(store_uri).list_runs()
    folder = Tracker(store_uri).local_artifact_dir(run.run_id)
    assert folder is not None
    lines = (folder / "audit.jsonl").read_bytes().split(b"\n")
    complete = len([line for line in lines[:-1] if line])  # the last line may be cut by the kill

    code, table, err = verify_cli(store_uri, run.run_id, None, capsys)
    assert code == 1
    assert table["kind"] == "incomplete (killed)"
    (row,) = table["checks"]
    assert row["name"] == "run" and row["status"] == "failed"
    assert row["detail"].startswith(f"incomplete run (killed), audit log valid up to event {complete} ")
    assert "manifest.json" not in err
    assert (
        f"verify failed: run {run.run_id}: run: incomplete run (killed), audit log valid up to event" in err
    )

    # A link planted in place of the killed run's audit log (to /dev/zero: a naive reader never ends)
    # is named, and nothing is read through it.
    audit = folder / "audit.jsonl"
    audit.rename(folder.parent / "audit.kept")
    audit.symlink_to("/dev/zero")
    code, table, _ = verify_cli(store_uri, run.run_id, None, capsys)
    (row,) = table["checks"]
    assert code == 1 and row["name"] == "artifacts"
    assert row["detail"].startswith("audit.jsonl: a symbolic link or special file")
