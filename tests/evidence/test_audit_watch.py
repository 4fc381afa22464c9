"""The chain watcher: a real process following audit.jsonl as it is written, as verify_audit_log would."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from civiclab.errors import AuditError
from civiclab.evidence.audit import AuditWriter, verify_audit_log
from civiclab.evidence.audit_watch import AuditWatcher


def _event(i: int, kind: str = "step") -> dict[str, object]:
    return {"session_id": f"s{i // 10}", "seq": i, "ts": "2026-01-01T00:00:00Z", "kind": kind,
            "actor": "citizen", "payload": {"i": i, "text": "é" * (i % 7)}}  # fmt: skip


def test_it_follows_the_chain_flush_by_flush_and_agrees_with_verify_chain(tmp_path: Path) -> None:
    """The chain reaches the disk in pieces that cut lines in the middle (as a reader may see a
    flush half-written); the watcher, started before the file exists, keeps each unfinished line
    for the rest of it."""
    whole = tmp_path / "whole.jsonl"
    with AuditWriter(whole) as writer:
        for i in range(1000):
            kind = "session.open" if i % 10 == 0 else "session.close" if i % 10 == 9 else "step"
            writer.append(_event(i, kind))
    data = whole.read_bytes()
    path = tmp_path / "audit.jsonl"
    watcher = AuditWatcher(path)
    time.sleep(0.3)
    with path.open("wb") as fh:
        for start in range(0, len(data), 7919):  # a prime: cuts fall anywhere in a line
            fh.write(data[start : start + 7919])
            fh.flush()
            if start % 5 == 0:
                time.sleep(0.01)
    assert watcher.result(timeout=60) == verify_audit_log(whole)
    assert verify_audit_log(whole).events == 1000 and verify_audit_log(whole).opened == 100


def test_a_line_that_does_not_hold_is_named(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    with AuditWriter(path) as writer:
        for i in range(30):
            writer.append(_event(i))
    lines = path.read_bytes().splitlines(keepends=True)
    lines[17] = lines[17].replace(b'"i":17', b'"i":71')
    path.write_bytes(b"".join(lines))
    watcher = AuditWatcher(path)
    with pytest.raises(AuditError, match=r"audit.jsonl: line 18: hash does not match the event"):
        watcher.result(timeout=60)
    with pytest.raises(AuditError, match="line 18"):
        verify_audit_log(path)  # the same first failure as the pass after the run


def test_a_run_that_stops_before_its_chain_closes_stops_its_watcher(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    watcher = AuditWatcher(path)
    proc = watcher._proc
    assert proc is not None and proc.poll() is None
    watcher.stop()
    assert proc.wait(timeout=10) == 0
    out = subprocess.run(["pgrep", "-f", f"civiclab.evidence.audit_watch {path}"], capture_output=True)
    assert out.stdout == b""  # no watcher left behind


def test_a_watcher_that_cannot_run_is_not_taken_for_a_broken_chain(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.jsonl"
    with AuditWriter(path) as writer:
        for i in range(20):
            writer.append(_event(i))
    monkeypatch.setattr("sys.executable", "/bin/false")  # a watcher that exits at once, saying nothing
    assert AuditWatcher(path).result(timeout=30) == verify_audit_log(path)
