"""Where sessions run: one process, a process pool, or a Ray cluster, behind one interface.

Every executor takes an iterable of session plans and yields their records **in plan order**, with
a bounded number of plans in flight (backpressure: plans are drawn from the iterable only as
records come back), and sets the pilot up once per worker. The runner journals what comes out, so
the audit chain does not depend on where or in which order sessions actually ran.
"""

from __future__ import annotations

from civiclab.run.executors.base import Executor, PilotFactory, SessionRunner, batched
from civiclab.run.executors.factory import make_executor

__all__ = ["Executor", "PilotFactory", "SessionRunner", "batched", "make_executor"]
