"""Sessions in a pool of worker processes on this machine, in batches, each worker set up once.

A worker that dies (killed by a user or by the system, out of memory) breaks the pool: the run stops,
is marked FAILED with the sessions journalled so far readable (`--resume` continues it), and says in
one line which session the dead worker was running. For that, each worker keeps the index of the plan
it is running in a slot of an array shared with the parent. The pool ends its other workers with
SIGTERM: they get back the default handler (a worker forked from the run's process would inherit the
handler that turns SIGTERM into `RunInterrupted`, and print a traceback of its own).
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from civiclab.errors import PilotError
from civiclab.plugins.piloting import Pilot
from civiclab.records import SessionPlan, SessionRecord
from civiclab.run.deadline import session_clock
from civiclab.run.executors.base import Executor, OrderedBatches, PilotFactory, SessionRunner

_worker_pilot: Pilot[Any] | None = None
_worker_run_one: SessionRunner | None = None
_running: Any = None  # the shared slots: the index + 1 of the plan each worker runs, 0 between sessions
_slot = 0


def _init_worker(
    factory: PilotFactory, run_one: SessionRunner, running: Any, pids: Any, claimed: Any
) -> None:
    global _worker_pilot, _worker_run_one, _running, _slot
    # The parent handles Ctrl-C and SIGTERM and marks the run KILLED; workers ignore Ctrl-C, die
    # quietly when the pool ends them, and keep their timer to themselves.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    with claimed.get_lock():
        _slot = claimed.value
        claimed.value += 1
    _running = running
    pids[_slot] = multiprocessing.current_process().pid or 0
    _worker_pilot = factory()
    _worker_pilot.ensure_setup()
    _worker_run_one = run_one


def _run_batch(plans: list[SessionPlan]) -> list[SessionRecord]:
    assert _worker_pilot is not None and _worker_run_one is not None
    pilot, run_one, running, slot = _worker_pilot, _worker_run_one, _running, _slot
    records = []
    pilot.upcoming(plans)
    with session_clock():
        for plan in plans:
            running[slot] = plan.index + 1
            records.append(run_one(pilot, plan))
        running[slot] = 0
    return records


class ProcessExecutor(Executor):
    kind = "process"

    def __init__(self, factory: PilotFactory, run_one: SessionRunner, *, workers: int, batch: int) -> None:
        self.workers, self.batch = workers, batch
        self.running = multiprocessing.RawArray("q", workers)
        self.pids = multiprocessing.RawArray("q", workers)
        claimed = multiprocessing.Value("i", 0)
        self.pool = ProcessPoolExecutor(
            max_workers=workers,
            initializer=_init_worker,
            initargs=(factory, run_one, self.running, self.pids, claimed),
        )

    def run(self, plans: Iterable[SessionPlan]) -> Iterator[SessionRecord]:
        in_flight: dict[Future[list[SessionRecord]], list[SessionPlan]] = {}

        def submit(chunk: list[SessionPlan]) -> Future[list[SessionRecord]]:
            future = self.pool.submit(_run_batch, chunk)
            in_flight[future] = chunk
            return future

        def collect(future: Future[list[SessionRecord]]) -> list[SessionRecord]:
            try:
                records = future.result()
            except BrokenProcessPool:
                raise PilotError(self._dead_worker(in_flight.values())) from None
            del in_flight[future]
            return records

        # Two batches per worker keep every worker busy while the parent journals the oldest.
        stream = OrderedBatches(submit, collect, batch=self.batch, in_flight=2 * self.workers)
        yield from stream.run(plans)

    def _dead_worker(self, chunks: Iterable[list[SessionPlan]]) -> str:
        """One line: which worker died, how, and the session it was running."""
        # The pool's table of its processes is the only place their exit codes are: read it before
        # `shutdown` drops it, once the pool has ended the other workers.
        processes: dict[int, Any] = dict(getattr(self.pool, "_processes", None) or {})
        self.pool.shutdown(wait=True, cancel_futures=True)
        sessions = {plan.index: plan.session_id for chunk in chunks for plan in chunk}
        running = {self.pids[i]: self.running[i] - 1 for i in range(self.workers) if self.pids[i]}
        ended = {pid: getattr(p, "exitcode", None) for pid, p in processes.items()}
        # The pool ends the workers still alive with SIGTERM: the dead one is the one that was not.
        dead = [pid for pid, code in ended.items() if code not in (None, -signal.SIGTERM)]
        if not dead:
            dead = [pid for pid, index in running.items() if index >= 0] or list(ended)
        return "; ".join(self._death(pid, ended.get(pid), running.get(pid, -1), sessions) for pid in dead)

    @staticmethod
    def _death(pid: int, code: int | None, index: int, sessions: dict[int, str]) -> str:
        died = f"worker process {pid} of the pool died{_how(code)}"
        if index < 0:
            return f"{died} between sessions"
        return f"{died} while running session {sessions.get(index, f'number {index}')}"

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def _how(code: int | None) -> str:
    """How a worker ended, from its exit code: ` (killed by SIGKILL)`, ` (exit 1)`, or nothing if unknown."""
    if code is None:
        return ""
    if code >= 0:
        return f" (exit {code})"
    try:
        return f" (killed by {signal.Signals(-code).name})"
    except ValueError:
        return f" (killed by signal {-code})"
