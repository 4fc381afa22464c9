"""One run being written to the store: its id, its tracker and the folder its files are written in.

A run's steps (opening, recording, salvaging a failure, storing results, ending) all write to the same
run; they share this handle rather than a tracker, a run id and a staging folder passed separately.

On a local store the files are written in the run's own artifact folder. On a remote one they are
written in a staging folder on this machine and logged to the store when the run stores its results or
is salvaged. The staging folder has a fixed place per run (under CIVICLAB_STAGING_DIR, else the
temporary folder), so a run killed with SIGKILL can be resumed from what it wrote here; it is removed
only once the run finished.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from civiclab.home import text_setting
from civiclab.privacy.credentials import strip_credentials
from civiclab.records import Metric
from civiclab.store.schema import AUDIT_FILE, ERROR_TAG, FINISHED, RunStatus
from civiclab.store.status import status_tag
from civiclab.store.tracker import Tracker

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 4000


def staging_folder(tracker: Tracker, run_id: str, *, fetch: bool) -> Path:
    """Where a run on a remote store keeps its files until they are logged.

    With `fetch` (a resume) and no staging folder left on this machine, what was salvaged to the
    store is downloaded into it.
    """
    root = Path(text_setting("CIVICLAB_STAGING_DIR") or tempfile.gettempdir())
    staging = root / f"civiclab-run-{run_id}"
    if fetch and not (staging / AUDIT_FILE).exists():
        shutil.rmtree(staging, ignore_errors=True)
        fetched = tracker.download(run_id, root / f"civiclab-fetch-{run_id}")
        shutil.move(str(fetched), staging)
    staging.mkdir(parents=True, exist_ok=True)
    return staging


@dataclass(frozen=True)
class StoredRun:
    """A run of the store that this process writes.

    Attributes:
        folder: where the run's files are written: its artifact folder when the store is local,
            else `staging`.
        local_folder: the run's artifact folder on this machine, or None for a remote store.
        staging: the folder logged to a remote store, or None when the store is local.
    """

    tracker: Tracker
    run_id: str
    folder: Path
    local_folder: Path | None
    staging: Path | None

    @classmethod
    def open(
        cls, tracker: Tracker, experiment: str, run_name: str, params: dict[str, str], tags: dict[str, str]
    ) -> StoredRun:
        """Create a run in `experiment` with its params and first tags."""
        run_id = tracker.start_run(experiment, run_name, params, tags)
        return cls.of(tracker, run_id, fetch=False)

    @classmethod
    def reopen(cls, tracker: Tracker, run_id: str, tags: dict[str, str]) -> StoredRun:
        """Mark a stopped run RUNNING again, without the tag that said why it stopped, with `tags` set.

        Its files are where it left them: its artifact folder, this machine's staging folder, or
        downloaded from what was salvaged to the store.
        """
        tracker.reopen_run(run_id, drop_tags=(ERROR_TAG,))
        tracker.set_tags(run_id, tags)
        return cls.of(tracker, run_id, fetch=True)

    @classmethod
    def of(cls, tracker: Tracker, run_id: str, *, fetch: bool) -> StoredRun:
        local = tracker.local_artifact_dir(run_id)
        staging = None if local is not None else staging_folder(tracker, run_id, fetch=fetch)
        folder = local or staging
        assert folder is not None
        return cls(tracker, run_id, folder, local, staging)

    def store_results(self, metrics: Iterable[Metric], tags: dict[str, str]) -> None:
        """Metrics in batches, the final tags, and the staged files for a remote store."""
        self.tracker.log_metrics(self.run_id, metrics)
        self.tracker.set_tags(self.run_id, tags)
        self._log_staged()

    def salvage(self, why: str, status: RunStatus) -> None:
        """Say why the run stopped and log what was staged, so its records stay readable.

        A store that fails here must not hide the error that stopped the run: the failure is logged
        and the caller re-raises the original error.
        """
        try:
            self.tracker.set_tags(
                self.run_id, {**status_tag(status), ERROR_TAG: strip_credentials(why)[:MAX_ERROR_CHARS]}
            )
            if self.staging is not None and any(self.staging.iterdir()):
                self._log_staged()
        except Exception:
            log.warning("run %s: could not record why it stopped in the store", self.run_id, exc_info=True)

    def end(self, status: RunStatus) -> None:
        """Set the run's final status; a store gone at this point is logged, not raised.

        A finished run's staging folder is removed; a run that did not finish keeps it (and salvaged
        what it could to the store) so that `--resume` can pick it up, even after a SIGKILL.
        """
        try:
            self.tracker.end_run(self.run_id, status)
        except Exception:
            log.warning("run %s: could not mark it %s in the store", self.run_id, status, exc_info=True)
        else:
            log.info("run %s ended %s", self.run_id, status)
        if self.staging is not None and status == FINISHED:
            shutil.rmtree(self.staging, ignore_errors=True)

    def _log_staged(self) -> None:
        if self.staging is not None:
            self.tracker.log_artifacts(self.run_id, self.staging)
