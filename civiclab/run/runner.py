"""The runner: one experiment → one MLflow run with records, audit chain, metrics and scorecard.

`run_experiment` is the order of the steps; each step lives in `civiclab.run`:
recording (pilot, journal, meter: the sessions up to the closed chain), sessions (plans, execution,
replay), journal (audit chain + sessions file, redacted), lifecycle (signals, salvage, orphans),
artifacts (results, signed statement, manifest, tags) and resume (finishing a killed run). The run in
the store travels as one `StoredRun`. Records are never kept: they go to `sessions.jsonl` as they
come, and evaluators read them back in streaming passes, so memory does not grow with the sessions.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from civiclab.plugins.evaluation import RunData, run_evaluators
from civiclab.plugins.experiment import Experiment
from civiclab.privacy.credentials import strip_credentials_in
from civiclab.privacy.pseudonyms import pseudonym_key_id, pseudonym_salt
from civiclab.privacy.spec_text import redact_free_text
from civiclab.records import Metric
from civiclab.run import artifacts, lifecycle
from civiclab.run.energy import warm_up as warm_up_energy_meter
from civiclab.run.journal import record_dict, redact_record
from civiclab.run.lifecycle import EndStatus, RunInterrupted, mark_orphans_failed, process_started
from civiclab.run.provenance import provenance_tags
from civiclab.run.recording import Recorded, Recording
from civiclab.run.resume import reopen
from civiclab.run.sessions import REPLAY_SESSIONS, build_pilot, gc_tuned, record_fingerprint, safe_session
from civiclab.run.tracing import RunTracer
from civiclab.scoring.scorecard import Scorecard, build_scorecard
from civiclab.store.schema import (
    EXECUTOR_TAG,
    FAILED,
    FINISHED,
    KILLED,
    PILOT_TAG,
    PSEUDONYM_KEY_ID_TAG,
    RUNNING,
    SPEC_FILE_TAG,
    SPEC_SHA256_TAG,
)
from civiclab.store.status import status_tag
from civiclab.store.stored_run import StoredRun
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
    figures: artifacts.Figures | None = None,
) -> RunResult:
    """Run an already validated experiment end to end and store it in MLflow.

    Args:
        figures: draws figures (the report's plots, for `civiclab run`) into the run's folder
            before it is signed, so that what shows the run later reads signed files.
        resume: the id of a FAILED or KILLED run of this same experiment (spec, data, seed) to
            finish: its whole sessions are kept, the audit log continues with a `run.resume` event and
            only the sessions not yet closed run.

    Raises:
        TrackingError: the store cannot be opened (before any run is created).
        SpecError: `resume` names a run that cannot be continued with this experiment.
        RunInterrupted: SIGINT/SIGTERM; the run is marked KILLED with what was recorded.
        SpecError: the signing key `key` (or the default one) cannot be loaded.
    """
    from civiclab.evidence.signing.seal import run_signer
    from civiclab.evidence.signing.statement import now_utc

    signer = run_signer(key)  # a missing key or passphrase fails before any run is created
    if experiment.spec.energy.tracker != "none":
        warm_up_energy_meter()  # codecarbon loads while the store is opened, not before the sessions
    started = now_utc()
    tracker = tracker or open_tracker(experiment, tracking_uri)
    mark_orphans_failed(tracker)  # this command writes to the store anyway: close killed runs
    _preflight_anchor(experiment)  # an unreachable node fails before any run is created
    t0 = time.perf_counter()
    tags = opening_tags(experiment)
    # No credentials of a URL, nor personal data written in the spec's free text, in the store.
    params = flatten(strip_credentials_in(redact_free_text(experiment.raw)))
    run = _open_run(tracker, experiment, params, tags, resume)
    recording = Recording(experiment, run, workers, tags)
    status: EndStatus = FAILED
    try:
        with lifecycle.Signals():
            recorded = recording.record(resuming=resume is not None, progress=progress)
            tracer = (
                RunTracer.start(run, recording.pilot, recorded.records)
                if experiment.spec.tracking.traces and recording.pilot is not None
                else None
            )
            data, metrics, card = _evaluate(experiment, run, recording, recorded, tags)
            if tracer is not None:
                # Before the statement is signed: `traces.json` is one of the files it covers.
                recording.timings.update(tracer.finish(data.feedback))
            artifacts.seal_and_store(
                run,
                experiment,
                signer=signer,
                started=started,
                params=params,
                tags=tags,
                metrics=metrics,
                card=card,
                recorded=recorded,
                facts=data.facts,
                timings=recording.timings,
                names=run_names(experiment),
                figures=figures,
            )
            status = FINISHED
            recording.timings["total_s"] = time.perf_counter() - t0
            return RunResult(
                run_id=run.run_id,
                experiment=experiment.spec.name,
                tracking_uri=tracker.uri,
                scorecard=card,
                metrics=metrics,
                audit_root=recorded.audit.root,
                sessions=recorded.sessions,
                artifact_dir=run.local_folder,
                timings=recording.timings,
            )
    except KeyboardInterrupt as exc:  # RunInterrupted included
        status = KILLED
        lifecycle.salvage(run, recording.journal, f"interrupted: {exc}", status)
        raise RunInterrupted(f"run {run.run_id} interrupted; marked KILLED, records kept") from None
    except BaseException as exc:
        lifecycle.salvage(run, recording.journal, f"{type(exc).__name__}: {exc}", status)
        raise
    finally:
        recording.close()
        run.end(status)  # a run that did not finish keeps its staging folder, for `--resume`


def _preflight_anchor(experiment: Experiment) -> None:
    anchor = experiment.spec.audit.anchor
    if anchor:
        from civiclab.evidence.anchoring import preflight

        preflight(anchor)


def opening_tags(experiment: Experiment) -> dict[str, str]:
    """The tags a run opens with: provenance, what experiment it carries out, its process and status."""
    spec = experiment.spec
    tags = provenance_tags(experiment.base_dir)
    tags.update(
        {
            SPEC_SHA256_TAG: experiment.digest,
            PILOT_TAG: spec.pilot.kind,
            SPEC_FILE_TAG: experiment.path.name,
            **lifecycle.process_tags(),
            **status_tag(RUNNING),
            EXECUTOR_TAG: spec.executor.kind,
            PSEUDONYM_KEY_ID_TAG: pseudonym_key_id(experiment.spec.privacy),
        }
    )
    return tags


def run_names(experiment: Experiment) -> tuple[str, str]:
    """The MLflow experiment a run of `experiment` is filed under, and the run's name (both signed)."""
    spec = experiment.spec
    return spec.tracking.experiment or spec.name, f"{spec.name}-seed{spec.population.seed}"


def _open_run(
    tracker: Tracker, experiment: Experiment, params: dict[str, str], tags: dict[str, str], resume: str | None
) -> StoredRun:
    """A new run of the experiment, or the run `resume` names, checked and reopened."""
    if resume is not None:
        run = reopen(tracker, resume, experiment, tags)
        log.info("run %s reopened in %s to be resumed", run.run_id, tracker.uri)
        return run
    tracking_experiment, run_name = run_names(experiment)
    run = StoredRun.open(tracker, tracking_experiment, run_name, params, tags)
    log.info("run %s opened in %s", run.run_id, tracker.uri)
    return run


def _evaluate(
    experiment: Experiment, run: StoredRun, recording: Recording, recorded: Recorded, tags: dict[str, str]
) -> tuple[RunData, list[Metric], Scorecard]:
    """The evaluators' metrics over the recorded sessions, and the scorecard they make."""
    pilot, timings = recording.pilot, recording.timings
    assert pilot is not None
    if pilot.results_need_setup:
        timings["setup_s"] = timings.get("setup_s", 0.0) + pilot.ensure_setup()
    t_eval = time.perf_counter()
    data = RunData.for_experiment(
        experiment,
        records=recorded.records,  # read back from sessions.jsonl at each pass, never all in memory
        artifact_dir=run.folder,
        energy=recorded.energy,
        audit=recorded.audit,
        tags=tags,
        facts=pilot.run_facts(),
        reproducible=recorded.reproducible,
        audit_check=recording.watcher.result if recording.watcher is not None else None,
    )
    data.artifacts.extend(pilot.run_artifacts(recorded.records, run.folder))
    metrics, errors = run_evaluators(data, experiment.evaluators)
    timings["evaluators_s"] = time.perf_counter() - t_eval
    for error in errors:
        log.info("evaluator error (recorded in the scorecard): %s", error)
    spec, energy = experiment.spec, recorded.energy
    card = build_scorecard(
        experiment=spec.name,
        description=str(redact_free_text(experiment.raw).get("description", spec.description)),
        criteria=spec.scorecard.criteria,
        metrics=metrics,
        run_id=run.run_id,
        spec_digest=experiment.digest,
        audit_root=recorded.audit.root,
        sessions=recorded.sessions,
        energy_method=f"{energy.method} — {energy.source}",
        evaluator_errors=errors,
    )
    return data, metrics, card
