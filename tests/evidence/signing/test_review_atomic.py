"""A review killed at any step leaves a run that verifies: the next command completes or rolls it back.

Each case runs `civiclab review` in a real subprocess that SIGKILLs itself at one step
(CIVICLAB_FAULT_AT), then runs `civiclab verify` and a second review, as a committee would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from civiclab.evidence.review import add_review
from civiclab.evidence.review_record import PENDING
from civiclab.evidence.verify.verification import verify
from civiclab.store.tracker import Tracker
from tests.evidence.signing.conftest import SignedStore

pytestmark = pytest.mark.slow  # whole experiments: left out of `make test-fast`

# step killed at -> how many reviews the run holds once the next command has recovered it
CASES = {
    "review:after-wal": 0,  # the audit log line was never written: rolled back
    "review:after-audit": 1,  # the line is there, manifest and tags are not: completed
    "review:after-manifest": 1,  # tags not yet updated: completed
    "review:after-tags": 1,  # only the write-ahead record left: completed (idempotent)
}


def civiclab(*args: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("CIVICLAB_FAULT_AT", None)
    if fault:
        env["CIVICLAB_FAULT_AT"] = fault
    return subprocess.run(
        [sys.executable, "-m", "civiclab.cli", *args], capture_output=True, text=True, timeout=300, env=env
    )


@pytest.mark.parametrize("fault", list(CASES))
def test_review_killed_at_each_step(
    fault: str, signed_copy: SignedStore, trust_file: Path, keys: dict[str, Any]
) -> None:
    # Each case on its own copy of the module's signed run (tests/store_copy.py).
    store_uri, run_id = signed_copy.uri, signed_copy.run_id
    killed = civiclab(
        "--tracking-uri", store_uri, "review", run_id, "--key", keys["member"],
        "--decision", "revise", "--comment", "rural gap", fault=fault,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    folder = Tracker(store_uri).local_artifact_dir(run_id)
    assert folder is not None
    assert (folder.parent / PENDING).exists()  # the write-ahead record outlived the process

    verified = civiclab("--tracking-uri", store_uri, "verify", run_id, "--trust", str(trust_file), "--json")
    assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-2000:]
    table = json.loads(verified.stdout)
    assert len(table["reviews"]) == CASES[fault]
    assert table["checks"][0]["name"] == "pending review"
    assert not (folder.parent / PENDING).exists()

    # A later review is accepted (in-process: the subprocess part is the kill and the recovery).
    add_review(Tracker(store_uri), run_id, key=keys["member"], decision="approve")
    final = verify(Tracker(store_uri), run_id, trust_file)
    assert final.ok, final.table()
    assert [r.decision for r in final.reviews] == ["revise", "approve"][1 - CASES[fault] :]
    assert all(r.signer == "Dr Martin" and r.role == "chair" and r.trusted for r in final.reviews)


def test_a_chain_line_cut_mid_write_is_rolled_back(
    signed_copy: SignedStore, trust_file: Path, keys: dict[str, Any]
) -> None:
    """Killed while writing the audit log line itself: half a line on disk is removed, the run verifies."""
    store_uri, run_id = signed_copy.uri, signed_copy.run_id
    killed = civiclab(
        "--tracking-uri", store_uri, "review", run_id, "--key", keys["member"],
        "--decision", "revise", fault="review:after-audit",
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    folder = Tracker(store_uri).local_artifact_dir(run_id)
    assert folder is not None
    chain = folder / "audit.jsonl"
    data = chain.read_bytes()
    chain.write_bytes(
        data[: data.rstrip(b"\n").rfind(b"\n") + 1] + data[data.rstrip(b"\n").rfind(b"\n") + 1 :][:100]
    )
    verified = civiclab("--tracking-uri", store_uri, "verify", run_id, "--trust", str(trust_file), "--json")
    assert verified.returncode == 0, verified.stdout[-3000:]
    table = json.loads(verified.stdout)
    assert table["reviews"] == []
    assert "rolled back (its audit log line was cut)" in table["checks"][0]["detail"]
