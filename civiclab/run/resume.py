"""Finishing a run that was killed: what of it can be kept, and the checks before it continues.

After a crash `audit.jsonl` and `sessions.jsonl` may each end with a torn line, and one of them may
hold a session the other does not (they are flushed together, but a kill can land between two
writes). Recovery verifies the audit log from the genesis, then keeps the sessions up to the last
checkpoint of the journal's MAC (`civiclab.run.journal_mac`) that both files hold whole: the audit log
is cut after that checkpoint's last line, the sessions file after its last session. Both files must be,
up to every checkpoint, what the run wrote; if not, the resume is refused with one line naming the file
and the line. The run continues from the next plan, in plan order (for a replayable pilot, after the
kept sessions were re-derived from their plans: `civiclab.run.recording`).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from civiclab.errors import AuditError, SpecError
from civiclab.evidence.audit import GENESIS, PER_EVENT, PER_SESSION, declared_format, entry_hash
from civiclab.run.journal_mac import Checkpoint, SessionsDigest, keep_checkpoints, read_checkpoints
from civiclab.store.schema import AUDIT_FILE, RESUMABLE, RESUMED_TAG, SESSIONS_FILE, SPEC_SHA256_TAG
from civiclab.store.stored_run import StoredRun

if TYPE_CHECKING:
    from civiclab.plugins.experiment import Experiment
    from civiclab.store.tracker import Tracker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recovery:
    """What a killed run keeps: its first `sessions` sessions and the audit log up to them."""

    sessions: int
    failed: int
    events: int
    root: str
    next_run_seq: int
    dropped_events: int
    dropped_sessions: int
    digest: SessionsDigest = field(compare=False)
    """The kept sessions file's running sha256: the journal's next checkpoints go on from it."""
    audit_format: int = PER_EVENT
    """The audit log's format (`civiclab.evidence.audit`): the run goes on in the one it started with."""


def _complete_lines(path: Path, snapshots: set[int]) -> tuple[list[int], dict[int, Any]]:
    """Byte offsets of the end of every whole (newline-terminated, valid JSON) line of `path`, and the
    running sha256 of the file at each offset of `snapshots` that ends a whole line (0 included)."""
    ends: list[int] = []
    digest = hashlib.sha256()
    digests: dict[int, Any] = {0: digest.copy()} if 0 in snapshots else {}
    offset = 0
    with path.open("rb") as fh:
        for line in fh:
            if not line.endswith(b"\n"):
                break
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                break
            digest.update(line)
            offset += len(line)
            ends.append(offset)
            if offset in snapshots:
                digests[offset] = digest.copy()
    return ends, digests


@dataclass(frozen=True)
class _Mark:
    """A place the audit log may be cut: after `run.open`, a `session.close` or a `run.resume`."""

    end: int
    events: int
    root: str
    closed: int
    session_id: str
    next_run_seq: int


def _audit_marks(audit: Path) -> tuple[list[_Mark], int, int]:
    """Verify every whole line of the audit log; return where it may be cut, its whole lines and its format."""
    marks: list[_Mark] = []
    prev, offset, count, closed = GENESIS, 0, 0, 0
    audit_format, next_run_seq = PER_EVENT, 0
    with audit.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.endswith(b"\n"):
                break  # torn by the kill
            try:
                entry: dict[str, Any] = orjson.loads(line)
            except orjson.JSONDecodeError:
                break
            if entry.get("seq") != number - 1 or entry.get("prev") != prev:
                raise AuditError(f"{audit.name}: line {number}: link to the previous line is broken")
            if number == 1:
                audit_format = declared_format(entry)
            session = entry.get("session")
            if session is not None and audit_format != PER_SESSION:
                raise AuditError(f"{audit.name}: line {number}: a session line in a format-1 audit log")
            if entry_hash(prev, entry) != entry["hash"]:
                raise AuditError(f"{audit.name}: line {number}: hash does not match the event")
            prev, offset, count = entry["hash"], offset + len(line), count + 1
            if session is not None:  # format 2: a whole session, a place to cut
                closed += 1
                marks.append(_Mark(offset, count, prev, closed, session.get("session_id", ""), next_run_seq))
                continue
            kind = entry["event"].get("kind")
            if kind == "run.close":
                raise AuditError(f"{audit.name}: the run was closed; there is nothing to resume")
            if kind == "session.close":
                closed += 1
            if kind in ("run.open", "run.resume", "session.close"):
                event = entry["event"]
                # civiclab numbers its own events with one counter (run.open, session.open/close...)
                next_run_seq = event["seq"] + 1
                marks.append(_Mark(offset, count, prev, closed, event.get("session_id", ""), next_run_seq))
    return marks, count, audit_format


