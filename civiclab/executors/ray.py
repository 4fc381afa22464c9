"""Sessions on a Ray cluster: one actor per worker holds a set-up pilot and runs batches of plans.

Ray is imported only here, only when a run asks for it. With no address, a local cluster is started
for the run (no dashboard, no usage statistics) and stopped after it; with `address` (`auto`, or
`ray://HOST:PORT` for a remote cluster through Ray Client) the run joins an existing cluster.
Every node must be able to import civiclab, the pilot's package and read the experiment's data
files at the same paths (a shared folder, or the same checkout on each node).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from typing import Any

from civiclab.errors import PilotError
from civiclab.executors.base import Executor, OrderedBatches, PilotFactory, SessionRunner
from civiclab.records import SessionPlan, SessionRecord

log = logging.getLogger(__name__)


class _SessionWorker:
    """A Ray actor: builds and sets up its pilot once, then runs whatever batches it is sent."""

    def __init__(self, factory: PilotFactory, run_one: SessionRunner) -> None:
        self.pilot = factory()
        self.pilot.ensure_setup()
        self.run_one = run_one

    def run(self, plans: list[SessionPlan]) -> list[SessionRecord]:
        return [self.run_one(self.pilot, plan) for plan in plans]

    def close(self) -> None:
        self.pilot.close()


class RayExecutor(Executor):
    kind = "ray"

    def __init__(
        self,
        factory: PilotFactory,
        run_one: SessionRunner,
        *,
        address: str | None,
        workers: int | None,
        batch: int,
    ) -> None:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            import ray
        except ImportError:
            raise PilotError("executor 'ray' needs Ray: pip install 'civiclab[ray]' (ray==2.60.0)") from None
        self.ray = ray
        self.started_here = not ray.is_initialized()
        if self.started_here:
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address:
                ray.init(address=address, **options)
            else:  # a cluster of this machine only, reachable from this machine only
                ray.init(num_cpus=workers or os.cpu_count() or 1, _node_ip_address="127.0.0.1", **options)
        cpus = int(ray.cluster_resources().get("CPU", 1))
        count = max(1, workers or cpus)
        actor = ray.remote(num_cpus=1)(_SessionWorker)
        self.actors: list[Any] = [actor.remote(factory, run_one) for _ in range(count)]
        self.batch = batch
        log.info("ray executor: %d actors on a cluster of %d CPUs", count, cpus)

    def run(self, plans: Iterable[SessionPlan]) -> Iterator[SessionRecord]:
        turn = 0

        def submit(chunk: list[SessionPlan]) -> Any:
            nonlocal turn
            actor = self.actors[turn % len(self.actors)]
            turn += 1
            return actor.run.remote(chunk)

        # Two batches per actor: each has the next batch queued while the driver journals one.
        stream = OrderedBatches(submit, self.ray.get, batch=self.batch, in_flight=2 * len(self.actors))
        yield from stream.run(plans)

    def close(self) -> None:
        try:
            self.ray.get([a.close.remote() for a in self.actors], timeout=30)
        except Exception as exc:  # a dead actor has nothing left to close
            log.warning("ray executor: closing workers: %s", exc)
        for a in self.actors:
            self.ray.kill(a)
        if self.started_here:
            self.ray.shutdown()
