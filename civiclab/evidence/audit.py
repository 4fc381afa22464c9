"""The hash-chained audit log: `hash = sha256(prev || canonical_json(event))`, one JSON line each.

Each line is `{"event":<canonical event>,"hash":"…","prev":"…","seq":n}` (the canonical JSON of the
whole entry, keys sorted): the writer serialises each event once, for the hash and the line alike.

Two formats, told apart by the first line (`run.open`, whose payload names `audit_format`; absent: 1):
- **1** (every run made before the format had a number): every event of a session is a line of its own,
  between `session.open` and `session.close` events, and the session is written again, whole, in
  `sessions.jsonl`.
- **2**: a session is ONE line, `{"hash","prev","seq","session":<canonical session>}` with
  `hash = sha256(prev || "session:" || canonical_json(session))`, the session being the stored record
  without its `timings` (wall-clock measures, never chained, as in format 1), and the session's line in
  `sessions.jsonl` is the same bytes with `,"timings":{…}` added before the last brace: each session is
  serialised and hashed once, not 27 times and then serialised again. Run events (`run.open`, `run.resume`, `run.close`) and reviews keep format 1's line.
  The chain still names the line, hence the session, that was altered; the root commits to every session.
Readers re-serialise the parsed event rather than hash the bytes sliced from the line: measured,
orjson re-serialises a ~200-byte event faster than Python can check where the slice ends
(1.3 µs against 1.5 µs a line), and a re-serialised event is the one the checks read, whatever
the line's layout (no duplicate key can show a reader one event and the hash another).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson

from civiclab.errors import AuditError
from civiclab.records import CANONICAL_OPTIONS, AuditSummary, canonical_bytes

GENESIS = "0" * 64
PER_EVENT, PER_SESSION = 1, 2
WRITTEN_FORMAT = PER_SESSION
"""The format new runs are written in (tests set it to write format 1, as runs made before it were)."""
SESSION_DOMAIN = b"session:"
"""Prefixed to a session's bytes before hashing: no session line hashes like an event line."""


def link_hash(prev: str, event: dict[str, Any]) -> str:
    return hashlib.sha256(prev.encode("utf-8") + canonical_bytes(event)).hexdigest()


def session_hash(prev: str, session: dict[str, Any]) -> str:
    """The link of a format-2 session line."""
    return hashlib.sha256(prev.encode("utf-8") + SESSION_DOMAIN + canonical_bytes(session)).hexdigest()


def entry_hash(prev: str, entry: dict[str, Any]) -> str:
    """The link a parsed line (an event line or a session line) must carry after `prev`."""
    if "session" in entry:
        return session_hash(prev, entry["session"])
    return link_hash(prev, entry["event"])


def declared_format(entry: dict[str, Any]) -> int:
    """The format a log declares in its first line (format 1 when it does not say)."""
    event = entry.get("event")
    if type(event) is dict and event.get("kind") == "run.open":
        payload = event.get("payload")
        if type(payload) is dict and payload.get("audit_format") == PER_SESSION:
            return PER_SESSION
    return PER_EVENT


def links(prev: str, entry: dict[str, Any]) -> bool:
    """Whether `entry["hash"]` is `link_hash(prev, entry["event"])`; the readers' per-line check,
    with `canonical_bytes` inlined (two calls fewer on each of 25 lines a session)."""
    if "session" in entry:
        return session_hash(prev, entry["session"]) == entry["hash"]
    try:
        body = orjson.dumps(entry["event"], option=CANONICAL_OPTIONS, default=str)
    except (TypeError, orjson.JSONEncodeError):
        body = canonical_bytes(entry["event"])
    return hashlib.sha256(prev.encode("utf-8") + body).hexdigest() == entry["hash"]


def link_problem(entry: dict[str, Any], seq: int, prev: str) -> str | None:
    """What is wrong with one parsed line of an audit log expected at `seq` after `prev`, or None."""
    if entry["seq"] != seq:
        return f"sequence number {entry['seq']} out of order"
    if entry["prev"] != prev:
        return "link to the previous line is broken"
    if not links(prev, entry):
        return "hash does not match the event"
    return None


