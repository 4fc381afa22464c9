"""The desk's memory of runs: what the store holds of a run now, and its verification per state.

Verifying a run re-derives sessions and metrics from its artifacts, which takes about a second; the
result is kept while nothing it depends on has changed: the run as the store holds it (status, tags,
metrics, params, experiment and name), every file of its folder (and a review's write-ahead record
beside it), and the trust file's content. A local SQLite store is read again only when its files
changed (`Tracker.store_stamp`), so a run page read by many people costs a few `stat` calls, not a
read of 1,000 metrics; any other store is read at every view. One verification runs at a time per run:
fifty people opening a new run wait for one verification, not fifty.
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
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from civiclab.evidence.review_record import PENDING
from civiclab.store.schema import (
    AUDIT_ROOT_TAG,
    MANIFEST_SHA256_TAG,
    RECOMMENDATION_TAG,
    REVIEW_HEAD_TAG,
    REVIEWS_TAG,
    STATEMENT_SHA256_TAG,
)
from civiclab.store.tracker import RunSummary, Tracker

log = logging.getLogger(__name__)

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
MAX_STATES = 256  # runs kept as read (a run with 1,000 metrics is ~100 kB)


def _local_root(artifact_uri: str) -> str | None:
    if not artifact_uri.startswith(("file:", "/")):
        return None
    return urllib.parse.unquote(artifact_uri.removeprefix("file://").removeprefix("file:"))


def _folder_stamps(artifact_uri: str) -> tuple[Any, ...]:
    """(name, mode, size, mtime, ctime) of every entry under a local run's artifact folder, links and
    special files included (never followed), and of a review's write-ahead record beside it; () for a
    remote store. ctime moves at every write and cannot be set back (`touch -d` sets only mtime), so a
    file edited to the same size with its mtime restored is still seen."""
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
            out.append((entry.path, st.st_mode, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
            if entry.is_dir(follow_symlinks=False):
                folders.append(entry.path)
    try:
        st = os.stat(f"{root}/../{PENDING}")
        out.append((PENDING, st.st_size, st.st_mtime_ns, st.st_ctime_ns))
    except OSError:
        pass
    return tuple(sorted(out, key=lambda e: str(e[0])))


class TrustStamp:
    """The sha256 of the trust file's bytes: read again whenever its size or times change, so an
    edit (a revoked key, a member added) is seen by the next verification without a restart."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int, int, int] | None = None
        self._digest: str | None = None

    def digest(self) -> str | None:
        """None without a trust file; "unreadable: ..." when it cannot be read (verify then says why)."""
        if self.path is None:
            return None
        with self._lock:
            try:
                st = os.stat(self.path)
                seen = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
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


def store_digest(summary: RunSummary) -> str:
    """sha256 over what the store holds of a run: status, tags, metrics, params, experiment, name."""
    stamp: list[Any] = [summary.status, sorted(summary.tags.items()), sorted(summary.metrics.items())]
    stamp.append(sorted(summary.params.items()))
    stamp.append([summary.experiment, summary.run_name])
    return hashlib.sha256(json.dumps(stamp, default=str).encode()).hexdigest()


