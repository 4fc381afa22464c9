"""The runner: one experiment → one MLflow run with records, audit chain, metrics and scorecard.

`run_experiment` is the order of the steps; each step lives in `civiclab.run`:
sessions (pilot, plans, execution, replay), journal (audit chain + sessions file, redacted),
lifecycle (signals, salvage, orphans, closing), artifacts (results, manifest, tags) and resume
(finishing a killed run). Records are never kept: they go to `sessions.jsonl` as they come, and
evaluators read them back in streaming passes, so memory does not grow with the sessions.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from civiclab.evidence.audit_watch import AuditWatcher
from civiclab.evidence.manifest import DigestCache, artifact_digests
from civiclab.evidence.verify.rerun import write_inputs
from civiclab.plugins.evaluation import RunData, run_evaluators
from civiclab.plugins.experiment import Experiment
from civiclab.plugins.piloting import Pilot
from civiclab.plugins.sessionlog import RecordStream
from civiclab.privacy.credentials import strip_credentials_in
from civiclab.privacy.pseudonyms import KEY_ID_TAG, pseudonym_key_id, pseudonym_salt
from civiclab.records import Metric
from civiclab.run import artifacts, lifecycle
from civiclab.run.energy import EnergyMeter
from civiclab.run.journal import Journal, record_dict, redact_record
from civiclab.run.lifecycle import EndStatus, RunInterrupted, mark_orphans_failed, process_started
from civiclab.run.provenance import provenance_tags
from civiclab.run.resume import recover, reopen, resume_payload, staging_dir
from civiclab.run.sessions import (
    REPLAY_SESSIONS,
    build_pilot,
    check_replay,
    executor_for,
    gc_tuned,
    in_pool,
    record_fingerprint,
    safe_session,
    session_plans,
)
from civiclab.scoring.scorecard import Scorecard, build_scorecard
from civiclab.store.tracker import Tracker, flatten, metric_key, resolve_tracking_uri, spec_tracking_uri

__all__ = [
    "REPLAY_SESSIONS",
    "Progress",
    "RunInterrupted",
    "RunResult",
    "build_pilot",
    "gc_tuned",
    "mark_orphans_failed",
    "process_started",
    "pseudonym_salt",
    "record_dict",
    "record_fingerprint",
    "redact_record",
    "run_experiment",
    "safe_session",
]

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]


@dataclass
class RunResult:
    run_id: str
    experiment: str
    tracking_uri: str
    scorecard: Scorecard
    metrics: list[Metric]
    audit_root: str
    sessions: int
    artifact_dir: Path | None
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "experiment": self.experiment,
            "tracking_uri": self.tracking_uri,
            "recommendation": self.scorecard.recommendation,
            "sessions": self.sessions,
            "audit_root": self.audit_root,
            "metrics": {metric_key(m): m.value for m in self.metrics if not m.is_missing},
            "criteria": {c.label: c.verdict for c in self.scorecard.criteria},
            "synthetic": self.scorecard.synthetic,
        }


def open_tracker(experiment: Experiment, tracking_uri: str | None) -> Tracker:
    """The store named by `--tracking-uri`, else the spec's (relative to the spec file), else the default."""
    spec_uri = spec_tracking_uri(experiment.spec.tracking.uri, experiment.base_dir)
    return Tracker(tracking_uri or spec_uri or resolve_tracking_uri())


