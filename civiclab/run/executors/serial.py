"""Sessions one after the other, in this process, on the parent's own pilot."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from civiclab.plugins.piloting import Pilot
from civiclab.records import SessionPlan, SessionRecord
from civiclab.run.deadline import session_clock
from civiclab.run.executors.base import Executor, SessionRunner


class SerialExecutor(Executor):
    kind = "serial"

    def __init__(self, pilot: Pilot[Any], run_one: SessionRunner) -> None:
        self.pilot, self.run_one = pilot, run_one

    def run(self, plans: Iterable[SessionPlan]) -> Iterator[SessionRecord]:
        self.pilot.ensure_setup()  # a no-op when the runner already set it up for `plans()`
        with session_clock():  # each session's time limit, on this process's main thread
            for plan in plans:
                yield self.run_one(self.pilot, plan)