def cache_key(summary: RunSummary, trust: str | None = None, digest: str | None = None) -> str:
    """Everything a verification depends on; a change to any of it means verifying again.

    Args:
        trust: the trust file's digest (`TrustStamp.digest`): a key revoked there changes the key.
        digest: `store_digest(summary)` when already computed.
    """
    stamp = [digest or store_digest(summary), _folder_stamps(summary.artifact_uri), trust]
    return hashlib.sha256(json.dumps(stamp, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class RunState:
    """A run as the store holds it, and the digest of that (`store_digest`)."""

    summary: RunSummary
    digest: str


@dataclass(frozen=True)
class _Entry:
    full: str
    listing: tuple[Any, ...]
    at: float
    result: Any


class VerifyCache:
    """Verifications per run, computed once per state of the run (see `cache_key`).

    Args:
        background: a worker thread verifies the runs the runs page lists (`listed`).
        warm: that worker first warms the desk up (`civiclab.desk.warmup`) and verifies the newest runs.
    """

    def __init__(
        self, tracker: Tracker, trust: Path | None, *, background: bool = True, warm: bool = False
    ) -> None:
        self.tracker = tracker
        self.trust = trust
        self.trust_stamp = TrustStamp(trust)
        self._done: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self._states: OrderedDict[str, RunState] = OrderedDict()
        self._states_stamp: tuple[Any, ...] | None = None
        self._verifying: dict[str, threading.Lock] = {}
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._queued: set[str] = set()
        self._worker: threading.Thread | None = None
        self.warm = warm
        if background:
            self._worker = threading.Thread(target=self._work, name="desk-verify", daemon=True)
            self._worker.start()

    def kept_state(self, run_id: str) -> RunState | None:
        """`state` when it needs no read of the store (a few `stat` calls), else None."""
        stamp = self.tracker.store_stamp()
        if stamp is None:
            return None
        with self._lock:
            return self._states.get(run_id) if stamp == self._states_stamp else None

    def state(self, run_id: str) -> RunState:
        """The run as the store holds it now: kept from an earlier read while the store's files are
        unchanged (a local SQLite store), else read.

        Raises:
            TrackingError: no such run, or the store cannot be read.
        """
        stamp = self.tracker.store_stamp()
        if stamp is not None:
            with self._lock:
                hit = self._states.get(run_id) if stamp == self._states_stamp else None
            if hit is not None:
                return hit
        summary = self.tracker.get_run(run_id)
        found = RunState(summary, store_digest(summary))
        if stamp is not None:
            # Read after the stamp: a write in between gives the store another stamp (ctime moves), so
            # what was read here is never kept under a stamp newer than itself.
            with self._lock:
                if stamp != self._states_stamp:
                    self._states.clear()
                    self._states_stamp = stamp
                self._states[run_id] = found
                while len(self._states) > MAX_STATES:
                    self._states.popitem(last=False)
        return found

    def key(self, known: RunSummary | RunState) -> str:
        """`cache_key` of the run with this desk's trust file as it is now."""
        if isinstance(known, RunState):
            return cache_key(known.summary, self.trust_stamp.digest(), known.digest)
        return cache_key(known, self.trust_stamp.digest())

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

    def verify(self, run_id: str, known: RunSummary | RunState | None = None) -> Any:
        """The current verification of a run, computed now when the cache has none."""
        from civiclab.evidence.verify.verification import verify

        known = known or self.state(run_id)
        summary = known.summary if isinstance(known, RunState) else known
        trust = self.trust_stamp.digest()
        key = cache_key(summary, trust, known.digest if isinstance(known, RunState) else None)
        hit = self._current(run_id, key)
        if hit is not None:
            return hit
        with self._lock:
            one_at_a_time = self._verifying.setdefault(run_id, threading.Lock())
        with one_at_a_time:
            hit = self._current(run_id, key)  # verified meanwhile by whoever held the lock
            if hit is not None:
                return hit
            result = verify(self.tracker, run_id, self.trust)
            # Keyed on the run and the trust file as read before verifying (verify only reads): a
            # change made meanwhile makes the key stale, so the run is verified again.
            with self._lock:
                self._done[run_id] = _Entry(key, listing_key(summary, trust), time.monotonic(), result)
        return result

    def kept(self, run_id: str, state: RunState) -> Any | None:
        """The verification of this state of the run when already made (it is not made here), else None."""
        return self._current(run_id, cache_key(state.summary, self.trust_stamp.digest(), state.digest))

    def _current(self, run_id: str, key: str) -> Any | None:
        with self._lock:
            hit = self._done.get(run_id)
        return hit.result if hit is not None and hit.full == key else None

    def _work(self) -> None:
        if self.warm:
            self._warm_up()
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

    def _warm_up(self) -> None:
        from civiclab.desk.warmup import newest_runs, warm_up

        log.info("desk warm-up: %.1f s", warm_up(self.tracker))
        for run_id in newest_runs(self.tracker):
            with self._lock:
                if run_id in self._queued:
                    continue
                self._queued.add(run_id)
            self._queue.put(run_id)

    def close(self) -> None:
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(timeout=5)
