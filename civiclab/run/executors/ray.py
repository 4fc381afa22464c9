"""Sessions on a Ray cluster: one actor per worker holds a set-up pilot and runs batches of plans.

Ray is imported only here, only when a run asks for it. With no address, a local cluster is started
for the run (no dashboard, no usage statistics) and stopped after it; with `address` (`auto`,
`HOST:PORT`, or `ray://HOST:PORT` for a remote cluster through Ray Client) the run joins an existing
cluster, and civiclab ships the code workers need as Ray `py_modules` (civiclab and the pilot's
package, given as `modules`): nodes need Python, Ray and the libraries the pilot imports, not the
checkout. The pilot's data files travel inside the factory (`civiclab.run.shipping`).

A worker that cannot build its pilot (a module or a file its node lacks) stops the run with one
line naming the node and what is missing, not a Ray traceback.
"""

from __future__ import annotations

import importlib
import logging
import os
import pickle
import re
import socket
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from civiclab.errors import PilotError
from civiclab.records import SessionPlan, SessionRecord
from civiclab.run.deadline import session_clock
from civiclab.run.executors.base import Executor, OrderedBatches, PilotFactory, SessionRunner

log = logging.getLogger(__name__)


def _node() -> str:
    import ray

    return f"{socket.gethostname()} ({ray.util.get_node_ip_address()})"


class _SessionWorker:
    """A Ray actor: builds and sets up its pilot once, then runs whatever batches it is sent.

    The factory arrives pickled and is unpickled here, so that a module this node lacks is caught
    and reported by `ready` like any other failure to build the pilot.
    """

    def __init__(self, factory: bytes, run_one: SessionRunner) -> None:
        self.run_one = run_one
        self.problem: str | None = None
        try:
            built: PilotFactory = pickle.loads(factory)
            self.pilot = built()
            self.pilot.ensure_setup()
        except Exception as exc:  # reported by `ready`, which the driver calls before any session
            log.debug("building the pilot failed", exc_info=True)
            self.problem = _one_line(exc)

    def ready(self) -> tuple[str, str | None]:
        return _node(), self.problem

    def run(self, plans: list[SessionPlan]) -> list[SessionRecord]:
        # An actor's methods run on its process's main thread: each session's time limit holds here.
        self.pilot.upcoming(plans)
        with session_clock():
            return [self.run_one(self.pilot, plan) for plan in plans]

    def close(self) -> None:
        if self.problem is None:
            self.pilot.close()


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"file not found: {exc.filename}"
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return f"no module named {exc.name!r}"
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _ray_failure(exc: BaseException) -> str:
    """The line that matters in a Ray error (an actor that died before its constructor ran)."""
    text = str(exc)
    missing = re.search(r"No module named '([^']+)'", text)
    if missing:
        return f"no module named {missing.group(1)!r}"
    lines = [line.strip() for line in text.splitlines() if re.match(r"\s*\w+(Error|Exception): ", line)]
    if lines:
        return lines[-1]
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def _connect_failure(exc: BaseException) -> str:
    """Why joining failed, with the fix for the case users meet first: a cluster asking for a token."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if os.environ.get("RAY_AUTH_MODE", "").lower() != "token":
        reason += " (a cluster with token authentication needs RAY_AUTH_MODE=token and its RAY_AUTH_TOKEN)"
    return reason


def code_to_ship(modules: Sequence[str]) -> list[str]:
    """Where the named top-level modules live here (a package's folder or a module's file), as Ray
    `py_modules` takes them: paths, since Ray Client sends the runtime environment pickled."""
    places: list[str] = []
    for name in dict.fromkeys(modules):
        module = importlib.import_module(name)
        folders = list(getattr(module, "__path__", []))
        if len(folders) > 1:
            raise PilotError(
                f"cannot send {name!r} to the Ray cluster: a namespace package spread over {folders}"
            )
        places.append(folders[0] if folders else str(module.__file__))
    return places


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
        modules: Sequence[str] = (),
    ) -> None:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            import ray
        except ImportError:
            raise PilotError("executor 'ray' needs Ray: pip install 'civiclab[ray]' (ray==2.60.0)") from None
        self.ray = ray
        self.actors: list[Any] = []
        self.started_here = not ray.is_initialized()
        if self.started_here:
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address:
                # Another machine's cluster: send the code, never assume the checkout is there. An
                # empty working_dir stops Ray from putting the driver's current folder first on the
                # workers' path, where a node's own (older) checkout would shadow the code sent.
                empty = tempfile.mkdtemp(prefix="civiclab-ray-")
                env = {
                    "py_modules": code_to_ship(modules),
                    "working_dir": empty,
                    "excludes": ["__pycache__", "*.pyc"],
                }
                try:
                    ray.init(address=address, runtime_env=env if modules else None, **options)
                except (ConnectionError, ray.exceptions.AuthenticationError) as exc:
                    raise PilotError(
                        f"ray cluster {address}: cannot connect: {_connect_failure(exc)}"
                    ) from None
                finally:
                    os.rmdir(empty)  # uploaded by ray.init
            else:  # a cluster of this machine only, reachable from this machine only
                ray.init(num_cpus=workers or os.cpu_count() or 1, _node_ip_address="127.0.0.1", **options)
        try:
            cpus = int(ray.cluster_resources().get("CPU", 1))
            count = max(1, workers or cpus)
            actor = ray.remote(num_cpus=1)(_SessionWorker)
            # One copy of the factory (and the data it carries) in the object store, not one per actor.
            shipped = ray.put(ray.cloudpickle.dumps(factory))
            self.actors = [actor.remote(shipped, run_one) for _ in range(count)]
            self._check_ready()
        except BaseException:
            self.close()
            raise
        self.batch = batch
        log.info("ray executor: %d actors on a cluster of %d CPUs", count, cpus)

    def _check_ready(self) -> None:
        """Wait until every actor has built its pilot; the first that could not stops the run."""
        try:
            answers = self.ray.get([a.ready.remote() for a in self.actors])
        except self.ray.exceptions.RayError as exc:
            raise PilotError(f"ray worker cannot start: {_ray_failure(exc)}") from None
        for node, problem in answers:
            if problem is not None:
                raise PilotError(f"ray worker on node {node} cannot build the pilot: {problem}")

    def run(self, plans: Iterable[SessionPlan]) -> Iterator[SessionRecord]:
        turn = 0

        def submit(chunk: list[SessionPlan]) -> Any:
            nonlocal turn
            actor = self.actors[turn % len(self.actors)]
            turn += 1
            return actor.run.remote(chunk)

        def collect(batch: Any) -> list[SessionRecord]:
            try:
                records: list[SessionRecord] = self.ray.get(batch)
            except self.ray.exceptions.RayError as exc:  # a node lost mid-run: the run is FAILED
                raise PilotError(f"ray worker lost during the run: {_ray_failure(exc)}") from None
            return records

        # Two batches per actor: each has the next batch queued while the driver journals one.
        stream = OrderedBatches(submit, collect, batch=self.batch, in_flight=2 * len(self.actors))
        yield from stream.run(plans)

    def close(self) -> None:
        if not self.actors:
            self._shutdown()
            return
        try:
            self.ray.get([a.close.remote() for a in self.actors], timeout=30)
        except Exception as exc:  # a dead actor has nothing left to close
            log.warning("ray executor: closing workers: %s", exc)
        for a in self.actors:
            self.ray.kill(a)
        self.actors = []
        self._shutdown()

    def _shutdown(self) -> None:
        if self.started_here and self.ray.is_initialized():
            self.ray.shutdown()
