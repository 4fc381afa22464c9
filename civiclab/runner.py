"""The runner: one experiment → one MLflow run with records, audit chain, metrics and scorecard."""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import itertools
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from civiclab.audit import AuditWriter, ChainSummary
from civiclab.energy import EnergyMeter
from civiclab.errors import PilotError
from civiclab.evaluation import RunData, run_evaluators
from civiclab.executors import make_executor
from civiclab.experiment import Experiment
from civiclab.manifest import Manifest, artifact_digests, write_manifest
from civiclab.piloting import Pilot, PilotContext
from civiclab.population import iter_plans
from civiclab.provenance import provenance_tags
from civiclab.records import Metric, SessionPlan, SessionRecord, canonical_json
from civiclab.redaction import redact
from civiclab.scorecard import Scorecard, build_scorecard, to_markdown
from civiclab.sessionlog import RecordStream
from civiclab.tracking import Tracker, flatten, metric_key

REPLAY_SESSIONS = 20
Progress = Callable[[int, int], None]


class RunInterrupted(KeyboardInterrupt):
    """The run was stopped by SIGINT or SIGTERM; it is marked KILLED.

    A KeyboardInterrupt, not an Exception, so that no `except Exception` in a pilot swallows it.
    """


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
        }


REDACTED_FIELDS = ("data", "steps", "error")


def record_dict(record: SessionRecord) -> dict[str, Any]:
    """A record as plain JSON-ready data: `model_dump(mode="json")` at a tenth of the cost.

    Records and events hold only JSON values (pilots build them from typed arguments), so their
    fields are copied directly; `canonical_json` stringifies anything else it meets.
    """
    out = dict(record.__dict__)
    out["events"] = [dict(e.__dict__) for e in record.events]
    return out


def redact_record(record: dict[str, Any]) -> bool:
    """Redact, in place, the parts of a dumped record that may hold what a citizen wrote or said.

    Ids, timestamps, kinds and actors are written by civiclab and pilots, never by citizens, so
    only event payloads, pilot data, steps and errors are scanned. Returns whether anything changed.
    """
    changed = False
    for event in record["events"]:
        payload = event.get("payload")
        if payload:
            clean = redact(payload)
            if clean != payload:
                event["payload"] = clean
                changed = True
    for name in REDACTED_FIELDS:
        value = record.get(name)
        if value:
            clean = redact(value)
            if clean != value:
                record[name] = clean
                changed = True
    return changed


def process_started(pid: int | None = None) -> str:
    """When a process started (to tell a live run from one whose process was killed), or ''."""
    try:
        import psutil

        return f"{psutil.Process(pid or os.getpid()).create_time():.2f}"
    except Exception:
        return ""


def mark_orphans_failed(tracker: Tracker) -> list[str]:
    """Mark FAILED the RUNNING runs of this machine whose process is gone (SIGKILL, power loss).

    A killed process cannot close its run; the next civiclab command that lists runs does.
    """
    import socket

    host = socket.gethostname()
    closed: list[str] = []
    for run in tracker.list_runs():
        tags = run.tags
        if run.status != "RUNNING" or tags.get("civiclab.host") != host or "civiclab.pid" not in tags:
            continue
        alive = process_started(int(tags["civiclab.pid"])) == tags.get("civiclab.pid_started", "?")
        if alive:
            continue
        tracker.set_tags(
            run.run_id,
            {
                "civiclab.status": "failed",
                "civiclab.error": "its process ended without closing the run (killed)",
            },
        )
        tracker.end_run(run.run_id, "FAILED")
        closed.append(run.run_id)
    return closed


def pseudonym_salt(experiment: Experiment) -> str:
    """The salt for pseudonymous ids: from the environment variable the spec names, else per experiment."""
    return (
        os.environ.get(experiment.spec.privacy.salt_env)
        or hashlib.sha256(f"civiclab:{experiment.spec.name}".encode()).hexdigest()
    )