def recover(art_dir: Path, run_id: str) -> Recovery:
    """Cut `audit.jsonl` and `sessions.jsonl` back to the last checkpoint of the journal's MAC, after
    checking that what they hold up to every checkpoint is what the run wrote.

    A checkpoint is written after the lines it vouches for reached the files, so a kill never leaves
    a file shorter than the last one: a file that is (rewritten, cut, or not yet on disk when the
    machine lost power) is refused like one that differs.

    Raises:
        AuditError: the audit log is missing, has no `run.open`, a kept line does not recompute, the
            lab holds no MAC of this run's journal, or a file differs from what the MAC vouches for.
    """
    audit, sessions = art_dir / AUDIT_FILE, art_dir / SESSIONS_FILE
    if not audit.exists():
        raise AuditError(f"{audit}: missing, nothing to resume")
    marks, whole_events, audit_format = _audit_marks(audit)
    if not marks:
        raise AuditError(f"{audit.name}: no run.open event, nothing to resume")
    checkpoints, checkpoint_ends = read_checkpoints(run_id)
    if not checkpoints:
        raise AuditError(f"{audit.name}: the journal's MAC vouches for none of it, nothing to resume")
    offsets = {c.sessions_bytes for c in checkpoints}
    session_ends, digests = (
        _complete_lines(sessions, offsets) if sessions.exists() else ([], {0: hashlib.sha256()})
    )
    by_events = {m.events: m for m in marks if m.events <= whole_events}
    for point in checkpoints:
        _check(point, by_events.get(point.audit_events), session_ends, digests)
    point = checkpoints[-1]
    cut, keep = by_events[point.audit_events], point.sessions
    failed = 0
    if keep:
        with sessions.open("rb") as fh:
            for i, line in enumerate(fh):
                if i >= keep:
                    break
                row = orjson.loads(line)
                failed += row.get("outcome") == "failed"
                if i == keep - 1 and cut.session_id and row.get("session_id") != cut.session_id:
                    raise AuditError(
                        f"sessions.jsonl: line {keep} is {row.get('session_id')!r} but the audit log "
                        f"closed {cut.session_id!r} there"
                    )
    with audit.open("r+b") as fh:
        fh.truncate(cut.end)
    if sessions.exists():
        with sessions.open("r+b") as fh:
            fh.truncate(point.sessions_bytes)
    keep_checkpoints(run_id, checkpoint_ends[-1])
    return Recovery(
        sessions=keep,
        failed=failed,
        events=cut.events,
        root=cut.root,
        next_run_seq=cut.next_run_seq,
        dropped_events=whole_events - cut.events,
        dropped_sessions=len(session_ends) - keep,
        digest=SessionsDigest(digests[point.sessions_bytes], keep, point.sessions_bytes),
        audit_format=audit_format,
    )


def _check(point: Checkpoint, mark: _Mark | None, session_ends: list[int], digests: dict[int, Any]) -> None:
    """Both files, up to one checkpoint, are what the run wrote: raise naming the file and line if not."""
    if mark is None or mark.root != point.audit_root:
        raise AuditError(
            f"{AUDIT_FILE}: line {point.audit_events}: the chain up to this line is not the one the run "
            "wrote (it does not match the journal's MAC, kept in the lab's secrets)"
        )
    lines = session_ends[: point.sessions]
    if (
        mark.closed != point.sessions
        or (lines[-1] if lines else 0) != point.sessions_bytes
        or point.sessions_bytes not in digests
        or digests[point.sessions_bytes].hexdigest() != point.sessions_sha256
    ):
        raise AuditError(
            f"{SESSIONS_FILE}: line {point.sessions}: the sessions up to this line are not the ones the run "
            "wrote (they do not match the journal's MAC, kept in the lab's secrets)"
        )


def check_resumable(
    run_id: str, status: str, tags: dict[str, str], params: dict[str, str], digest: str, seed: int
) -> None:
    """Refuse to resume a run that finished, or whose spec, data or seed differ from this one.

    Raises:
        SpecError: the run cannot be continued with this experiment.
    """
    if status not in RESUMABLE:
        raise SpecError(
            "--resume", run_id, f"the run is {status}; only a FAILED or KILLED run can be resumed"
        )
    if tags.get(SPEC_SHA256_TAG) != digest:
        raise SpecError(
            "--resume",
            run_id,
            "the spec (or a data file, or --sessions) differs from the run's: spec digest "
            f"{digest[:12]} vs {str(tags.get(SPEC_SHA256_TAG))[:12]}",
        )
    if params.get("population.seed") not in (None, str(seed)):
        raise SpecError(
            "--resume", run_id, f"seed {seed} differs from the run's {params.get('population.seed')}"
        )


def resume_payload(recovered: Recovery, experiment: Experiment, rederived: int | None) -> dict[str, Any]:
    """What the `run.resume` event records: what was checked and what was kept or dropped.

    `rederived`: how many kept sessions were run again from their plans and matched (None: the
    pilot does not replay its sessions).
    """
    return {
        "spec_sha256": experiment.digest,
        "seed": experiment.spec.population.seed,
        "sessions_kept": recovered.sessions,
        "events_kept": recovered.events,
        "events_dropped": recovered.dropped_events,
        "sessions_dropped": recovered.dropped_sessions,
        "sessions_rederived": rederived,
    }


def reopen(tracker: Tracker, run_id: str, experiment: Experiment, tags: dict[str, str]) -> StoredRun:
    """Check that `run_id` may be resumed with this experiment and mark it running again.

    Raises:
        SpecError: the run finished, or was made with another spec, data or seed.
        TrackingError: there is no such run in the store.
    """
    run = tracker.get_run(run_id)
    check_resumable(
        run_id, run.status, run.tags, run.params, experiment.digest, experiment.spec.population.seed
    )
    resumed = int(run.tags.get(RESUMED_TAG, "0")) + 1
    tags[RESUMED_TAG] = str(resumed)  # the caller signs these tags at the end of the run
    stored = StoredRun.reopen(tracker, run_id, tags)
    log.warning("run %s: resumed (%d)", run_id, resumed)
    return stored
