"""The hash-chained audit log: `hash = sha256(prev || canonical_json(event))`, one JSON line each."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson

from civiclab.errors import AuditError
from civiclab.records import canonical_json

GENESIS = "0" * 64


def link_hash(prev: str, event: dict[str, Any]) -> str:
    return hashlib.sha256((prev + canonical_json(event)).encode("utf-8")).hexdigest()


class AuditWriter:
    """Appends events to `audit.jsonl`; a crash leaves a readable prefix.

    With `held=True`, lines are kept in memory until `flush()` writes them in one piece, so that the
    caller decides exactly which events reach the disk together (the run's journal flushes the chain
    and the sessions file in the same step).
    """

    def __init__(self, path: Path, *, resume: bool = False, held: bool = False) -> None:
        self.path = path
        self.seq = 0
        self.root = GENESIS
        self._held: list[str] | None = [] if held else None
        if resume and path.exists():
            summary = verify_chain(path)
            self.seq, self.root = summary.events, summary.root
        self._fh: IO[str] = path.open("a" if resume else "w", encoding="utf-8")

    def append(self, event: dict[str, Any]) -> str:
        body = canonical_json(event)
        digest = hashlib.sha256((self.root + body).encode("utf-8")).hexdigest()
        # The same bytes as canonical_json of the whole entry (keys sorted: event, hash, prev, seq),
        # without serialising the event twice.
        line = f'{{"event":{body},"hash":"{digest}","prev":"{self.root}","seq":{self.seq}}}\n'
        if self._held is not None:
            self._held.append(line)
        else:
            self._fh.write(line)
        self.root = digest
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
            self._fh.write("".join(self._held))
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


@dataclass(frozen=True)
class ChainSummary:
    """What a valid chain holds: its number of events, its root and the sessions it covers."""

    events: int
    root: str
    opened: int
    closed: int


def iter_chain(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                yield orjson.loads(line)
            except orjson.JSONDecodeError:
                raise AuditError(f"{path.name}: line {number}: not valid JSON") from None


def verify_chain(path: Path) -> ChainSummary:
    """Recompute every link; raise `AuditError` naming the first line that does not match."""
    prev = GENESIS
    count = opened = closed = 0
    for number, entry in enumerate(iter_chain(path), start=1):
        if not isinstance(entry, dict) or set(entry) != {"seq", "prev", "hash", "event"}:
            raise AuditError(f"{path.name}: line {number}: not an audit entry")
        if entry["seq"] != number - 1:
            raise AuditError(f"{path.name}: line {number}: sequence number {entry['seq']} out of order")
        if entry["prev"] != prev:
            raise AuditError(f"{path.name}: line {number}: link to the previous line is broken")
        if link_hash(prev, entry["event"]) != entry["hash"]:
            raise AuditError(f"{path.name}: line {number}: hash does not match the event")
        kind = entry["event"].get("kind") if isinstance(entry["event"], dict) else None
        opened += kind == "session.open"
        closed += kind == "session.close"
        prev = entry["hash"]
        count += 1
    return ChainSummary(events=count, root=prev, opened=opened, closed=closed)
