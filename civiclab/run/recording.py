"""Recording a run's sessions: from the pilot built and the audit log opened (or resumed) to its close.

`Recording` holds what the sessions need and what must be released however the run ends: the pilot,
the journal (audit log + sessions file), the energy meter, the audit watcher and a work folder.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from civiclab.evidence.audit import AuditSummary
from civiclab.evidence.audit_watch import AuditWatcher
from civiclab.plugins.experiment import Experiment
from civiclab.plugins.piloting import Pilot
from civiclab.plugins.sessionlog import RecordStream
from civiclab.records import EnergyReading, SessionPlan
from civiclab.run import lifecycle
from civiclab.run.energy import EnergyMeter
from civiclab.run.journal import Journal
from civiclab.run.journal_mac import JournalMac
from civiclab.run.resume import Recovery, recover, resume_payload
from civiclab.run.sessions import (
    Plans,
    build_pilot,
    check_replay,
    executor_for,
    gc_tuned,
    in_pool,
    rederive_kept,
    session_plans,
)
from civiclab.store.schema import AUDIT_FILE, EXECUTOR_TAG, SESSIONS_FILE
from civiclab.store.stored_run import StoredRun

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Recorded:
    """What the sessions left: the records (read back from the sessions file), the closed audit log and
    the energy of this process's sessions."""

    records: RecordStream
    audit: AuditSummary
    energy: EnergyReading
    reproducible: bool | None

    @property
    def sessions(self) -> int:
        return len(self.records)


@dataclass
class Recording:
    """The sessions of one run, recorded in its folder; `close()` releases everything, however it ended.

    `tags` are the run's own (signed at its end): the executor that runs the sessions is written there
    and in the store once it is chosen, so that a run that fails mid-way says which one it was.
    """

    experiment: Experiment
    run: StoredRun
    workers: int
    tags: dict[str, str]
    timings: dict[str, float] = field(default_factory=dict)
    pilot: Pilot[Any] | None = None
    journal: Journal | None = None
    watcher: AuditWatcher | None = None

    @property
    def folder(self) -> Path:
        return self.run.folder

    def __post_init__(self) -> None:
        energy = self.experiment.spec.energy
        self.meter = EnergyMeter(energy.country, enabled=energy.tracker != "none")
        self.workdir = Path(tempfile.mkdtemp(prefix="civiclab-work-"))

    def record(self, *, resuming: bool, progress: Progress | None) -> Recorded:
        """Run every session not yet recorded, then replay the first ones and close the audit log.

        Raises:
            AuditError: resuming, and what the killed run left cannot be recovered.
        """
        spec = self.experiment.spec
        if not resuming:
            self.meter.start()  # its start overlaps the pilot's setup
        recovered = recover(self.folder, self.run.run_id) if resuming else None
        kept = recovered.sessions if recovered else 0
        pilot = self.pilot = build_pilot(self.experiment, self.workdir)
        if self.workers > 1 and not pilot.parallel:
            log.info("pilot %r runs its sessions in one process (--workers ignored)", spec.pilot.kind)
        left = spec.population.sessions - kept
        if not in_pool(pilot, spec.executor.workers or self.workers, left, spec.executor.kind):
            # Sessions will run here (a pilot's plans may need its chain or models).
            self.timings["setup_s"] = pilot.ensure_setup()
        plans = session_plans(self.experiment, pilot, start=kept)
        rederived = self._rederive(recovered, plans)
        if resuming:  # after the kept sessions ran again: the reading is of the sessions this run adds
            self.meter.start()
        journal = self._open_journal(recovered, plans.total, rederived)
        self._run_sessions(plans.pending, plans.total, left, progress)
        sessions = journal.closed
        records = RecordStream(self.folder / SESSIONS_FILE, count=sessions)
        log.info("%d sessions recorded (%d failed)", sessions, journal.failed)

        reproducible, replay_setup_s = check_replay(pilot, plans, records, spec.executor.session_timeout_s)
        self.timings["setup_s"] = self.timings.get("setup_s", 0.0) + replay_setup_s
        # After a resume the meter saw only the sessions this process added: per-session figures use those.
        energy = self.meter.stop().model_copy(update={"sessions": sessions - kept})
        audit = journal.close_run()
        log.info("audit chain closed: %d events, root %s", audit.events, audit.root)
        return Recorded(records, audit, energy, reproducible)

    def _rederive(self, recovered: Recovery | None, plans: Plans) -> int | None:
        """After a resume, the kept sessions of a replayable pilot run again and compared; how many."""
        assert self.pilot is not None
        if recovered is None or not recovered.sessions or not self.pilot.replays():
            return None
        stored = RecordStream(self.folder / SESSIONS_FILE, count=recovered.sessions)
        compared = rederive_kept(
            self.experiment,
            self.pilot,
            plans,
            stored,
            recovered.sessions,
            workers=self.workers,
            workdir=self.workdir,
        )
        log.info("the %d sessions kept are what their plans give (%d compared)", recovered.sessions, compared)
        return compared

    def _open_journal(self, recovered: Recovery | None, total: int, rederived: int | None) -> Journal:
        """The journal, with `run.open` written (or `run.resume` after what a killed run kept)."""
        spec = self.experiment.spec
        mac = JournalMac(self.run.run_id, recovered.digest if recovered is not None else None)
        journal = self.journal = Journal(self.folder, spec.population.start, resume=recovered, mac=mac)
        if any(ev.info.name == "auditability" for ev in self.experiment.evaluators):
            self.watcher = AuditWatcher(self.folder / AUDIT_FILE)  # re-verifies the audit log on another core
        self.meter.wait_started()
        if recovered is None:
            journal.open_run(
                {
                    "experiment": spec.name,
                    "spec_sha256": self.experiment.digest,
                    "pilot": spec.pilot.kind,
                    "sessions": total,
                    "seed": spec.population.seed,
                }
            )
        else:
            journal.resume_run(resume_payload(recovered, self.experiment, rederived))
            log.info("resuming after %d sessions kept (%d events)", recovered.sessions, recovered.events)
        return journal

    def _run_sessions(
        self, pending: Iterable[SessionPlan], total: int, left: int, progress: Progress | None
    ) -> None:
        assert self.pilot is not None and self.journal is not None
        t_sessions = time.perf_counter()
        pilot_s = 0.0
        executor = executor_for(self.experiment, self.pilot, self.workers, left, self.workdir)
        if self.tags.get(EXECUTOR_TAG) != executor.kind:  # `--workers` or a pilot's lifecycle decided
            self.tags[EXECUTOR_TAG] = executor.kind
            self.run.tracker.set_tags(self.run.run_id, {EXECUTOR_TAG: executor.kind})
        with gc_tuned(), executor:
            for record in executor.run(pending):
                pilot_s += record.timings.get("pilot_s", 0.0)
                self.journal.session(record)
                if progress is not None:
                    progress(self.journal.closed, total)
        self.journal.flush()
        self.timings["sessions_s"] = time.perf_counter() - t_sessions
        self.timings["pilot_s"] = pilot_s

    def close(self) -> None:
        """Stop the watcher, close the pilot, abort the meter (a no-op once stopped), remove the work folder."""
        if self.watcher is not None:
            self.watcher.stop()
        lifecycle.close_pilot(self.pilot)
        self.meter.abort()
        shutil.rmtree(self.workdir, ignore_errors=True)