def run_experiment(
    experiment: Experiment,
    *,
    tracking_uri: str | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    tracker: Tracker | None = None,
    resume: str | None = None,
    key: str | None = None,
) -> RunResult:
    """Run an already validated experiment end to end and store it in MLflow.

    Args:
        resume: the id of a FAILED or KILLED run of this same experiment (spec, data, seed) to
            finish: its whole sessions are kept, the audit log continues with a `run.resume` event and
            only the sessions not yet closed run.

    Raises:
        TrackingError: the store cannot be opened (before any run is created).
        SpecError: `resume` names a run that cannot be continued with this experiment.
        RunInterrupted: SIGINT/SIGTERM; the run is marked KILLED with what was recorded.
        SpecError: the signing key `key` (or the default one) cannot be loaded.
    """
    from civiclab.evidence.signing.seal import run_signer, seal_run
    from civiclab.evidence.signing.statement import now_utc

    spec = experiment.spec
    signer = run_signer(key)  # a missing key or passphrase fails before any run is created
    started = now_utc()
    tracker = tracker or open_tracker(experiment, tracking_uri)
    mark_orphans_failed(tracker)  # this command writes to the store anyway: close killed runs
    if spec.audit.anchor:
        from civiclab.evidence.anchoring import preflight

        preflight(spec.audit.anchor)  # an unreachable node fails before any run is created
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    tags = provenance_tags(experiment.base_dir)
    tags.update(
        {
            "civiclab.spec_sha256": experiment.digest,
            "civiclab.pilot": spec.pilot.kind,
            "civiclab.spec_file": experiment.path.name,
            **lifecycle.process_tags(),
            "civiclab.status": "running",
            "civiclab.executor": spec.executor.kind,
            KEY_ID_TAG: pseudonym_key_id(experiment.spec.privacy),
        }
    )
    params = flatten(strip_credentials_in(experiment.raw))  # no credentials of a URL in the store
    if resume is None:
        run_name = f"{spec.name}-seed{spec.population.seed}"
        run_id = tracker.start_run(spec.tracking.experiment or spec.name, run_name, params, tags)
        log.info("run %s opened in %s", run_id, tracker.uri)
    else:
        run_id = reopen(tracker, resume, experiment, tags)
        log.info("run %s reopened in %s to be resumed", run_id, tracker.uri)
    meter = EnergyMeter(spec.energy.country, enabled=spec.energy.tracker != "none")
    meter.start()
    local_dir = tracker.local_artifact_dir(run_id)
    staging = None if local_dir is not None else staging_dir(tracker, run_id, fetch=resume is not None)
    art_dir = local_dir or staging
    assert art_dir is not None
    workdir = Path(tempfile.mkdtemp(prefix="civiclab-work-"))
    status: EndStatus = "FAILED"
    pilot: Pilot[Any] | None = None
    journal: Journal | None = None
    watcher: AuditWatcher | None = None
    try:
        with lifecycle.Signals():
            recovered = recover(art_dir) if resume is not None else None
            kept = recovered.sessions if recovered else 0
            pilot = build_pilot(experiment, workdir)
            if workers > 1 and not pilot.parallel:
                log.info("pilot %r runs its sessions in one process (--workers ignored)", spec.pilot.kind)
            left = spec.population.sessions - kept
            if not in_pool(pilot, spec.executor.workers or workers, left, spec.executor.kind):
                # Sessions will run here (a pilot's plans may need its chain or models).
                timings["setup_s"] = pilot.ensure_setup()
            plans = session_plans(experiment, pilot, start=kept)
            journal = Journal(art_dir, spec.population.start, resume=recovered)
            if any(ev.info.name == "auditability" for ev in experiment.evaluators):
                watcher = AuditWatcher(art_dir / "audit.jsonl")  # re-verifies the audit log on another core
            meter.wait_started()
            if recovered is None:
                journal.open_run(
                    {
                        "experiment": spec.name,
                        "spec_sha256": experiment.digest,
                        "pilot": spec.pilot.kind,
                        "sessions": plans.total,
                        "seed": spec.population.seed,
                    }
                )
            else:
                journal.resume_run(resume_payload(recovered, experiment))
                log.info("resuming after %d sessions kept (%d events)", recovered.sessions, recovered.events)
            t_sessions = time.perf_counter()
            pilot_s = 0.0
            executor = executor_for(experiment, pilot, workers, left, workdir)
            with gc_tuned(), executor:
                for record in executor.run(plans.pending):
                    pilot_s += record.timings.get("pilot_s", 0.0)
                    journal.session(record)
                    if progress is not None:
                        progress(journal.closed, plans.total)
            journal.flush()
            timings["sessions_s"] = time.perf_counter() - t_sessions
            timings["pilot_s"] = pilot_s
            sessions = journal.closed
            records = RecordStream(art_dir / "sessions.jsonl", count=sessions)
            log.info("%d sessions recorded (%d failed)", sessions, journal.failed)

            reproducible, replay_setup_s = check_replay(pilot, plans, records)
            timings["setup_s"] = timings.get("setup_s", 0.0) + replay_setup_s
            # After a resume the meter saw only this process's sessions: per-session figures use those.
            energy = meter.stop().model_copy(update={"sessions": sessions - kept})
            audit = journal.close_run()
            log.info("audit chain closed: %d events, root %s", audit.events, audit.root)

            if pilot.results_need_setup:
                timings["setup_s"] = timings.get("setup_s", 0.0) + pilot.ensure_setup()
            t_eval = time.perf_counter()
            run = RunData.for_experiment(
                experiment,
                records=records,  # read back from sessions.jsonl at each pass, never all in memory
                artifact_dir=art_dir,
                energy=energy,
                audit=audit,
                tags=tags,
                facts=pilot.run_facts(),
                reproducible=reproducible,
                audit_check=watcher.result if watcher is not None else None,
            )
            run.artifacts.extend(pilot.run_artifacts(records, art_dir))
            metrics, errors = run_evaluators(run, experiment.evaluators)
            timings["evaluators_s"] = time.perf_counter() - t_eval
            for error in errors:
                log.info("evaluator error (recorded in the scorecard): %s", error)

            card = build_scorecard(
                experiment=spec.name,
                description=spec.description,
                criteria=spec.scorecard.criteria,
                metrics=metrics,
                run_id=run_id,
                spec_digest=experiment.digest,
                audit_root=audit.root,
                sessions=sessions,
                energy_method=f"{energy.method} — {energy.source}",
                evaluator_errors=errors,
            )
            artifacts.write_results(art_dir, experiment, metrics, card)
            t_sign = time.perf_counter()
            write_inputs(art_dir, experiment, run.facts)
            hashed: DigestCache = {}  # the statement's file digests, reused by the manifest
            seal = seal_run(
                art_dir,
                signer=signer,
                run_id=run_id,
                experiment=experiment,
                artifacts=artifact_digests(art_dir, hashed),
                metrics=metrics,
                params=params,
                tags={**tags, **artifacts.final_tags(card, energy, len(records))},
                audit_root=audit.root,
                audit_events=audit.events,
                sessions=len(records),
                scorecard=card,
                energy_method=energy.method,
                started=started,
            )
            timings["signing_s"] = time.perf_counter() - t_sign  # inputs, digests, statement, signature
            anchor = artifacts.anchor_statement(experiment, seal.digest, run_id)
            manifest_sha = artifacts.write_run_manifest(art_dir, experiment, run_id, audit, anchor, hashed)
            artifacts.store_results(
                tracker,
                run_id,
                metrics=metrics,
                card=card,
                audit=audit,
                energy=energy,
                manifest_sha=manifest_sha,
                sessions=sessions,
                anchor=anchor,
                staging=staging,
                signed={"civiclab.statement_sha256": seal.digest, "civiclab.signer": signer.keyid},
            )
            status = "FINISHED"
            timings["total_s"] = time.perf_counter() - t0
            return RunResult(
                run_id=run_id,
                experiment=spec.name,
                tracking_uri=tracker.uri,
                scorecard=card,
                metrics=metrics,
                audit_root=audit.root,
                sessions=sessions,
                artifact_dir=local_dir,
                timings=timings,
            )
    except KeyboardInterrupt as exc:  # RunInterrupted included
        status = "KILLED"
        lifecycle.salvage(tracker, run_id, staging, journal, f"interrupted: {exc}", status)
        raise RunInterrupted(f"run {run_id} interrupted; marked KILLED, records kept") from None
    except BaseException as exc:
        lifecycle.salvage(tracker, run_id, staging, journal, f"{type(exc).__name__}: {exc}", status)
        raise
    finally:
        if watcher is not None:
            watcher.stop()
        lifecycle.close_pilot(pilot)
        meter.abort()  # a no-op once the meter was stopped
        lifecycle.end_run(tracker, run_id, status)
        shutil.rmtree(workdir, ignore_errors=True)
        if staging is not None and status == "FINISHED":
            # A run that did not finish keeps its staging folder (and salvaged what it could to the
            # store) so that `--resume` can pick it up, even after a SIGKILL.
            shutil.rmtree(staging, ignore_errors=True)