class AuditWriter:
    """Appends events to `audit.jsonl`; a crash leaves a readable prefix.

    With `held=True`, lines are kept in memory until `flush()` writes them in one piece, so that the
    caller decides exactly which events reach the disk together (the run's journal flushes the audit log
    and the sessions file in the same step).
    """

    def __init__(
        self, path: Path, *, resume: bool = False, held: bool = False, verified: tuple[int, str] | None = None
    ) -> None:
        """`resume` appends to an existing audit log, verified here unless the caller already did and
        passes what it found as `verified` (events, root)."""
        self.path = path
        self.seq = 0
        self.root = GENESIS
        self._held: list[bytes] | None = [] if held else None
        if resume and verified is not None:
            self.seq, self.root = verified
        elif resume and path.exists():
            summary = verify_audit_log(path)
            self.seq, self.root = summary.events, summary.root
        self._prev = self.root.encode("ascii")
        self._fh: IO[bytes] = path.open("ab" if resume else "wb")

    def append(self, event: dict[str, Any]) -> str:
        try:  # canonical_bytes, inlined: this runs for every event of every session
            body = orjson.dumps(event, option=CANONICAL_OPTIONS, default=str)
        except (TypeError, orjson.JSONEncodeError):
            body = canonical_bytes(event)
        prev = self._prev
        digest = hashlib.sha256(prev + body).hexdigest()
        hashed = digest.encode("ascii")
        # The same bytes as canonical_json of the whole entry (keys sorted: event, hash, prev, seq),
        # without serialising the event twice.
        line = b'{"event":%b,"hash":"%b","prev":"%b","seq":%d}\n' % (body, hashed, prev, self.seq)
        if self._held is not None:
            self._held.append(line)
        else:
            self._fh.write(line)
        self.root = digest
        self._prev = hashed
        self.seq += 1
        return digest

    def append_session(self, body: bytes) -> str:
        """Append one format-2 session line; `body` is the session's canonical JSON (as in sessions.jsonl)."""
        prev = self._prev
        digest = hashlib.sha256(prev + SESSION_DOMAIN + body).hexdigest()
        hashed = digest.encode("ascii")
        line = b'{"hash":"%b","prev":"%b","seq":%d,"session":%b}\n' % (hashed, prev, self.seq, body)
        if self._held is not None:
            self._held.append(line)
        else:
            self._fh.write(line)
        self.root = digest
        self._prev = hashed
        self.seq += 1
        return digest

    def extend(self, events: Iterable[dict[str, Any]]) -> None:
        for event in events:
            self.append(event)
        self._fh.flush()

    def flush(self) -> None:
        if self._fh.closed:
            return
        if self._held:
            self._fh.write(b"".join(self._held))
            self._held.clear()
        self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            self.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()

    def __enter__(self) -> AuditWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_audit_log(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                yield orjson.loads(line)
            except orjson.JSONDecodeError:
                raise AuditError(f"{path.name}: line {number}: not valid JSON") from None


def parse_entry(line: bytes) -> dict[str, Any] | str:
    """One line of an audit log as its entry, or what is wrong with it."""
    try:
        entry = orjson.loads(line)
    except orjson.JSONDecodeError:
        return "not valid JSON"
    if type(entry) is not dict or (entry.keys() != _ENTRY_KEYS and entry.keys() != _SESSION_KEYS):
        return "not an audit entry"
    if "session" in entry and type(entry["session"]) is not dict:
        return "not an audit entry"
    return entry


class AuditCheck:
    """Recomputes an audit log line by line, as it is read (all at once, or while it is being written)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.prev = GENESIS
        self.count = self.opened = self.closed = 0
        self.format = PER_EVENT

    def feed(self, line: bytes) -> None:
        """Check the next line; raise `AuditError` naming it when it does not hold."""
        number = self.count + 1
        entry = parse_entry(line)
        if isinstance(entry, str):
            raise AuditError(f"{self.name}: line {number}: {entry}")
        if number == 1:
            self.format = declared_format(entry)
        if "session" in entry and self.format != PER_SESSION:
            raise AuditError(f"{self.name}: line {number}: a session line in a format-1 audit log")
        problem = link_problem(entry, self.count, self.prev)
        if problem is not None:
            raise AuditError(f"{self.name}: line {number}: {problem}")
        if "session" in entry:
            self.opened += 1
            self.closed += 1
            self.prev = entry["hash"]
            self.count += 1
            return
        event = entry["event"]
        kind = event.get("kind") if type(event) is dict else None
        if kind == "session.open":
            self.opened += 1
        elif kind == "session.close":
            self.closed += 1
        self.prev = entry["hash"]
        self.count += 1

    def summary(self) -> AuditSummary:
        return AuditSummary(events=self.count, root=self.prev, opened=self.opened, closed=self.closed)


def verify_audit_log(path: Path) -> AuditSummary:
    """Recompute every link; raise `AuditError` naming the first line that does not match."""
    check = AuditCheck(path.name)
    with path.open("rb") as fh:
        for line in fh:
            check.feed(line)
    return check.summary()


_ENTRY_KEYS = {"seq", "prev", "hash", "event"}
_SESSION_KEYS = {"seq", "prev", "hash", "session"}
