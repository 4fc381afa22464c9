"""One streaming pass over a run's audit chain: links, completeness, and sessions re-derived.

The audit log is the primary record; `sessions.jsonl` is derived from it. So instead of trusting two
copies of the same claim, every session of `sessions.jsonl` is rebuilt from the audit log's
`session.open` … `session.close` events and compared, line by line.

In a format-2 audit log (`civiclab.evidence.audit`) a session is one line holding the very bytes of its
line in `sessions.jsonl` but its timings: the comparison is of the two whole sessions.

Two passes give the same answer. The byte pass runs first: it hashes each line's event bytes as they
stand, checks that the line is exactly what the writer writes (`{"event":E,"hash":H,"prev":P,"seq":N}`,
canonical), and proves each event inside a session canonical and equal to the stored session's event
by serialising the stored event (already parsed from `sessions.jsonl`) and comparing bytes, so the
≈23 events of each session are never parsed a second time; the few other lines are parsed and proved
canonical by re-serialising. It only vouches: on anything unexpected it gives up, and the full pass
(which parses every line) decides and names the first line that does not hold.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from civiclab.evidence.audit import (
    GENESIS,
    PER_EVENT,
    PER_SESSION,
    SESSION_DOMAIN,
    declared_format,
    entry_hash,
    link_problem,
    parse_entry,
)
from civiclab.evidence.review_record import REVIEW_EVENT
from civiclab.plugins.gctune import gc_tuned
from civiclab.records import CANONICAL_OPTIONS


class AuditProblem(Exception):
    """The first thing in the audit log or the sessions file that does not hold."""


KEEP_AT_MOST = 100_000
"""Sessions `check_audit_log` keeps parsed for the evaluators' re-run. Past this, it keeps none and the
re-run reads `sessions.jsonl` in a streaming pass: verifying a million sessions holds no session list."""


@dataclass
class AuditFindings:
    """What the pass found: how far the audit log is valid, and what it holds."""

    valid_events: int = 0
    events: int = 0
    root: str = GENESIS
    run_events: int = 0
    run_root: str = GENESIS
    opened: int = 0
    closed: int = 0
    closed_run: bool = False
    reviews: list[dict[str, Any]] = field(default_factory=list)


def valid_prefix(path: Path) -> AuditFindings:
    """How many lines of a (possibly killed) audit log link correctly from the start."""
    facts = AuditFindings()
    prev = GENESIS
    with path.open("rb") as fh:
        for number, line in enumerate(fh):
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError:
                break
            if type(entry) is not dict or ("event" not in entry and type(entry.get("session")) is not dict):
                break
            if entry_hash(prev, entry) != entry.get("hash"):
                break
            if entry.get("seq") != number or entry.get("prev") != prev:
                break
            prev = entry["hash"]
            facts.valid_events += 1
    facts.root = prev
    return facts


def _session_from_audit(
    opening: dict[str, Any], events: list[dict[str, Any]], closing: dict[str, Any]
) -> dict[str, Any]:
    payload = closing.get("payload") or {}
    return {
        "session_id": opening.get("session_id"),
        "persona_id": (opening.get("payload") or {}).get("persona"),
        "events": events,
        "outcome": payload.get("outcome"),
        "error": payload.get("error"),
    }


def check_audit_log(
    audit_path: Path, sessions_path: Path | None, run_events: int, keep: list[dict[str, Any]] | None = None
) -> AuditFindings:
    """Verify links, `run.open` first, `run.close` ending the run's part, sessions opened and
    closed in pairs, only reviews after the run, and (if given) `sessions.jsonl` against the audit log.

    Args:
        keep: when given, the parsed lines of `sessions.jsonl` are appended to it (the evaluators'
            re-run reads them instead of parsing the file again).

    Raises:
        AuditProblem: naming the first line that does not hold.
    """
    with gc_tuned():  # `keep` grows to every session: the default thresholds rescan it all the pass
        if sessions_path is not None:
            try:
                return _byte_pass(audit_path, sessions_path, run_events, keep)
            except _Undecided:
                if keep is not None:
                    keep.clear()
        return _check_audit_log(audit_path, sessions_path, run_events, keep)


class _Undecided(Exception):
    """The byte pass cannot vouch for a line: the full pass decides, and names what does not hold."""


_LINE_HEAD = b'{"event":'
_SESSION_HEAD = b'{"hash":"'
_TIMINGS_KEY = b',"timings":'
_SESSION_LINE = b'{"hash":"%b","prev":"%b","seq":%d,"session":%b}\n'
_LINE_TAIL = b',"hash":"%b","prev":"%b","seq":%d}\n'
_TAIL_FIXED = len(_LINE_TAIL % (b"0" * 64, b"0" * 64, 0)) - 1  # without the sequence number's digits
_BOUNDARIES = frozenset({"session.open", "session.close", "run.close", REVIEW_EVENT})


def _byte_pass(
    audit_path: Path, sessions_path: Path, run_events: int, keep: list[dict[str, Any]] | None
) -> AuditFindings:
    """What `_check_audit_log` finds, when everything holds; `_Undecided` at the first doubt."""
    facts = AuditFindings()
    prev = GENESIS.encode("ascii")
    sha256, dumps = hashlib.sha256, orjson.dumps
    opening: dict[str, Any] | None = None
    stored: dict[str, Any] = {}
    expected: list[Any] = []  # the stored session's events still to be found in the audit log
    at, number = 0, -1
    audit_format = PER_EVENT
    with audit_path.open("rb") as fh, sessions_path.open("rb") as sessions_fh:
        for number, line in enumerate(fh):
            if line.startswith(_SESSION_HEAD):  # format 2: the stored session's bytes, hashed as they stand
                if audit_format != PER_SESSION or number >= run_events:
                    raise _Undecided
                stored, body = _stored_session(sessions_fh)
                digest = sha256(prev + SESSION_DOMAIN + body).hexdigest().encode("ascii")
                if line != _SESSION_LINE % (digest, prev, number, body):
                    raise _Undecided
                prev = digest
                facts.opened += 1
                facts.closed += 1
                if keep is not None:
                    if len(keep) < KEEP_AT_MOST:
                        keep.append(stored)
                    else:
                        keep.clear()
                        keep = None
                continue
            cut = len(line) - _TAIL_FIXED - len(str(number))
            body = line[9:cut]
            digest = sha256(prev + body).hexdigest().encode("ascii")
            if line[cut:] != _LINE_TAIL % (digest, prev, number) or not line.startswith(_LINE_HEAD):
                raise _Undecided
            prev = digest
            if number == run_events - 1:
                facts.run_root, facts.run_events = digest.decode("ascii"), run_events
            if at < len(expected):  # an event inside a session: the stored one, byte for byte
                event = expected[at]
                at += 1
                if type(event) is not dict or event.get("kind") in _BOUNDARIES or number >= run_events:
                    raise _Undecided
                if dumps(event, option=CANONICAL_OPTIONS) != body:
                    raise _Undecided
                continue
            event = _canonical_event(body)
            kind = event.get("kind")
            if number == 0:
                audit_format = declared_format({"event": event})
            if audit_format == PER_SESSION and kind in ("session.open", "session.close"):
                raise _Undecided
            if number >= run_events:
                if kind != REVIEW_EVENT:
                    raise _Undecided
                facts.reviews.append(orjson.loads(line))
            elif number == 0 and kind != "run.open":
                raise _Undecided
            elif kind == "session.open":
                if opening is not None:
                    raise _Undecided
                opening, stored = event, _next_session(sessions_fh)
                expected, at = stored["events"], 0
                facts.opened += 1
            elif kind == "session.close":
                if opening is None or opening.get("session_id") != event.get("session_id"):
                    raise _Undecided
                derived = _session_from_audit(opening, expected, event)
                if any(stored.get(key) != value for key, value in derived.items()):
                    raise _Undecided
                facts.closed += 1
                if keep is not None:
                    if len(keep) < KEEP_AT_MOST:
                        keep.append(stored)
                    else:
                        keep.clear()
                        keep = None
                opening, expected, at = None, [], 0
            elif kind == "run.close":
                if number != run_events - 1 or opening is not None:
                    raise _Undecided
                facts.closed_run = True
            elif opening is not None:  # an event the stored session does not hold
                raise _Undecided
        if not facts.closed_run or sessions_fh.readline().strip():
            raise _Undecided
    facts.valid_events = facts.events = number + 1 if facts.closed_run else 0
    facts.root = prev.decode("ascii")
    return facts


def _canonical_event(body: bytes) -> dict[str, Any]:
    """The event of a line, parsed, when its bytes are its canonical form (what was hashed)."""
    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _Undecided from None
    if type(event) is not dict or orjson.dumps(event, option=CANONICAL_OPTIONS) != body:
        raise _Undecided
    return event


def _stored_session(fh: Any) -> tuple[dict[str, Any], bytes]:
    """The next line of sessions.jsonl, parsed, and the bytes of its chained part (all but its timings,
    written last), when they are that part's canonical form and the rest is exactly its timings."""
    line = fh.readline()
    cut = line.rfind(_TIMINGS_KEY)
    if cut < 0 or not line.endswith(b"}\n"):
        raise _Undecided
    body = line[:cut] + b"}"
    try:
        stored = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise _Undecided from None
    if type(stored) is not dict or type(stored.get("events")) is not list or "timings" not in stored:
        raise _Undecided
    chained = {key: value for key, value in stored.items() if key != "timings"}
    if orjson.dumps(chained, option=CANONICAL_OPTIONS) != body:
        raise _Undecided
    if line[cut:] != _TIMINGS_KEY + orjson.dumps(stored["timings"], option=CANONICAL_OPTIONS) + b"}\n":
        raise _Undecided
    return stored, body


