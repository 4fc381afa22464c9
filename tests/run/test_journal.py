"""The run's journal: one numbering for civiclab's own events, redaction first, both files flushed together."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from civiclab.evidence.audit import GENESIS, PER_EVENT, PER_SESSION, verify_audit_log
from civiclab.plugins.piloting import EventLog
from civiclab.records import SessionRecord
from civiclab.run.journal import Journal

START = datetime(2026, 1, 5, 9, tzinfo=UTC)


def session(i: int, note: str = "rien") -> SessionRecord:
    log = EventLog(f"s{i:06d}", START)
    log.add("journey.start", "citizen", 0)
    log.add("journey.complete", "citizen", 10, note=note)
    return SessionRecord(
        session_id=f"s{i:06d}", persona_id="retiree", segment={}, events=log.events, outcome="completed"
    )


def entries(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in path.read_text().splitlines()]


def session_ids(path: Path) -> list[str]:
    """The sessions an audit log closes, in either format."""
    return [
        e["session"]["session_id"] if "session" in e else e["event"]["session_id"]
        for e in entries(path)
        if "session" in e or e["event"]["kind"] == "session.close"
    ]


def test_civiclab_events_are_numbered_by_one_counter_and_pilot_events_keep_theirs(
    tmp_path: Path, audit_format: int
) -> None:
    if audit_format != PER_EVENT:
        return  # format 2 has no session.open/close events: its own test follows
    with Journal(tmp_path, START) as journal:
        journal.open_run({"experiment": "x"})
        for i in range(3):
            journal.session(session(i))
        chain = journal.close_run()
    lines = entries(tmp_path / "audit.jsonl")
    own = [(e["event"]["kind"], e["event"]["seq"]) for e in lines if e["event"]["actor"] == "civiclab"]
    assert own == [
        ("run.open", 0),
        ("session.open", 1),
        ("session.close", 2),
        ("session.open", 3),
        ("session.close", 4),
        ("session.open", 5),
        ("session.close", 6),
        ("run.close", 7),
    ]
    pilot_seqs = [e["event"]["seq"] for e in lines if e["event"]["actor"] == "citizen"]
    assert pilot_seqs == [0, 1] * 3
    assert chain.events == len(lines) == 3 * 4 + 2
    assert verify_audit_log(tmp_path / "audit.jsonl").root == chain.root
    assert (chain.opened, chain.closed) == (3, 3)


def test_format_2_writes_each_session_once_the_same_bytes_in_both_files(tmp_path: Path) -> None:
    with Journal(tmp_path, START) as journal:
        assert journal.format == PER_SESSION  # what new runs write
        journal.open_run({"experiment": "x"})
        for i in range(3):
            journal.session(session(i))
        chain = journal.close_run()
    raw = (tmp_path / "audit.jsonl").read_bytes().splitlines()
    stored = (tmp_path / "sessions.jsonl").read_bytes().splitlines()
    lines = [json.loads(line) for line in raw]
    assert lines[0]["event"]["payload"] == {"experiment": "x", "audit_format": 2}
    assert [e["event"]["kind"] for e in (lines[0], lines[-1])] == ["run.open", "run.close"]
    assert [e["event"]["seq"] for e in (lines[0], lines[-1])] == [0, 1]
    # Worked by hand: a session line's link is sha256(prev || "session:" || the sessions.jsonl line).
    prev = lines[0]["hash"]
    for i, line in enumerate(raw[1:-1]):
        # The stored line is the chained session, then its timings (never chained: they vary by run).
        chained = stored[i][: stored[i].rindex(b',"timings":')] + b"}"
        assert json.loads(chained) == {k: v for k, v in json.loads(stored[i]).items() if k != "timings"}
        digest = hashlib.sha256(prev.encode() + b"session:" + chained).hexdigest()
        assert line == b'{"hash":"%s","prev":"%s","seq":%d,"session":%s}' % (
            digest.encode(),
            prev.encode(),
            i + 1,
            chained,
        )
        prev = digest
    assert lines[0]["prev"] == GENESIS and lines[-1]["prev"] == prev
    assert chain.events == len(lines) == 3 + 2
    assert verify_audit_log(tmp_path / "audit.jsonl") == chain
    assert (chain.opened, chain.closed) == (3, 3)


def test_format_2_roots_do_not_depend_on_timings(tmp_path: Path) -> None:
    """The same sessions timed differently (as two runs of one spec and seed are) give one root."""
    roots = []
    for run, seconds in ((tmp_path / "a", 0.01), (tmp_path / "b", 9.5)):
        run.mkdir()
        with Journal(run, START) as journal:
            journal.open_run({"experiment": "x"})
            for i in range(3):
                record = session(i)
                record.timings["pilot_s"] = seconds
                journal.session(record)
            roots.append(journal.close_run().root)
        assert json.loads((run / "sessions.jsonl").read_text().splitlines()[0])["timings"] == {
            "pilot_s": seconds
        }
    assert roots[0] == roots[1]


def test_personal_data_is_redacted_before_either_file_is_written(tmp_path: Path, audit_format: int) -> None:
    with Journal(tmp_path, START) as journal:
        journal.open_run({"experiment": "x"})
        stored = journal.session(session(0, note="écrire à jean.dupont@example.fr"))
        journal.close_run()
    assert stored.events[1].payload["note"] == "écrire à [EMAIL]"
    for name in ("audit.jsonl", "sessions.jsonl"):
        text = (tmp_path / name).read_text()
        assert "jean.dupont" not in text and "[EMAIL]" in text


def test_chain_and_sessions_reach_the_disk_in_the_same_flush(tmp_path: Path, audit_format: int) -> None:
    journal = Journal(tmp_path, START)
    journal.open_run({"experiment": "x"})
    assert len(entries(tmp_path / "audit.jsonl")) == 1  # the run is opened on disk at once
    journal.session(session(0))
    journal.session(session(1))
    # Held in memory until the next flush: neither file is ahead of the other.
    assert len(entries(tmp_path / "audit.jsonl")) == 1
    assert (tmp_path / "sessions.jsonl").read_text() == ""
    journal.flush()
    closed = session_ids(tmp_path / "audit.jsonl")
    stored = [
        json.loads(line)["session_id"] for line in (tmp_path / "sessions.jsonl").read_text().splitlines()
    ]
    assert closed == stored == ["s000000", "s000001"]
    journal.close()
