"""How a committee review is recorded: its audit-chain event, its manifest entry, and where the
write-ahead record of a review still being recorded waits.

Both the writer (`civiclab.evidence.review`) and the checkers (`civiclab.evidence.verify`) read the
format from here, so that verifying never needs the module that writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from civiclab.store.tracker import Tracker

REVIEW_EVENT = "review"
"""The `kind` of a review's audit event; only reviews may follow the run's `run.close`."""

Decision = Literal["approve", "revise", "reject"]
DECISIONS: tuple[str, ...] = ("approve", "revise", "reject")
PENDING = "review.pending.json"


class Review(BaseModel):
    """One committee decision as the manifest lists it and the scorecard shows it."""

    model_config = ConfigDict(extra="forbid")

    reviewer: str = Field(min_length=1)
    decision: Decision
    comment: str = ""
    conditions: list[str] = Field(default_factory=list)
    ts: str
    scorecard_sha256: str | None = None
    audit_seq: int
    hash: str
    keyid: str | None = None
    statement_sha256: str | None = None
    sha256: str | None = Field(default=None, description="the review envelope's digest")
    anchor: dict[str, Any] | None = Field(default=None, description="where the review's digest is anchored")


def reviews_of(manifest_reviews: list[dict[str, object]]) -> list[Review]:
    """The manifest's review entries as models (entries that do not parse are left out)."""
    out: list[Review] = []
    for entry in manifest_reviews:
        try:
            out.append(Review.model_validate(entry))
        except ValueError:
            continue
    return out


def read_pending(path: Path) -> dict[str, Any]:
    """A review's write-ahead record.

    Raises:
        AuditError: it cannot be read or is not such a record (one line naming the file).
    """
    from civiclab.errors import AuditError

    try:
        wal = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(wal, dict) or not {"event", "events_before", "bytes_before"} <= set(wal):
            raise ValueError("fields missing")
        int(wal["events_before"]), int(wal["bytes_before"])
        if not isinstance(wal["event"], dict):
            raise ValueError("no event")
    except (OSError, ValueError, TypeError) as exc:
        raise AuditError(
            f"{path}: not a readable pending review record ({str(exc).splitlines()[0][:80]}); "
            "move it aside, then run civiclab verify"
        ) from None
    return wal


def pending_path(tracker: Tracker, run_id: str, local: Path | None) -> Path:
    """Where a review's write-ahead record lives: beside the run's artifacts (never among them),
    or under CIVICLAB_HOME when the artifacts are on a server."""
    if local is not None:
        return local.parent / PENDING
    from civiclab.home import lab_home

    return lab_home() / "pending" / f"{run_id}.{PENDING}"