def _next_session(fh: Any) -> dict[str, Any]:
    try:
        stored = orjson.loads(fh.readline())
    except orjson.JSONDecodeError:
        raise _Undecided from None
    if type(stored) is not dict or type(stored.get("events")) is not list:
        raise _Undecided
    return stored


def _check_audit_log(
    audit_path: Path, sessions_path: Path | None, run_events: int, keep: list[dict[str, Any]] | None
) -> AuditFindings:
    facts = AuditFindings()
    prev = GENESIS
    open_session: dict[str, Any] | None = None
    events: list[dict[str, Any]] = []
    sessions_fh = sessions_path.open("rb") if sessions_path is not None else None
    line_of_session = 0
    audit_format = PER_EVENT
    try:
        with audit_path.open("rb") as fh:
            for number, line in enumerate(fh):
                entry = _parse(line, number)
                if number == 0:
                    audit_format = declared_format(entry)
                if "session" in entry and audit_format != PER_SESSION:
                    raise AuditProblem(f"{_at(number)}: a session line in a format-1 audit log")
                problem = link_problem(entry, number, prev)
                if problem is not None:
                    raise AuditProblem(f"{_at(number)}: {problem}")
                prev = entry["hash"]
                facts.valid_events = facts.events = number + 1
                if "session" in entry:
                    session = entry["session"]
                    if number >= run_events:
                        raise AuditProblem(f"{_at(number)}: a session after the run closed")
                    facts.opened += 1
                    facts.closed += 1
                    line_of_session += 1
                    if sessions_fh is not None:
                        stored = _compare_session(sessions_fh, line_of_session, session, whole=True)
                        if keep is not None:
                            if len(keep) < KEEP_AT_MOST:
                                keep.append(stored)
                            else:
                                keep.clear()
                                keep = None
                    continue
                event = entry["event"]
                kind = event.get("kind") if isinstance(event, dict) else None
                if audit_format == PER_SESSION and kind in ("session.open", "session.close"):
                    raise AuditProblem(f"{_at(number)}: a {kind} event in a format-2 audit log")
                if number >= run_events:
                    if kind != REVIEW_EVENT:
                        raise AuditProblem(f"{_at(number)}: a {kind!r} event after the run closed")
                    facts.reviews.append(entry)
                    continue
                if number == 0 and kind != "run.open":
                    raise AuditProblem(f"{_at(number)}: the audit log does not start with run.open")
                if kind == "session.open":
                    if open_session is not None:
                        raise AuditProblem(
                            f"{_at(number)}: session {event.get('session_id')} opened inside another"
                        )
                    open_session, events = event, []
                    facts.opened += 1
                elif kind == "session.close":
                    if open_session is None or open_session.get("session_id") != event.get("session_id"):
                        raise AuditProblem(
                            f"{_at(number)}: session {event.get('session_id')} closed but never opened"
                        )
                    facts.closed += 1
                    line_of_session += 1
                    if sessions_fh is not None:
                        stored = _compare_session(
                            sessions_fh, line_of_session, _session_from_audit(open_session, events, event)
                        )
                        if keep is not None:
                            if len(keep) < KEEP_AT_MOST:
                                keep.append(stored)
                            else:  # too many to hold: the re-run will read sessions.jsonl again
                                keep.clear()
                                keep = None
                    open_session = None
                elif kind == "run.close":
                    if number != run_events - 1:
                        raise AuditProblem(
                            f"{_at(number)}: run.close is not the last event of the signed run"
                        )
                    if open_session is not None:
                        raise AuditProblem(
                            f"{_at(number)}: run closed with session {open_session.get('session_id')} open"
                        )
                    facts.closed_run = True
                elif open_session is not None:
                    events.append(event)
                if number == run_events - 1:
                    facts.run_root, facts.run_events = prev, run_events
        if not facts.closed_run:
            raise AuditProblem(
                f"audit.jsonl: no run.close: the audit log ends at event {facts.events}, "
                f"the signed run closed at event {run_events}"
            )
        if sessions_fh is not None and sessions_fh.readline().strip():
            raise AuditProblem(
                f"sessions.jsonl: line {line_of_session + 1}: a session the audit chain does not hold"
            )
    finally:
        if sessions_fh is not None:
            sessions_fh.close()
    facts.root = prev
    return facts


