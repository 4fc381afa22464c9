"""The run's journal: the hash-chained audit log and `sessions.jsonl`, written through one API.

Every event goes through redaction before a byte is written, and every event civiclab adds itself
(`run.open`, `session.open`, `session.close`, `run.close`) gets its `seq` from one counter: they
form the run's own sequence 0, 1, 2, … (a pilot's events keep the numbers the pilot gave them,
0…n-1 within their session). New runs write the audit log in format 2 (`civiclab.evidence.audit`): a
session is one line, the same bytes as its line in `sessions.jsonl`, serialised and hashed once;
`run.open` names the format, and a resumed run goes on in the format it started with. A session's line in `sessions.jsonl` and its events in the audit log are
flushed in the same step, so after a crash or a kill the two files hold the same sessions; each flush
that ends on a session boundary appends a MAC'd checkpoint of both (`civiclab.run.journal_mac`).
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from civiclab.evidence import audit as audit_log
from civiclab.evidence.audit import PER_EVENT, PER_SESSION, AuditSummary, AuditWriter
from civiclab.privacy.redaction import redact, redact_or_same
from civiclab.records import SessionRecord, canonical_bytes
from civiclab.store.schema import AUDIT_FILE, SESSIONS_FILE

if TYPE_CHECKING:
    from civiclab.run.journal_mac import JournalMac
    from civiclab.run.resume import Recovery

REDACTED_FIELDS = ("data", "steps", "error")
TIMINGS_KEY = b',"timings":'  # format 2: what follows the chained session in its sessions.jsonl line
FLUSH_EVERY_SESSIONS = 1000
FLUSH_EVERY_S = 1.0  # what a crash or a kill may cost: at most a second of sessions


def record_dict(record: SessionRecord) -> dict[str, Any]:
    """A record as plain JSON-ready data: `model_dump(mode="json")` at a tenth of the cost.

    Records and events hold only JSON values (pilots build them from typed arguments), so their
    fields are copied directly; `canonical_json` stringifies anything else it meets.
    """
    out = dict(record.__dict__)
    out["events"] = [dict(e.__dict__) for e in record.events]
    return out


def redact_record(record: dict[str, Any]) -> bool:
    """Redact, in place, the parts of a dumped record that may hold what a citizen wrote or said.

    Ids, timestamps, kinds and actors are written by civiclab and pilots, never by citizens, so
    only event payloads, pilot data, steps and errors are scanned. Returns whether anything changed.
    """
    changed = False
    for event in record["events"]:
        payload = event.get("payload")
        if payload:
            clean = redact(payload)
            if clean != payload:
                event["payload"] = clean
                changed = True
    for name in REDACTED_FIELDS:
        value = record.get(name)
        if value:
            clean = redact(value)
            if clean != value:
                record[name] = clean
                changed = True
    return changed


def _redacted_dict(record: SessionRecord) -> tuple[dict[str, Any], bool]:
    """`record_dict` then `redact_record`, without copying what redaction leaves unchanged.

    The journal only reads the result (to serialise it), so an event whose payload holds nothing
    to redact is its model's own field dict, not a copy; returns the dict and whether anything changed.
    """
    out = dict(record.__dict__)
    events = []
    changed = False
    for model in record.events:
        event = model.__dict__
        payload = event["payload"]
        if payload:
            clean = redact_or_same(payload)
            if clean is not payload:
                event = {**event, "payload": clean}
                changed = True
        events.append(event)
    out["events"] = events
    for name in REDACTED_FIELDS:
        value = out.get(name)
        if value:
            clean = redact_or_same(value)
            if clean is not value and clean != value:
                out[name] = clean
                changed = True
    return out, changed


def redacted(record: SessionRecord) -> SessionRecord:
    """The record as the journal stores it (the same object when redaction changed nothing)."""
    dumped = record.model_dump(mode="json")
    return SessionRecord.model_validate(dumped) if redact_record(dumped) else record


def utc_stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


class Journal:
    """Opens a run's audit chain and sessions file in `folder`; `session()` appends one session to both.

    Args:
        folder: the run's artifact folder (`audit.jsonl` and `sessions.jsonl` are created there).
        clock: the run's own clock (the population start), so the same seed gives the same root.
        resume: what recovery kept of a killed run, to append to.
        mac: where each flush's checkpoint goes (None: the files are not vouched for, as in benches).
    """

    def __init__(
        self, folder: Path, clock: datetime, *, resume: Recovery | None = None, mac: JournalMac | None = None
    ) -> None:
        self.ts = utc_stamp(clock)
        self.mac = mac
        self._held_sessions: list[bytes] = []
        self._written = 0
        self._last_flush = time.perf_counter()
        if resume is None:
            self.audit = AuditWriter(folder / AUDIT_FILE, held=True)
            self._sessions: IO[bytes] = (folder / SESSIONS_FILE).open("wb")
            self._run_seq = 0  # the run's own events: run.open, session.open/close, run.close
            self.opened = self.closed = self.failed = 0
            self.format = audit_log.WRITTEN_FORMAT
        else:  # a killed run, cut back by `recover` to the sessions both files hold whole
            verified = (resume.events, resume.root)
            self.audit = AuditWriter(folder / AUDIT_FILE, resume=True, held=True, verified=verified)
            self._sessions = (folder / SESSIONS_FILE).open("ab")
            self._run_seq = resume.next_run_seq
            self.opened = self.closed = resume.sessions
            self.failed = resume.failed
            self.format = resume.audit_format
        self._boundary = self.audit.seq  # audit lines at the end of the last whole session (or run event)

    def _own(self, kind: str, session_id: str, ts: str, payload: dict[str, Any]) -> None:
        # Payloads here come from civiclab itself or from the already redacted record: hashing
        # them through redaction again could only alter digests (a sha256 can look like a phone).
        self.audit.append(
            {
                "session_id": session_id,
                "seq": self._run_seq,
                "ts": ts,
                "kind": kind,
                "actor": "civiclab",
                "payload": payload,
            }
        )
        self._run_seq += 1

    def open_run(self, payload: dict[str, Any]) -> None:
        if self.format != PER_EVENT:  # format 1 never named itself: its runs' roots stay what they were
            payload = {**payload, "audit_format": self.format}
        self._own("run.open", "", self.ts, payload)
        self._boundary = self.audit.seq
        self.flush()

    def resume_run(self, payload: dict[str, Any]) -> None:
        """Record in the audit log that the run continues here after a crash, with what was kept."""
        self._own("run.resume", "", self.ts, payload)
        self._boundary = self.audit.seq
        self.flush()

    def session(self, record: SessionRecord) -> SessionRecord:
        """Redact one session, append it to the audit log and the sessions file; return the stored record."""
        clean, changed = _redacted_dict(record)
        if self.format == PER_SESSION:
            # Timings are wall-clock measures, different at each run: the chain leaves them out (as
            # format 1 did), so that a spec and seed give one root; the stored line adds them after it.
            timings = clean.pop("timings", None) or {}
            body = canonical_bytes(clean)
            clean["timings"] = timings
            self.audit.append_session(body)
            self._held_sessions.append(body[:-1] + TIMINGS_KEY + canonical_bytes(timings) + b"}\n")
            return self._closed(record, clean, changed)
        events = clean["events"]
        first_ts = events[0]["ts"] if events else ""
        last_ts = events[-1]["ts"] if events else first_ts
        self._own("session.open", record.session_id, first_ts, {"persona": clean["persona_id"]})
        append = self.audit.append
        for event in events:
            append(event)
        self._own(
            "session.close",
            record.session_id,
            last_ts,
            {"outcome": record.outcome, "error": clean.get("error")},
        )
        self._held_sessions.append(canonical_bytes(clean) + b"\n")
        return self._closed(record, clean, changed)

    def _closed(self, record: SessionRecord, clean: dict[str, Any], changed: bool) -> SessionRecord:
        self.opened += 1
        self.closed += 1
        self.failed += record.outcome == "failed"
        self._boundary = self.audit.seq  # last: an interrupted session is never a boundary
        self._written += 1
        now = time.perf_counter()
        if self._written % FLUSH_EVERY_SESSIONS == 0 or now - self._last_flush > FLUSH_EVERY_S:
            self.flush()
        return SessionRecord.model_validate(clean) if changed else record

    def flush(self) -> None:
        """Both files reach the OS together: the audit log first, then the sessions it covers.

        Nothing is written between two flushes (both files are held in memory), so after a kill
        the sessions file never holds a session the audit log lacks; at worst, a kill between the two
        writes leaves the audit log ahead by the sessions of this one flush.
        """
        self.audit.flush()
        if not self._sessions.closed:
            held = b"".join(self._held_sessions)
            self._sessions.write(held)
            self._sessions.flush()
            self._held_sessions.clear()
            if self.mac is not None:
                self.mac.sessions_written(held)
                if self.audit.seq == self._boundary:
                    self.mac.checkpoint(self.audit.seq, self.audit.root, self._sessions.tell())
        self._held_sessions.clear()
        self._last_flush = time.perf_counter()

    def close_run(self) -> AuditSummary:
        """Append `run.close`, close both files and return what the audit log holds.

        A closed run cannot be resumed: its journal's checkpoints are discarded.
        """
        self._own("run.close", "", self.ts, {"sessions": self.opened, "failed": self.failed})
        self.close()
        if self.mac is not None:
            self.mac.discard()
        return AuditSummary(
            events=self.audit.seq, root=self.audit.root, opened=self.opened, closed=self.closed
        )

    def close(self) -> None:
        """Flush and close both files (idempotent); what was appended stays readable."""
        self.flush()
        self.audit.close()
        self._sessions.close()
        if self.mac is not None:
            self.mac.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
