"""Executing session plans: the pilot is built once per process, sessions run on the spec's executor.

Plans are streamed (drawn as sessions run, never all listed unless the pilot lists its own) and
executed serially, in a process pool or on a Ray cluster (`civiclab.run.executors`), records coming
back in plan order. A crash inside one session becomes a `failed` record, never a lost run, and so
does a session past `executor.session_timeout_s` (stopped as `civiclab.run.deadline` says). The
first sessions are replayed after the run to check that the pilot is reproducible for a given seed.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from civiclab.errors import AuditError, HarnessFault
from civiclab.plugins.experiment import Experiment
from civiclab.plugins.gctune import gc_tuned as gc_tuned  # re-exported: the runner and benches import it here
from civiclab.plugins.piloting import Pilot
from civiclab.plugins.population import iter_plans
from civiclab.records import SessionPlan, SessionRecord, canonical_json
from civiclab.run.building import build_pilot
from civiclab.run.deadline import SessionTimedOut, session_deadline, timed_out
from civiclab.run.executors import Executor, make_executor
from civiclab.run.journal import redacted
from civiclab.store.schema import SESSIONS_FILE

log = logging.getLogger(__name__)

REPLAY_SESSIONS = 20


@dataclass
class Plans:
    """The plans still to run (from index `start`), how many the run has in all, and how to read
    them again from the first (for the replay) without having kept them."""

    pending: Iterable[SessionPlan]
    total: int
    again: Callable[[], Iterable[SessionPlan]]


def session_plans(experiment: Experiment, pilot: Pilot[Any], start: int = 0) -> Plans:
    """The pilot's own plans when it has them, else plans drawn lazily from the personas."""
    population = experiment.spec.population
    with gc_tuned():  # a pilot listing its plans (and walking them first) allocates as sessions do
        listed = pilot.plans(population.sessions, population.seed)
    if listed is not None:
        return Plans(listed[start:], len(listed), lambda: listed)

    def again() -> Iterator[SessionPlan]:
        return iter_plans(experiment.personas, population.sessions, population.seed)

    pending = iter_plans(experiment.personas, population.sessions, population.seed, start=start)
    return Plans(pending, population.sessions, again)


def safe_session(pilot: Pilot[Any], plan: SessionPlan, timeout_s: float | None = None) -> SessionRecord:
    """Run one session; a crash inside it, or a session still running after `timeout_s`, becomes a
    `failed` record, never a lost run. A `HarnessFault` (civiclab's own failure) is raised: the run stops."""
    started = time.perf_counter()
    try:
        with session_deadline(timeout_s):
            record = pilot.run_session(plan)
    except HarnessFault:
        raise  # civiclab's own failure: the run stops rather than blaming the pilot's system
    except SessionTimedOut as exc:
        log.info("session %s: %s; recorded as failed", plan.session_id, exc)
        record = _failed(plan, str(exc))
    except Exception as exc:
        log.debug("session %s failed in the pilot", plan.session_id, exc_info=True)
        record = _failed(plan, f"{type(exc).__name__}: {exc}")
    record.timings.setdefault("pilot_s", time.perf_counter() - started)
    return record


def _failed(plan: SessionPlan, error: str) -> SessionRecord:
    return SessionRecord(
        session_id=plan.session_id,
        persona_id=plan.persona_id,
        segment=plan.segment,
        outcome="failed",
        error=error,
    )


def session_runner(experiment: Experiment) -> functools.partial[SessionRecord]:
    """`safe_session` with the experiment's time limit: what every executor runs each plan with."""
    return functools.partial(safe_session, timeout_s=experiment.spec.executor.session_timeout_s)


def in_pool(pilot: Pilot[Any], workers: int, sessions: int, kind: str = "serial") -> bool:
    """Whether sessions run in other processes: the pilot allows it and there is enough to share.

    A pool only pays off with at least two plans per worker; on Ray the user asked for a cluster.
    """
    if not pilot.parallel:
        return False
    return kind == "ray" or (workers > 1 and sessions >= 2 * workers)


