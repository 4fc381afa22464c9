"""The hash-chained audit log: any change to any line is found, and named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civiclab.errors import AuditError
from civiclab.evidence.audit import GENESIS, AuditWriter, link_hash, verify_audit_log


def write_chain(path: Path, n: int = 5) -> str:
    with AuditWriter(path) as audit:
        for i in range(n):
            audit.append(
                {
                    "session_id": f"s{i}",
                    "seq": 0,
                    "ts": "t",
                    "kind": "session.open",
                    "actor": "a",
                    "payload": {"i": i},
                }
            )
        return audit.root


def test_root_is_the_chained_hash_of_every_event(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    root = write_chain(path, 3)
    prev = GENESIS
    for line in path.read_text().splitlines():
        prev = link_hash(prev, json.loads(line)["event"])
    assert prev == root
    summary = verify_audit_log(path)
    assert (summary.events, summary.root, summary.opened) == (3, root, 3)


@pytest.mark.parametrize("line", [1, 3, 5])
def test_a_changed_event_is_named_by_its_line(tmp_path: Path, line: int) -> None:
    path = tmp_path / "audit.jsonl"
    write_chain(path)
    lines = path.read_text().splitlines()
    entry = json.loads(lines[line - 1])
    entry["event"]["payload"]["i"] = 99
    lines[line - 1] = json.dumps(entry)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(AuditError, match=f"line {line}: hash does not match"):
        verify_audit_log(path)


def test_a_removed_line_breaks_the_next_link(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_chain(path)
    lines = path.read_text().splitlines()
    del lines[1]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(AuditError, match="line 2: sequence number 2 out of order"):
        verify_audit_log(path)


def test_resume_appends_to_a_valid_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_chain(path, 2)
    with AuditWriter(path, resume=True) as audit:
        audit.append({"kind": "review"})
    assert verify_audit_log(path).events == 3
