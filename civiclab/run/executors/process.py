"""Sessions in a pool of worker processes on this machine, in batches, each worker set up once."""

from __future__ import annotations

import signal
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from civiclab.plugins.piloting import Pilot
from civiclab.records import SessionPlan, SessionRecord
from civiclab.run.executors.base import Executor, OrderedBatches, PilotFactory, SessionRunner

_worker_pilot: Pilot[Any] | None = None
_worker_run_one: SessionRunner | None = None


def _init_worker(factory: PilotFactory, run_one: SessionRunner) -> None:
    global _worker_pilot, _worker_run_one
    # The parent handles Ctrl-C and marks the run KILLED; workers just stop with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_pilot = factory()
    _worker_pilot.ensure_setup()
    _worker_run_one = run_one


def _run_batch(plans: list[SessionPlan]) -> list[SessionRecord]:
    assert _worker_pilot is not None and _worker_run_one is not None
    return [_worker_run_one(_worker_pilot, plan) for plan in plans]


class ProcessExecutor(Executor):
    kind = "process"

    def __init__(self, factory: PilotFactory, run_one: SessionRunner, *, workers: int, batch: int) -> None:
        self.workers, self.batch = workers, batch
        self.pool = ProcessPoolExecutor(
            max_workers=workers, initializer=_init_worker, initargs=(factory, run_one)
        )

    def run(self, plans: Iterable[SessionPlan]) -> Iterator[SessionRecord]:
        def submit(chunk: list[SessionPlan]) -> Future[list[SessionRecord]]:
            return self.pool.submit(_run_batch, chunk)

        # Two batches per worker keep every worker busy while the parent journals the oldest.
        stream = OrderedBatches(submit, Future.result, batch=self.batch, in_flight=2 * self.workers)
        yield from stream.run(plans)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