def executor_for(
    experiment: Experiment, pilot: Pilot[Any], workers: int, sessions: int, workdir: Path | None
) -> Executor:
    """The executor that runs this run's sessions: the spec's, with `--workers` as its default size.

    The parent's own pilot serves the serial executor; other executors build one per worker. On
    Ray the pilot's factory carries its data files and names the code to send to a joined cluster.
    """
    spec = experiment.spec.executor
    size = spec.workers or workers
    run_one = session_runner(experiment)
    if not in_pool(pilot, size, sessions, spec.kind):
        spec, workers = spec.model_copy(update={"kind": "serial", "workers": None}), 1
    elif spec.kind != "ray":
        log.info("running %d sessions in %d worker processes (batches of %d)", sessions, size, spec.batch)
    if spec.kind == "ray":
        from civiclab.run.shipping import PortablePilotFactory

        # A node of a cluster may have neither the checkout nor the data: both travel with the run.
        modules = ["civiclab", experiment.pilot.factory.__module__.split(".")[0]]
        ray_factory = PortablePilotFactory.of(experiment, workdir)
        return make_executor(
            spec, pilot=pilot, factory=ray_factory, run_one=run_one, workers=workers, modules=modules
        )
    factory = functools.partial(build_pilot, experiment, workdir)
    return make_executor(spec, pilot=pilot, factory=factory, run_one=run_one, workers=workers)


def record_fingerprint(record: SessionRecord) -> str:
    """What must be identical when a session is replayed: everything but wall-clock timings."""
    data = record.model_dump(mode="json", exclude={"timings"})
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


def check_replay(
    pilot: Pilot[Any], plans: Plans, records: Collection[SessionRecord], timeout_s: float | None = None
) -> tuple[bool | None, float]:
    """Replay the first sessions and compare them with the stored records (read back from disk).

    A session that was stopped by its time limit holds nothing of the pilot to compare, and would only
    cost the limit again: it is not replayed.

    Returns whether they matched (None: the pilot does not replay) and the seconds spent setting the
    pilot up in this process (when a pool ran the sessions, the parent was not set up yet).
    """
    if not pilot.replays() or not records:
        return None, 0.0
    setup_s = pilot.ensure_setup()
    first = list(itertools.islice(plans.again(), REPLAY_SESSIONS))
    stored = list(itertools.islice(iter(records), len(first)))
    pairs = [(plan, kept) for plan, kept in zip(first, stored, strict=False) if not timed_out(kept)]
    if not pairs:
        return None, setup_s
    same = [
        record_fingerprint(redacted(safe_session(pilot, plan, timeout_s))) == record_fingerprint(kept)
        for plan, kept in pairs
    ]
    if not all(same):
        log.warning("replay: %d of %d sessions differ from the recorded ones", same.count(False), len(same))
    return all(same), setup_s


def rederive_kept(
    experiment: Experiment,
    pilot: Pilot[Any],
    plans: Plans,
    stored: Iterable[SessionRecord],
    kept: int,
    *,
    workers: int,
    workdir: Path | None,
) -> int:
    """Run again, from their plans, the sessions a killed run kept, and compare them with the stored ones.

    For a replayable pilot a session follows from its plan and the seed: what was kept is checked
    against what the pilot gives, not only against the journal's MAC. Sessions stopped by their time
    limit hold nothing to compare and are not run again. Returns how many sessions were compared.

    Raises:
        AuditError: a stored session differs from what its plan gives (names the file and the line).
    """
    expected: deque[tuple[int, SessionRecord]] = deque()

    def to_run() -> Iterator[SessionPlan]:
        pairs = zip(itertools.islice(plans.again(), kept), stored, strict=False)
        for line, (plan, record) in enumerate(pairs, start=1):
            if not timed_out(record):
                expected.append((line, record))
                yield plan

    compared = 0
    with executor_for(experiment, pilot, workers, kept, workdir) as executor:
        for fresh in executor.run(to_run()):
            line, record = expected.popleft()
            if record_fingerprint(redacted(fresh)) != record_fingerprint(record):
                raise AuditError(
                    f"{SESSIONS_FILE}: line {line}: session {record.session_id} is not what its plan gives "
                    "(run again from the plan and the seed, the pilot records another session)"
                )
            compared += 1
    return compared