def _at(number: int) -> str:
    # Built only for a problem: formatting it for each of 250,000 lines costs more than the check.
    return f"audit.jsonl: line {number + 1}"


def _parse(line: bytes, number: int) -> dict[str, Any]:
    entry = parse_entry(line)
    if isinstance(entry, str):
        raise AuditProblem(f"{_at(number)}: {entry}")
    return entry


def _compare_session(fh: Any, number: int, derived: dict[str, Any], whole: bool = False) -> dict[str, Any]:
    """The next stored session, when it says what the audit log says (all it says, when `whole`)."""
    line = fh.readline()
    if not line.strip():
        raise AuditProblem(
            f"sessions.jsonl: line {number}: missing; the audit log closes session {derived.get('session_id')}"
        )
    try:
        stored = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise AuditProblem(f"sessions.jsonl: line {number}: not valid JSON") from None
    if type(stored) is not dict:
        raise AuditProblem(f"sessions.jsonl: line {number}: not a session")
    # In format 2 the chain holds every field of the stored session but its timings (never chained).
    keys = sorted(set(derived) | (set(stored) - {"timings"})) if whole else list(derived)
    for key in keys:
        if stored.get(key) != derived.get(key):
            raise AuditProblem(
                f"sessions.jsonl: line {number} ({derived.get('session_id')}): {key} differs from the audit chain"
            )
    return stored  # type: ignore[no-any-return]