def build_pilot(experiment: Experiment, workdir: Path | None = None) -> Pilot[Any]:
    spec = experiment.spec
    context = PilotContext(
        experiment=spec.name,
        base_dir=experiment.base_dir,
        seed=spec.population.seed,
        start=spec.population.start,
        personas=experiment.personas,
        k_anonymity=spec.privacy.k_anonymity,
        pseudonym_salt=pseudonym_salt(experiment),
        workdir=workdir,
    )
    pilot = experiment.pilot.factory(experiment.pilot_params, context)
    if not isinstance(pilot, Pilot):
        raise PilotError(f"pilot {spec.pilot.kind!r} did not build a civiclab Pilot")
    return pilot


def safe_session(pilot: Pilot[Any], plan: SessionPlan) -> SessionRecord:
    """Run one session; a crash inside it becomes a `failed` record, never a lost run."""
    started = time.perf_counter()
    try:
        record = pilot.run_session(plan)
    except Exception as exc:
        record = SessionRecord(
            session_id=plan.session_id,
            persona_id=plan.persona_id,
            segment=plan.segment,
            outcome="failed",
            error=f"{type(exc).__name__}: {exc}",
        )
    record.timings.setdefault("pilot_s", time.perf_counter() - started)
    return record


def _redacted(record: SessionRecord) -> SessionRecord:
    dumped = record.model_dump(mode="json")
    return SessionRecord.model_validate(dumped) if redact_record(dumped) else record


def record_fingerprint(record: SessionRecord) -> str:
    """What must be identical when a session is replayed: everything but wall-clock timings."""
    data = record.model_dump(mode="json", exclude={"timings"})
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


