"""Choosing the executor a run asks for (the spec's `executor`, `--workers`, the pilot's lifecycle)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from civiclab.plugins.piloting import Pilot
from civiclab.run.executors.base import Executor, PilotFactory, SessionRunner
from civiclab.run.executors.serial import SerialExecutor
from civiclab.spec.experiment import ExecutorSpec


def make_executor(
    spec: ExecutorSpec,
    *,
    pilot: Pilot[Any],
    factory: PilotFactory,
    run_one: SessionRunner,
    workers: int = 1,
    modules: Sequence[str] = (),
) -> Executor:
    """The executor the spec asks for. `pilot` is the parent's own (used by the serial executor);
    `factory` builds one in each worker. A pilot that is not `parallel` always runs serially, and
    more than one worker (`executor.workers` or `--workers`) means a process pool unless Ray.
    `modules` name the top-level packages a Ray cluster joined by address is sent (the code the
    factory needs)."""
    kind = spec.kind if pilot.parallel else "serial"
    count = spec.workers or workers
    if kind == "ray":
        from civiclab.run.executors.ray import RayExecutor

        return RayExecutor(
            factory,
            run_one,
            address=spec.address,
            workers=spec.workers or (workers if workers > 1 else None),
            batch=spec.batch,
            modules=modules,
        )
    if count > 1:  # `--workers N` asks for a pool even when the spec says nothing
        from civiclab.run.executors.process import ProcessExecutor

        return ProcessExecutor(factory, run_one, workers=count, batch=spec.batch)
    return SerialExecutor(pilot, run_one)
