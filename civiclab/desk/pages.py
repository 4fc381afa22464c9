"""What the desk pages show, read from any tracking store: runs with their statuses, verifications.

Verifications are cached per state of a run (`civiclab.desk.verify_cache`). The runs page shows the
cached status (or "not checked yet") and a background worker fills the cache; a run's own page
verifies at once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from civiclab.desk.verify_cache import LISTED_TAGS, VerifyCache, cache_key, listing_key
from civiclab.reporting.runs import local_folder
from civiclab.store.schema import RECOMMENDATION_TAG, SCORECARD_FILE, SYNTHETIC_TAG
from civiclab.store.tracker import RunSummary, Tracker

log = logging.getLogger(__name__)

VerifyStatus = Literal["signed", "trusted", "anchored", "tampered", "legacy", "incomplete", "unchecked"]
ReviewStatus = Literal[
    "awaiting",
    "awaiting chair",
    "awaiting conditions",
    "approved",
    "revise",
    "rejected",
    "conflict",
    "not checked",
    "broken",
    "skipped",
    "unchecked",
]
VERIFY_STATUSES: tuple[str, ...] = (
    "signed",
    "trusted",
    "anchored",
    "tampered",
    "legacy",
    "incomplete",
    "unchecked",
)
REVIEW_STATUSES: tuple[str, ...] = (
    "awaiting",
    "awaiting chair",
    "awaiting conditions",
    "approved",
    "revise",
    "rejected",
    "conflict",
    "not checked",
    "broken",
    "skipped",
    "unchecked",
)


@dataclass(frozen=True)
class RunRow:
    """One line of the runs page."""

    run_id: str
    experiment: str
    started: int
    status: str
    recommendation: str
    verify: str
    review: str
    committee: dict[str, str]  # the committee's status in one sentence, by language ({} until verified)
    synthetic: str  # the dimensions computed from generated data, comma-separated ("" for none)


def review_status(result: Any | None) -> str:
    """The decision rule's state over the run's verified reviews ("unchecked" until verified)."""
    from civiclab.reporting.answers import committee_state

    return "unchecked" if result is None else committee_state(result)


def verify_status(result: Any) -> str:
    """One word for whether a `civiclab.evidence.verify.result.Verification`'s evidence is intact."""
    if result.kind == "incomplete (killed)":
        return "incomplete"
    if not result.evidence_ok:
        return "tampered"
    if result.kind == "unsigned (legacy)":
        return "legacy"
    if any(c.name.startswith("anchor") and c.status == "ok" for c in result.checks):
        return "anchored"
    return "trusted" if result.trusted else "signed"


def committee_sentences(result: Any | None) -> dict[str, str]:
    """The committee's one-sentence status in each of the desk's languages ({} until verified)."""
    if result is None:
        return {}
    from civiclab.desk.i18n import LANGUAGES
    from civiclab.reporting.answers import committee_words

    return {lang: committee_words(result, lang) for lang in LANGUAGES}


_SYNTHETIC_READ: dict[str, str] = {}  # run id -> scorecard.json's synthetic dimensions (runs before the tag)
_SYNTHETIC_READ_MAX = 10_000


def synthetic_of(summary: RunSummary) -> str:
    """The dimensions of a run computed from generated data ("" for none), from its tag.

    A run made before the tag existed is read once from its scorecard.json (signed, so it never
    changes) when its artifacts are on this machine; a remote one shows "" until it is verified.
    """
    tagged = summary.tags.get(SYNTHETIC_TAG)
    if tagged is not None:
        return tagged
    if summary.run_id in _SYNTHETIC_READ:
        return _SYNTHETIC_READ[summary.run_id]
    folder = local_folder(summary.artifact_uri)
    found = ""
    if folder is not None:
        from civiclab.errors import CivicLabError
        from civiclab.store.files import read_artifact

        try:
            card = json.loads(read_artifact(folder, SCORECARD_FILE))
            found = ",".join(str(line).split(":", 1)[0] for line in card.get("synthetic") or [])
        except (OSError, ValueError, AttributeError, CivicLabError):
            found = ""
    if len(_SYNTHETIC_READ) >= _SYNTHETIC_READ_MAX:
        _SYNTHETIC_READ.clear()
    _SYNTHETIC_READ[summary.run_id] = found
    return found


def run_rows(
    tracker: Tracker,
    cache: VerifyCache,
    *,
    experiment: str | None = None,
    verify: str | None = None,
    review: str | None = None,
    recommendation: str | None = None,
    synthetic: str | None = None,
) -> tuple[list[RunRow], list[str]]:
    """The civiclab runs of the store (or one experiment), newest first, filtered; and every
    experiment that has runs (for the filter).

    Args:
        synthetic: "yes" keeps the runs with evidence computed from generated data, "no" the others.
    """
    heads = tracker.list_run_heads((*LISTED_TAGS, SYNTHETIC_TAG))
    names = sorted({s.experiment for s in heads})
    summaries = [s for s in heads if not experiment or s.experiment == experiment]
    summaries.sort(key=lambda s: s.start_time, reverse=True)
    rows: list[RunRow] = []
    for s in summaries:
        result = cache.listed(s)
        generated = synthetic_of(s)
        row = RunRow(
            run_id=s.run_id,
            experiment=s.experiment,
            started=s.start_time,
            status=s.status,
            recommendation=s.tags.get(RECOMMENDATION_TAG, "—"),
            verify=verify_status(result) if result is not None else "unchecked",
            review=review_status(result),
            committee=committee_sentences(result),
            synthetic=generated,
        )
        if verify and row.verify != verify:
            continue
        if review and row.review != review:
            continue
        if recommendation and row.recommendation != recommendation:
            continue
        if synthetic and (synthetic == "yes") != bool(row.synthetic):
            continue
        rows.append(row)
    return rows, names


def statement_bytes(tracker: Tracker, run_id: str) -> bytes | None:
    """The run's signed statement (DSSE envelope) as stored, or None for a legacy run."""
    import tempfile

    from civiclab.errors import SigningError
    from civiclab.evidence.signing.envelope import read_envelope
    from civiclab.evidence.signing.statement import STATEMENT_FILE
    from civiclab.store.files import UnsafeArtifact, read_artifact

    with tempfile.TemporaryDirectory(prefix="civiclab-desk-") as tmp:
        folder = tracker.download(run_id, Path(tmp))
        try:
            data = read_artifact(folder, STATEMENT_FILE, limit=64 * 1024 * 1024)
            read_envelope(data)  # served only if it is what it claims to be
        except FileNotFoundError:
            return None
        except (UnsafeArtifact, SigningError) as exc:
            log.warning("run %s: %s not served: %s", run_id, STATEMENT_FILE, exc)
            return None
        return data


__all__ = [
    "REVIEW_STATUSES",
    "VERIFY_STATUSES",
    "RunRow",
    "VerifyCache",
    "cache_key",
    "listing_key",
    "review_status",
    "run_rows",
    "statement_bytes",
    "synthetic_of",
    "verify_status",
]
