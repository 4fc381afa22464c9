"""What keeps a run honest when it does not end well: signals, salvage, orphans, closing.

A run that is interrupted (SIGINT/SIGTERM) is marked KILLED, one that fails is marked FAILED, and
both keep what was recorded readable. A run whose process was killed outright (SIGKILL, power loss)
cannot close itself: it stays RUNNING in the store, is shown as killed when runs are listed, and is
marked FAILED by the next command that writes to the store anyway (`civiclab run`).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from types import FrameType
from typing import Any, Literal

from civiclab.store.schema import ERROR_TAG, FAILED, HOST_TAG, PID_STARTED_TAG, PID_TAG, RUNNING, STATE_TAGS
from civiclab.store.status import status_tag
from civiclab.store.stored_run import StoredRun
from civiclab.store.tracker import RunSummary, Tracker

log = logging.getLogger(__name__)

EndStatus = Literal["FINISHED", "FAILED", "KILLED"]
ORPHAN_ERROR = "its process ended without closing the run (killed)"
ORPHANS_LOOKED_AT = 1000


class RunInterrupted(KeyboardInterrupt):
    """The run was stopped by SIGINT or SIGTERM; it is marked KILLED.

    A KeyboardInterrupt, not an Exception, so that no `except Exception` in a pilot swallows it.
    """


class Signals:
    """Turns SIGINT and SIGTERM into `RunInterrupted` while a run is open."""

    def __enter__(self) -> Signals:
        self._old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        for s in self._old:
            try:
                signal.signal(s, self._raise)
            except ValueError:
                log.debug("not the main thread: %s is left to the caller", signal.Signals(s).name)
        return self

    def _raise(self, signum: int, frame: FrameType | None) -> None:
        raise RunInterrupted(f"run interrupted by {signal.Signals(signum).name}")

    def __exit__(self, *exc: object) -> None:
        for s, handler in self._old.items():
            try:
                signal.signal(s, handler)
            except ValueError:
                log.debug("not the main thread: %s handler not restored", signal.Signals(s).name)


def process_started(pid: int | None = None) -> str:
    """When a process started (to tell a live run from one whose process was killed), or ''."""
    try:
        import psutil

        return f"{psutil.Process(pid or os.getpid()).create_time():.2f}"
    except ImportError:
        log.warning("psutil is not installed: killed runs cannot be told from live ones")
        return ""
    except Exception as exc:  # psutil.NoSuchProcess, AccessDenied: the process is not ours to see
        log.debug("process %s: %s", pid, exc)
        return ""


def process_tags() -> dict[str, str]:
    """The tags that let a later command tell whether this run's process is still alive."""
    return {  # civiclab.host comes with the provenance tags
        PID_TAG: str(os.getpid()),
        PID_STARTED_TAG: process_started(),
    }


def is_orphan(run: RunSummary, host: str | None = None) -> bool:
    """A RUNNING run of this machine whose process is gone (read only: nothing is written)."""
    tags = run.tags
    if run.status != RUNNING or tags.get(HOST_TAG) != (host or socket.gethostname()):
        return False
    if PID_TAG not in tags:
        return False
    return process_started(int(tags[PID_TAG])) != tags.get(PID_STARTED_TAG, "?")


def shown_status(run: RunSummary, host: str | None = None) -> str:
    """The status a listing shows: an orphaned RUNNING run is shown FAILED, computed at read time.

    FAILED is what the next command that writes to the store records for it (`mark_orphans_failed`,
    and `run_status`: a vanished process is a failure, KILLED is for SIGINT/SIGTERM), so a listing
    never says one status today and another after the next run.
    """
    return FAILED if is_orphan(run, host) else run.status


def mark_orphans_failed(tracker: Tracker) -> list[str]:
    """Mark FAILED the RUNNING runs of this machine whose process is gone; returns their ids.

    Called by commands that write to the store anyway; listing runs never writes.
    """
    host = socket.gethostname()
    closed: list[str] = []
    # The newest runs, tags only: this runs before every run, on stores of thousands of runs.
    for run in tracker.list_run_heads((HOST_TAG, *STATE_TAGS), max_results=ORPHANS_LOOKED_AT):
        if not is_orphan(run, host):
            continue
        tracker.set_tags(run.run_id, {**status_tag(FAILED), ERROR_TAG: ORPHAN_ERROR})
        tracker.end_run(run.run_id, FAILED)
        log.warning("run %s: its process was killed; marked FAILED (its records stay readable)", run.run_id)
        closed.append(run.run_id)
    return closed


def salvage(run: StoredRun, journal: Any, why: str, status: EndStatus = FAILED) -> None:
    """Keep what was recorded readable (flushed chain, partial sessions) and say why the run stopped.

    Each step is tried on its own: a failure here is logged, and the caller re-raises the original error.
    """
    if journal is not None:
        try:
            journal.close()
        except Exception:
            log.warning("run %s: could not close the audit journal", run.run_id, exc_info=True)
    run.salvage(why, status)


def close_pilot(pilot: Any) -> None:
    """Release the pilot's resources; a pilot that fails to close is logged, the run's status stands."""
    if pilot is None:
        return
    try:
        pilot.close()
    except Exception:
        log.warning("pilot %s: close() failed", type(pilot).__name__, exc_info=True)
