"""What the desk pages show, read from any tracking store: runs with their statuses, verifications.

Verifying a run re-derives sessions and metrics from its artifacts, which takes seconds; the result
is cached per run and kept while nothing the run's verification depends on has changed (its tags,
metrics, params, experiment and name, every file of its folder, and the trust file's content). The
runs page shows the cached status
(or "not checked yet") and a background worker fills the cache; a run's own page verifies at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import queue
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from civiclab.evidence.review_record import PENDING
from civiclab.reporting.runs import local_folder
from civiclab.store.schema import (
    AUDIT_ROOT_TAG,
    MANIFEST_SHA256_TAG,
    RECOMMENDATION_TAG,
    REVIEW_HEAD_TAG,
    REVIEWS_TAG,
    SCORECARD_FILE,
    STATEMENT_SHA256_TAG,
    SYNTHETIC_TAG,
)
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
# Tags the runs page reads: what it shows, and what a review or a re-signing changes.
LISTED_TAGS = (
    RECOMMENDATION_TAG,
    REVIEWS_TAG,
    REVIEW_HEAD_TAG,
    STATEMENT_SHA256_TAG,
    MANIFEST_SHA256_TAG,
    AUDIT_ROOT_TAG,
)
# The runs page trusts a cached verification this long when only the store's metrics or params changed
# (it reads neither, for speed); a run's own page always compares everything.
LISTING_TTL_S = 600.0


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


def _local_root(artifact_uri: str) -> str | None:
    if not artifact_uri.startswith(("file:", "/")):
        return None
    return urllib.parse.unquote(artifact_uri.removeprefix("file://").removeprefix("file:"))


def _folder_stamps(artifact_uri: str) -> tuple[Any, ...]:
    """(name, size, mtime) of every entry under a local run's artifact folder, links and special files
    included (never followed), and of a review's write-ahead record beside it; () for a remote store."""
    root = _local_root(artifact_uri)
    if root is None:
        return ()
    out: list[Any] = []
    folders = [root]
    while folders:  # os.scandir: a listing of 1,000 runs cannot afford pathlib per file
        folder = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            out.append((folder, None))
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                out.append((entry.path, None))
                continue
            out.append((entry.path, st.st_mode, st.st_size, st.st_mtime_ns))
            if entry.is_dir(follow_symlinks=False):
                folders.append(entry.path)
    try:
        st = os.stat(f"{root}/../{PENDING}")
        out.append((PENDING, st.st_size, st.st_mtime_ns))
    except OSError:
        pass
    return tuple(sorted(out, key=lambda e: str(e[0])))


class TrustStamp:
    """The sha256 of the trust file's bytes: read again whenever its size or mtime changes, so an
    edit (a revoked key, a member added) is seen by the next verification without a restart."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int, int] | None = None
        self._digest: str | None = None

    def digest(self) -> str | None:
        """None without a trust file; "unreadable: ..." when it cannot be read (verify then says why)."""
        if self.path is None:
            return None
        with self._lock:
            try:
                st = os.stat(self.path)
                seen = (st.st_size, st.st_mtime_ns, st.st_ino)
                if seen != self._seen:
                    self._digest = hashlib.sha256(self.path.read_bytes()).hexdigest()
                    self._seen = seen
            except OSError as exc:
                self._seen = None
                return f"unreadable: {exc.strerror or exc}"
            return self._digest


def listing_key(summary: RunSummary, trust: str | None = None) -> tuple[Any, ...]:
    """What the runs page can check cheaply: the listed tags, every file of the run, the trust file."""
    return (
        summary.status,
        summary.experiment,
        summary.run_name,
        tuple(summary.tags.get(k) for k in LISTED_TAGS),
        _folder_stamps(summary.artifact_uri),
        trust,
    )


def cache_key(summary: RunSummary, trust: str | None = None) -> str:
    """Everything a verification depends on; a change to any of it means verifying again.

    Args:
        trust: the trust file's digest (`TrustStamp.digest`): a key revoked there changes the key.
    """
    stamp: list[Any] = [summary.status, sorted(summary.tags.items()), sorted(summary.metrics.items())]
    stamp.append(sorted(summary.params.items()))
    stamp.append([summary.experiment, summary.run_name])
    stamp.append(_folder_stamps(summary.artifact_uri))
    stamp.append(trust)
    return hashlib.sha256(json.dumps(stamp, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class _Entry:
    full: str
    listing: tuple[Any, ...]
    at: float
    result: Any


class VerifyCache:
    """Verifications per run, computed once per state of the run (see `cache_key`)."""

    def __init__(self, tracker: Tracker, trust: Path | None, *, background: bool = True) -> None:
        self.tracker = tracker
        self.trust = trust
        self.trust_stamp = TrustStamp(trust)
        self._done: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._queued: set[str] = set()
        self._worker: threading.Thread | None = None
        if background:
            self._worker = threading.Thread(target=self._work, name="desk-verify", daemon=True)
            self._worker.start()

    def key(self, summary: RunSummary) -> str:
        """`cache_key` of the run with this desk's trust file as it is now."""
        return cache_key(summary, self.trust_stamp.digest())

    def listed(self, summary: RunSummary) -> Any | None:
        """The verification for the runs page when still current; else None, and the run is queued."""
        listing = listing_key(summary, self.trust_stamp.digest())
        with self._lock:
            hit = self._done.get(summary.run_id)
            if hit is not None and hit.listing == listing and time.monotonic() - hit.at < LISTING_TTL_S:
                return hit.result
            if self._worker is not None and summary.run_id not in self._queued:
                self._queued.add(summary.run_id)
                self._queue.put(summary.run_id)
        return None

    def verify(self, run_id: str, summary: RunSummary | None = None) -> Any:
        """The current verification of a run, computed now when the cache has none."""
        from civiclab.evidence.verify.verification import verify

        summary = summary or self.tracker.get_run(run_id)
        trust = self.trust_stamp.digest()
        key = cache_key(summary, trust)
        with self._lock:
            hit = self._done.get(run_id)
        if hit is not None and hit.full == key:
            return hit.result
        result = verify(self.tracker, run_id, self.trust)
        # Keyed on the run and the trust file as read before verifying (verify only reads): a change
        # made meanwhile makes the key stale, so the run is verified again.
        with self._lock:
            self._done[run_id] = _Entry(key, listing_key(summary, trust), time.monotonic(), result)
        return result

    def _work(self) -> None:
        while True:
            run_id = self._queue.get()
            if run_id is None:
                return
            try:
                self.verify(run_id)
            except Exception as exc:  # one unreadable run must not stop the others being checked
                log.warning("verify of run %s failed: %s", run_id, exc)
            finally:
                with self._lock:
                    self._queued.discard(run_id)

    def close(self) -> None:
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(timeout=5)


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
