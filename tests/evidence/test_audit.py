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


# --- the two formats ---------------------------------------------------------------------------------

OLD_RUN = Path(__file__).parents[1] / "fixtures" / "audit_v1"
"""A journey run's audit log and sessions file (12 sessions) as civiclab wrote them before format 2."""


def test_a_run_written_before_format_2_still_verifies_to_the_root_it_was_written_with() -> None:
    from civiclab.evidence.verify.auditcheck import _check_audit_log, check_audit_log

    expected = json.loads((OLD_RUN / "expected.json").read_text())
    audit, sessions = OLD_RUN / "audit.jsonl", OLD_RUN / "sessions.jsonl"
    summary = verify_audit_log(audit)
    assert (summary.root, summary.events) == (expected["root"], expected["events"])
    assert summary.opened == summary.closed == expected["sessions"] == 12
    fast = check_audit_log(audit, sessions, expected["events"])
    assert fast == _check_audit_log(audit, sessions, expected["events"], None)
    assert (fast.root, fast.closed, fast.closed_run) == (expected["root"], 12, True)
    assert b'"audit_format"' not in audit.read_bytes().splitlines()[0]  # format 1 never named itself


def _format_2_run(folder: Path, sessions: int = 3) -> None:
    from civiclab.run.journal import Journal
    from tests.run.test_journal import START, session

    with Journal(folder, START) as journal:
        journal.open_run({"experiment": "x"})
        for i in range(sessions):
            journal.session(session(i, note="rien" if i != 1 else "abandon"))
        journal.close_run()


@pytest.mark.parametrize("line", [2, 3, 4])
def test_a_changed_session_of_a_format_2_log_is_named_by_its_line_and_session(
    tmp_path: Path, line: int
) -> None:
    from civiclab.evidence.verify.auditcheck import AuditProblem, check_audit_log

    _format_2_run(tmp_path)
    audit = tmp_path / "audit.jsonl"
    events = len(audit.read_bytes().splitlines())
    lines = audit.read_text().splitlines()
    entry = json.loads(lines[line - 1])
    entry["session"]["outcome"] = "abandoned"
    lines[line - 1] = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    audit.write_text("\n".join(lines) + "\n")
    with pytest.raises(AuditError, match=f"audit.jsonl: line {line}: hash does not match"):
        verify_audit_log(audit)
    with pytest.raises(AuditProblem, match=f"audit.jsonl: line {line}: hash does not match"):
        check_audit_log(audit, tmp_path / "sessions.jsonl", events)


def test_a_session_edited_in_sessions_jsonl_alone_is_named_by_its_line_and_session(tmp_path: Path) -> None:
    from civiclab.evidence.verify.auditcheck import AuditProblem, check_audit_log

    _format_2_run(tmp_path)
    stored = (tmp_path / "sessions.jsonl").read_text().splitlines()
    record = json.loads(stored[1])
    record["outcome"] = "abandoned"
    stored[1] = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    (tmp_path / "sessions.jsonl").write_text("\n".join(stored) + "\n")
    with pytest.raises(AuditProblem, match=r"sessions.jsonl: line 2 \(s000001\): outcome differs"):
        check_audit_log(tmp_path / "audit.jsonl", tmp_path / "sessions.jsonl", 5)


def test_a_session_line_spliced_into_a_format_1_log_is_refused(tmp_path: Path) -> None:
    """The format is what the first line declares: a session line in a format-1 log is not read as one."""
    from civiclab.evidence.audit import session_hash

    path = tmp_path / "audit.jsonl"
    write_chain(path, 2)
    lines = path.read_text().splitlines()
    prev = json.loads(lines[-1])["hash"]
    session = {"session_id": "s9", "events": [], "outcome": "completed"}
    lines.append(
        json.dumps({"hash": session_hash(prev, session), "prev": prev, "seq": 2, "session": session})
    )
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(AuditError, match="line 3: a session line in a format-1 audit log"):
        verify_audit_log(path)