@contextlib.contextmanager
def gc_tuned() -> Iterator[None]:
    """Collect garbage less often while sessions run.

    A run keeps every record (hundreds of thousands of small objects) alive until the evaluators
    have read them, so the default thresholds make Python rescan them again and again: that cost
    a third of the time of a 10,000-session run. Records hold no reference cycles, so
    collecting rarely loses no memory; the model objects loaded at setup are frozen out of scans.
    """
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(200_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


class _Signals:
    """Turns SIGINT and SIGTERM into `RunInterrupted` while a run is open."""

    def __enter__(self) -> _Signals:
        self._old = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        for s in self._old:
            try:
                signal.signal(s, self._raise)
            except ValueError:  # not the main thread: leave signals alone
                pass
        return self

    def _raise(self, signum: int, frame: FrameType | None) -> None:
        raise RunInterrupted(f"run interrupted by {signal.Signals(signum).name}")

    def __exit__(self, *exc: object) -> None:
        for s, handler in self._old.items():
            try:
                signal.signal(s, handler)
            except ValueError:
                pass


def in_pool(pilot: Pilot[Any], workers: int, sessions: int, kind: str = "process") -> bool:
    """Whether sessions run in other processes: the pilot allows it and there is enough to share."""
    if not pilot.parallel:
        return False
    return kind == "ray" or (workers > 1 and sessions >= 2 * workers)


def _plans(
    experiment: Experiment, pilot: Pilot[Any], start: int = 0
) -> tuple[Iterable[SessionPlan], int, Callable[[], Iterable[SessionPlan]]]:
    """The run's plans from index `start` (streamed unless the pilot lists its own), how many there
    are in all, and how to get them again from the first (for the replay)."""
    spec = experiment.spec
    listed = pilot.plans(spec.population.sessions, spec.population.seed)
    if listed is not None:
        return listed[start:], len(listed), lambda: listed

    def again() -> Iterator[SessionPlan]:
        return iter_plans(experiment.personas, spec.population.sessions, spec.population.seed)

    plans = iter_plans(experiment.personas, spec.population.sessions, spec.population.seed, start=start)
    return plans, spec.population.sessions, again


def run_experiment(
    experiment: Experiment,
    *,
    tracking_uri: str | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    tracker: Tracker | None = None,
    resume: str | None = None,
) -> RunResult:
    """Run an already validated experiment end to end and store it in MLflow.

    Sessions run on the spec's executor (serial, process pool or Ray); their records are journalled
    in plan order and written to `sessions.jsonl` as they come, and evaluators read them back in
    streaming passes, so memory does not grow with the number of sessions.

    Args:
        resume: the id of a FAILED or KILLED run of this same experiment (spec, data, seed) to
            finish: its whole sessions are kept, the chain continues with a `run.resume` event and
            only the sessions not yet closed run.

    Raises:
        TrackingError: the store cannot be opened (before any run is created).
        SpecError: `resume` names a run that cannot be continued with this experiment.
        RunInterrupted: SIGINT/SIGTERM; the run is marked KILLED with what was recorded.
    """
    spec = experiment.spec
    tracker = tracker or Tracker(tracking_uri or spec.tracking.uri)
    if spec.audit.anchor:
        from civiclab.anchoring import preflight

        preflight(spec.audit.anchor)  # an unreachable node fails before any run is created
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    params = flatten(experiment.raw)
    tags = provenance_tags(experiment.base_dir)
    tags.update(
        {
            "civiclab.spec_sha256": experiment.digest,
            "civiclab.pilot": spec.pilot.kind,
            "civiclab.spec_file": experiment.path.name,
            "civiclab.pid": str(os.getpid()),
            "civiclab.pid_started": process_started(),
            "civiclab.status": "running",
            "civiclab.executor": spec.executor.kind,
        }
    )
    if resume is None:
        run_name = f"{spec.name}-seed{spec.population.seed}"
        run_id = tracker.start_run(spec.tracking.experiment or spec.name, run_name, params, tags)
    else:
        run_id = _reopen(tracker, resume, experiment, tags)
    meter = EnergyMeter(spec.energy.country, enabled=spec.energy.tracker != "none")
    meter.start()
    local_dir = tracker.local_artifact_dir(run_id)
    staging = None if local_dir is not None else _staging_dir(tracker, run_id, fetch=resume is not None)
    art_dir = local_dir or staging
    assert art_dir is not None
    workdir = Path(tempfile.mkdtemp(prefix="civiclab-work-"))
    status = "FAILED"
    pilot: Pilot[Any] | None = None
    audit: AuditWriter | None = None
    try:
        with _Signals():
            recovered = None
            if resume is not None:
                from civiclab.resume import recover

                recovered = recover(art_dir)
            kept = recovered.sessions if recovered else 0
            pilot = build_pilot(experiment, workdir)
            pooled = in_pool(
                pilot, spec.executor.workers or workers, spec.population.sessions - kept, spec.executor.kind
            )
            if not pooled:
                # Sessions will run here (a pilot's plans may need its chain or models).
                timings["setup_s"] = pilot.ensure_setup()
            plans, planned, plans_again = _plans(experiment, pilot, start=kept)
            audit = AuditWriter(art_dir / "audit.jsonl", resume=recovered is not None)
            meter.wait_started()
            if recovered is None:
                audit.append(
                    {
                        "session_id": "",
                        "seq": 0,
                        "ts": spec.population.start.isoformat().replace("+00:00", "Z"),
                        "kind": "run.open",
                        "actor": "civiclab",
                        "payload": {
                            "experiment": spec.name,
                            "spec_sha256": experiment.digest,
                            "pilot": spec.pilot.kind,
                            "sessions": planned,
                            "seed": spec.population.seed,
                        },
                    }
                )
            else:
                audit.append(
                    {
                        "session_id": "",
                        "seq": 2,
                        "ts": spec.population.start.isoformat().replace("+00:00", "Z"),
                        "kind": "run.resume",
                        "actor": "civiclab",
                        "payload": {
                            "spec_sha256": experiment.digest,
                            "seed": spec.population.seed,
                            "sessions_kept": recovered.sessions,
                            "events_kept": recovered.events,
                            "events_dropped": recovered.dropped_events,
                            "sessions_dropped": recovered.dropped_sessions,
                        },
                    }
                )
            done, failed = kept, recovered.failed if recovered else 0
            t_sessions = time.perf_counter()
            pilot_s = 0.0
            last_flush = time.perf_counter()
            factory = functools.partial(build_pilot, experiment, workdir)
            executor = make_executor(
                spec.executor
                if pooled
                else spec.executor.model_copy(update={"kind": "serial", "workers": None}),
                pilot=pilot,
                factory=factory,
                run_one=safe_session,
                workers=workers if pooled else 1,
            )
            mode = "a" if recovered is not None else "w"
            with (
                gc_tuned(),
                executor,
                (art_dir / "sessions.jsonl").open(mode, encoding="utf-8") as sessions_out,
            ):
                for record in executor.run(plans):
                    done += 1
                    pilot_s += record.timings.get("pilot_s", 0.0)
                    failed += record.outcome == "failed"
                    clean = record_dict(record)
                    redact_record(clean)
                    events = clean["events"]
                    first_ts = events[0]["ts"] if events else ""
                    last_ts = events[-1]["ts"] if events else first_ts
                    audit.append(
                        {
                            "session_id": record.session_id,
                            "seq": -1,
                            "ts": first_ts,
                            "kind": "session.open",
                            "actor": "civiclab",
                            "payload": {"persona": record.persona_id},
                        }
                    )
                    for event in events:
                        audit.append(event)
                    audit.append(
                        {
                            "session_id": record.session_id,
                            "seq": len(events),
                            "ts": last_ts,
                            "kind": "session.close",
                            "actor": "civiclab",
                            "payload": {"outcome": record.outcome, "error": clean.get("error")},
                        }
                    )
                    sessions_out.write(canonical_json(clean) + "\n")
                    if done % 1000 == 0 or time.perf_counter() - last_flush > 1.0:
                        # What a crash or a kill may cost: at most a second of sessions.
                        audit.flush()
                        sessions_out.flush()
                        last_flush = time.perf_counter()
                    if progress is not None:
                        progress(done, planned)
            timings["sessions_s"] = time.perf_counter() - t_sessions
            timings["pilot_s"] = pilot_s
            records = RecordStream(art_dir / "sessions.jsonl", count=done)

            reproducible: bool | None = None
            if pilot.replays() and done:
                timings["setup_s"] = timings.get("setup_s", 0.0) + pilot.ensure_setup()
                first = list(itertools.islice(plans_again(), REPLAY_SESSIONS))
                replay = [safe_session(pilot, p) for p in first]
                reproducible = all(
                    record_fingerprint(_redacted(a)) == record_fingerprint(b)
                    for a, b in zip(replay, records.head(len(first)), strict=False)
                )
            energy = meter.stop()
            audit.append(
                {
                    "session_id": "",
                    "seq": 1,
                    "ts": spec.population.start.isoformat().replace("+00:00", "Z"),
                    "kind": "run.close",
                    "actor": "civiclab",
                    "payload": {"sessions": done, "failed": failed},
                }
            )
            audit.close()
            chain = ChainSummary(events=audit.seq, root=audit.root, opened=done, closed=done)

            if pilot.results_need_setup:
                timings["setup_s"] = timings.get("setup_s", 0.0) + pilot.ensure_setup()
            t_eval = time.perf_counter()
            run = RunData(
                experiment=experiment,
                records=records,
                artifact_dir=art_dir,
                energy=energy,
                chain=chain,
                tags=tags,
                facts=pilot.run_facts(),
                reproducible=reproducible,
            )
            run.artifacts.extend(pilot.run_artifacts(records, art_dir))
            metrics, errors = run_evaluators(run, experiment.evaluators)
            timings["evaluators_s"] = time.perf_counter() - t_eval

            card = build_scorecard(
                experiment=spec.name,
                description=spec.description,
                criteria=spec.scorecard.criteria,
                metrics=metrics,
                run_id=run_id,
                spec_digest=experiment.digest,
                audit_root=chain.root,
                sessions=len(records),
                energy_method=f"{energy.method} — {energy.source}",
                evaluator_errors=errors,
            )
            (art_dir / "metrics.json").write_text(
                json.dumps([m.model_dump(mode="json") for m in metrics], indent=1)
            )
            (art_dir / "scorecard.json").write_text(card.model_dump_json(indent=2))
            (art_dir / "scorecard.md").write_text(to_markdown(card), encoding="utf-8")
            (art_dir / "spec.yaml").write_bytes(experiment.path.read_bytes())
            anchor = None
            if spec.audit.anchor:
                from civiclab.anchoring import anchor_audit_root

                anchor = anchor_audit_root(spec.audit.anchor, chain.root, run_id, experiment)
            manifest = Manifest(
                run_id=run_id,
                experiment=spec.name,
                spec_digest=experiment.digest,
                audit_root=chain.root,
                audit_events=chain.events,
                artifacts=artifact_digests(art_dir),
                data_files=experiment.data_files,
                anchor=anchor,
            )
            manifest_sha = write_manifest(art_dir, manifest)
            tracker.log_metrics(run_id, metrics)
            tracker.set_tags(
                run_id,
                {
                    "civiclab.audit_root": chain.root,
                    "civiclab.manifest_sha256": manifest_sha,
                    "civiclab.recommendation": card.recommendation,
                    "civiclab.energy_method": energy.method,
                    "civiclab.energy_source": energy.source,
                    "civiclab.status": "finished",
                    "civiclab.sessions": str(len(records)),
                    **({"civiclab.anchor_tx": str(anchor.get("tx_hash"))} if anchor else {}),
                },
            )
            if staging is not None:
                tracker.log_artifacts(run_id, staging)
            status = "FINISHED"
            timings["total_s"] = time.perf_counter() - t0
            return RunResult(
                run_id=run_id,
                experiment=spec.name,
                tracking_uri=tracker.uri,
                scorecard=card,
                metrics=metrics,
                audit_root=chain.root,
                sessions=len(records),
                artifact_dir=local_dir,
                timings=timings,
            )
    except (RunInterrupted, KeyboardInterrupt) as exc:
        status = "KILLED"
        _salvage(tracker, run_id, staging, audit, f"interrupted: {exc}")
        raise RunInterrupted(f"run {run_id} interrupted; marked KILLED, records kept") from None
    except BaseException as exc:
        _salvage(tracker, run_id, staging, audit, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        if pilot is not None:
            try:
                pilot.close()
            except Exception:
                pass
        if meter._thread is not None and meter._tracker is not None and status != "FINISHED":
            try:
                meter._tracker.stop()
            except Exception:
                pass
        try:
            tracker.end_run(run_id, status)
        except Exception:
            pass
        shutil.rmtree(workdir, ignore_errors=True)
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _reopen(tracker: Tracker, run_id: str, experiment: Experiment, tags: dict[str, str]) -> str:
    """Check that `run_id` may be resumed with this experiment and mark it running again.

    Raises:
        SpecError: the run finished, or was made with another spec, data or seed.
    """
    from civiclab.resume import check_resumable

    mark_orphans_failed(tracker)  # a killed run still says RUNNING until someone notices
    run = tracker.get_run(run_id)
    check_resumable(
        run_id, run.status, run.tags, run.params, experiment.digest, experiment.spec.population.seed
    )
    resumed = int(run.tags.get("civiclab.resumed", "0")) + 1
    tracker.reopen_run(run_id)
    tracker.set_tags(run_id, {**tags, "civiclab.resumed": str(resumed), "civiclab.error": ""})
    return run_id


def _staging_dir(tracker: Tracker, run_id: str, *, fetch: bool) -> Path:
    """Where a run on a remote store keeps its files until they are logged: a fixed place per run,
    so that a run killed with SIGKILL can be resumed from what it wrote; when resuming and the
    folder is gone, what was salvaged to the store is downloaded."""
    root = Path(os.environ.get("CIVICLAB_STAGING_DIR") or tempfile.gettempdir())
    staging = root / f"civiclab-run-{run_id}"
    if fetch and not (staging / "audit.jsonl").exists():
        shutil.rmtree(staging, ignore_errors=True)
        fetched = tracker.download(run_id, root / f"civiclab-fetch-{run_id}")
        shutil.move(str(fetched), staging)
    staging.mkdir(parents=True, exist_ok=True)
    return staging


def _salvage(
    tracker: Tracker, run_id: str, staging: Path | None, audit: AuditWriter | None, why: str
) -> None:
    """Keep what was recorded readable (flushed chain, partial sessions) and say why the run stopped."""
    try:
        if audit is not None:
            audit.close()
        tracker.set_tags(run_id, {"civiclab.status": "failed", "civiclab.error": why[:4000]})
        if staging is not None and any(staging.iterdir()):
            tracker.log_artifacts(run_id, staging)
    except Exception:
        pass
