"""The run's records on disk: `sessions.jsonl`, one canonical JSON record a line, read in streaming passes.

Records are written as they are produced and never all held in memory. `RecordStream` is what
evaluators get as `run.records`: an iterable that reads the file again at each pass (typed
`SessionRecord`s), with `rows()` for the fast path (plain dicts, as written) and `where()` for one
segment. Third-party evaluators that loop over `run.records` keep working unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from civiclab.records import SessionRecord


class RecordStream:
    """The records of `path` (optionally those of one group), re-read at each iteration."""

    def __init__(
        self, path: Path, *, count: int | None = None, segment: tuple[tuple[str, object], ...] = ()
    ) -> None:
        self.path = path
        self.segment = segment
        """`(attribute, value)` conditions a record's segment must all meet (none: every record)."""
        self._count = count

    def rows(self, containing: bytes | None = None) -> Iterator[dict[str, Any]]:
        """Each record as the plain dict that was written: ten times cheaper than a `SessionRecord`.

        `containing` skips, unparsed, the lines without those bytes: a pass that wants the failed
        sessions gives `b'"outcome":"failed"'` and checks the parsed row (the bytes may also occur
        deeper in a record, never be missing from one that matches: lines are canonical JSON).
        """
        if not self.path.exists():
            return
        conditions = self.segment
        with self.path.open("rb") as fh:
            for line in fh:
                if containing is not None and containing not in line:
                    continue
                row = orjson.loads(line)
                if not conditions or all(row["segment"].get(a) == v for a, v in conditions):
                    yield row

    def __iter__(self) -> Iterator[SessionRecord]:
        for row in self.rows():
            yield SessionRecord.model_validate(row)

    def __len__(self) -> int:
        if self._count is None:
            self._count = sum(1 for _ in self.rows())
        return self._count

    def __bool__(self) -> bool:
        return len(self) > 0

    def __contains__(self, item: object) -> bool:
        return any(record == item for record in self)

    def head(self, n: int) -> list[SessionRecord]:
        """The first `n` records (those a run replays)."""
        out: list[SessionRecord] = []
        for record in self:
            if len(out) >= n:
                break
            out.append(record)
        return out

    def where(self, *conditions: tuple[str, object], count: int | None = None) -> RecordStream:
        """The records of one group (`("age_band", "80+")`, or two conditions for an intersection),
        still read from the file."""
        return RecordStream(self.path, count=count, segment=self.segment + conditions)

    def __repr__(self) -> str:
        where = "&".join(f"{a}={v}" for a, v in self.segment)
        return f"<RecordStream {self.path.name}{' ' + where if where else ''}>"
