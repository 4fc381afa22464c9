"""The runner: one experiment → one MLflow run with records, audit chain, metrics and scorecard."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from civiclab.audit import AuditWriter, ChainSummary
from civiclab.energy import EnergyMeter
from civiclab.errors import PilotError
from civiclab.evaluation import RunData, run_evaluators
from civiclab.experiment import Experiment
from civiclab.manifest import Manifest, artifact_digests, write_manifest
from civiclab.pilot import Pilot, PilotContext
from civiclab.population import sample_plans
from civiclab.provenance import provenance_tags
from civiclab.records import Metric, SessionPlan, SessionRecord, canonical_json
from civiclab.redaction import redact
from civiclab.scorecard import Scorecard, build_scorecard, to_markdown
from civiclab.signing.rerun import write_inputs
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


_worker_pilot: Pilot[Any] | None = None


def _init_worker(experiment: Experiment, workdir: Path | None) -> None:
    global _worker_pilot
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_pilot = build_pilot(experiment, workdir)
    _worker_pilot.setup()


def _run_in_worker(plan: SessionPlan) -> SessionRecord:
    assert _worker_pilot is not None
    return safe_session(_worker_pilot, plan)


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


def _sessions(
    experiment: Experiment, pilot: Pilot[Any], plans: list[SessionPlan], workers: int, workdir: Path | None
) -> Iterator[SessionRecord]:
    if workers <= 1 or len(plans) < 2 * workers:
        for plan in plans:
            yield safe_session(pilot, plan)
        return
    chunk = max(1, min(500, len(plans) // (workers * 8)))
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_init_worker, initargs=(experiment, workdir)
    ) as pool:
        yield from pool.map(_run_in_worker, plans, chunksize=chunk)


def run_experiment(
    experiment: Experiment,
    *,
    tracking_uri: str | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    tracker: Tracker | None = None,
    key: str | None = None,
) -> RunResult:
    """Run an already validated experiment end to end and store it in MLflow.

    Raises:
        TrackingError: the store cannot be opened (before any run is created).
        RunInterrupted: SIGINT/SIGTERM; the run is marked KILLED with what was recorded.
        SpecError: the signing key `key` (or the default one) cannot be loaded.
    """
    from civiclab.signing.seal import run_signer, seal_run
    from civiclab.signing.statement import now_utc

    spec = experiment.spec
    signer = run_signer(key)  # a missing passphrase fails before any run is created
    started = now_utc()
    tracker = tracker or Tracker(tracking_uri or spec.tracking.uri)
    if spec.audit.anchor:
        from civiclab.anchoring import preflight

        preflight(spec.audit.anchor)  # an unreachable node fails before any run is created
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    meter = EnergyMeter(spec.energy.country, enabled=spec.energy.tracker != "none")
    meter.start()

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
        }
    )
    run_name = f"{spec.name}-seed{spec.population.seed}"
    run_id = tracker.start_run(spec.tracking.experiment or spec.name, run_name, params, tags)
    local_dir = tracker.local_artifact_dir(run_id)
    staging = Path(tempfile.mkdtemp(prefix="civiclab-")) if local_dir is None else None
    art_dir = local_dir or staging
    assert art_dir is not None
    workdir = Path(tempfile.mkdtemp(prefix="civiclab-work-"))
    status = "FAILED"
    pilot: Pilot[Any] | None = None
    audit: AuditWriter | None = None
    try:
        with _Signals():
            pilot = build_pilot(experiment, workdir)
            t_setup = time.perf_counter()
            if workers <= 1:
                pilot.setup()
            timings["setup_s"] = time.perf_counter() - t_setup
            plans = pilot.plans(spec.population.sessions, spec.population.seed)
            if plans is None:
                plans = sample_plans(experiment.personas, spec.population.sessions, spec.population.seed)
            audit = AuditWriter(art_dir / "audit.jsonl")
            meter.wait_started()
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
                        "sessions": len(plans),
                        "seed": spec.population.seed,
                    },
                }
            )
            records: list[SessionRecord] = []
            t_sessions = time.perf_counter()
            pilot_s = 0.0
            last_flush = time.perf_counter()
            with gc_tuned(), (art_dir / "sessions.jsonl").open("w", encoding="utf-8") as sessions_out:
                for done, record in enumerate(_sessions(experiment, pilot, plans, workers, workdir), start=1):
                    pilot_s += record.timings.get("pilot_s", 0.0)
                    clean = record_dict(record)
                    changed = redact_record(clean)
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
                    records.append(SessionRecord.model_validate(clean) if changed else record)
                    if done % 1000 == 0 or time.perf_counter() - last_flush > 1.0:
                        # What a crash or a kill may cost: at most a second of sessions.
                        audit.flush()
                        sessions_out.flush()
                        last_flush = time.perf_counter()
                    if progress is not None:
                        progress(done, len(plans))
            timings["sessions_s"] = time.perf_counter() - t_sessions
            timings["pilot_s"] = pilot_s

            reproducible: bool | None = None
            if getattr(pilot, "replayable", True) and records:
                if workers > 1:
                    pilot.setup()
                replay = [safe_session(pilot, p) for p in plans[:REPLAY_SESSIONS]]
                reproducible = all(
                    record_fingerprint(_redacted(a)) == record_fingerprint(b)
                    for a, b in zip(replay, records, strict=False)
                )
            energy = meter.stop()
            audit.append(
                {
                    "session_id": "",
                    "seq": 1,
                    "ts": spec.population.start.isoformat().replace("+00:00", "Z"),
                    "kind": "run.close",
                    "actor": "civiclab",
                    "payload": {
                        "sessions": len(records),
                        "failed": sum(r.outcome == "failed" for r in records),
                    },
                }
            )
            audit.close()
            opened = closed = len(records)
            chain = ChainSummary(events=audit.seq, root=audit.root, opened=opened, closed=closed)

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
            write_inputs(art_dir, experiment, run.facts)
            final_tags = {
                "civiclab.recommendation": card.recommendation,
                "civiclab.energy_method": energy.method,
                "civiclab.energy_source": energy.source,
                "civiclab.status": "finished",
                "civiclab.sessions": str(len(records)),
            }
            seal = seal_run(
                art_dir,
                signer=signer,
                run_id=run_id,
                experiment=experiment,
                artifacts=artifact_digests(art_dir),
                metrics=metrics,
                params=params,
                tags={**tags, **final_tags},
                audit_root=chain.root,
                audit_events=chain.events,
                sessions=len(records),
                scorecard=card,
                energy_method=energy.method,
                started=started,
            )
            timings["signing_s"] = seal.seconds
            anchor = None
            if spec.audit.anchor:
                from civiclab.anchoring import anchor_statement

                # What is anchored is the signed statement: it covers the chain, artifacts and metrics.
                anchor = anchor_statement(spec.audit.anchor, seal.digest, run_id, experiment)
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
                    "civiclab.statement_sha256": seal.digest,
                    "civiclab.signer": signer.keyid,
                    **final_tags,
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
