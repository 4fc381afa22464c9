"""Executing session plans: the pilot is built once per process, sessions run serially or in a pool.

A crash inside one session becomes a `failed` record, never a lost run. The first sessions are
replayed after the run to check that the pilot is reproducible for a given seed.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from civiclab.errors import PilotError
from civiclab.experiment import Experiment
from civiclab.piloting import Pilot, PilotContext
from civiclab.population import sample_plans
from civiclab.pseudonyms import pseudonym_salt
from civiclab.records import SessionPlan, SessionRecord, canonical_json
from civiclab.run.journal import redacted

log = logging.getLogger(__name__)

REPLAY_SESSIONS = 20


def build_pilot(experiment: Experiment, workdir: Path | None = None) -> Pilot[Any]:
    """The experiment's pilot, built by its registered factory with the run's context.

    Raises:
        PilotError: the factory did not return a civiclab Pilot.
    """
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


def session_plans(experiment: Experiment, pilot: Pilot[Any]) -> list[SessionPlan]:
    """The pilot's own plans when it has them, else plans sampled from the personas."""
    population = experiment.spec.population
    plans = pilot.plans(population.sessions, population.seed)
    if plans is None:
        plans = sample_plans(experiment.personas, population.sessions, population.seed)
    return plans


def safe_session(pilot: Pilot[Any], plan: SessionPlan) -> SessionRecord:
    """Run one session; a crash inside it becomes a `failed` record, never a lost run."""
    started = time.perf_counter()
    try:
        record = pilot.run_session(plan)
    except Exception as exc:
        log.debug("session %s failed in the pilot", plan.session_id, exc_info=True)
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
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl+C for the whole run
    _worker_pilot = build_pilot(experiment, workdir)
    _worker_pilot.ensure_setup()


def _run_in_worker(plan: SessionPlan) -> SessionRecord:
    assert _worker_pilot is not None
    return safe_session(_worker_pilot, plan)


def in_pool(pilot: Pilot[Any], workers: int, sessions: int) -> bool:
    """Whether sessions run in worker processes: the pilot allows it and there is enough to share.

    A pool only pays off with at least two plans per worker.
    """
    return pilot.parallel and workers > 1 and sessions >= 2 * workers


def execute(
    experiment: Experiment, pilot: Pilot[Any], plans: list[SessionPlan], workers: int, workdir: Path | None
) -> Iterator[SessionRecord]:
    """The sessions' records in plan order, from this process or from a pool of `workers`."""
    if not in_pool(pilot, workers, len(plans)):
        pilot.ensure_setup()  # already done unless the plans turned out fewer than the spec's sessions
        for plan in plans:
            yield safe_session(pilot, plan)
        return
    chunk = max(1, min(500, len(plans) // (workers * 8)))
    log.info("running %d sessions in %d worker processes (chunks of %d)", len(plans), workers, chunk)
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_init_worker, initargs=(experiment, workdir)
    ) as pool:
        yield from pool.map(_run_in_worker, plans, chunksize=chunk)


def record_fingerprint(record: SessionRecord) -> str:
    """What must be identical when a session is replayed: everything but wall-clock timings."""
    data = record.model_dump(mode="json", exclude={"timings"})
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


def check_replay(
    pilot: Pilot[Any], plans: list[SessionPlan], records: list[SessionRecord]
) -> tuple[bool | None, float]:
    """Replay the first sessions and compare them with the stored records.

    Returns whether they matched (None: the pilot does not replay) and the seconds spent setting the
    pilot up in this process (when a pool ran the sessions, the parent was not set up yet).
    """
    if not pilot.replays() or not records:
        return None, 0.0
    setup_s = pilot.ensure_setup()
    replay = [safe_session(pilot, p) for p in plans[:REPLAY_SESSIONS]]
    same = [
        record_fingerprint(redacted(a)) == record_fingerprint(b)
        for a, b in zip(replay, records, strict=False)
    ]
    if not all(same):
        log.warning("replay: %d of %d sessions differ from the recorded ones", same.count(False), len(same))
    return all(same), setup_s


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
