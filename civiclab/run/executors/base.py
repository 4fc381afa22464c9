"""The executor interface and what every executor shares (batching, ordered bounded streaming)."""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from civiclab.records import SessionPlan, SessionRecord

if TYPE_CHECKING:
    from civiclab.plugins.piloting import Pilot

PilotFactory = Callable[[], "Pilot[Any]"]
"""Builds a pilot in a worker; must be picklable (a module-level function or a functools.partial)."""

SessionRunner = Callable[["Pilot[Any]", SessionPlan], SessionRecord]
"""Runs one session on a set-up pilot and never raises (a crash becomes a `failed` record)."""

Handle = TypeVar("Handle")


def batched(plans: Iterable[SessionPlan], size: int) -> Iterator[list[SessionPlan]]:
    """Plans in lists of `size`, drawn lazily so that a ten-million-session run never lists them all."""
    it = iter(plans)
    while batch := list(itertools.islice(it, size)):
        yield batch


class Executor(ABC):
    """Runs session plans somewhere and yields their records in plan order.

    Use as a context manager: workers start on entry and stop on exit, even after an error.
    """

    kind = "abstract"

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def run(self, plans: Iterable[SessionPlan]) -> Iterator[SessionRecord]:
        """Records of `plans`, in their order, while at most a few batches are in flight."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Stop the workers."""


class OrderedBatches(Generic[Handle]):
    """Submits batches while fewer than `in_flight` are pending and yields results oldest first.

    The same loop serves the process pool (futures) and Ray (object refs): `submit` starts a batch
    and returns a handle, `collect` waits for one handle's records.
    """

    def __init__(
        self,
        submit: Callable[[list[SessionPlan]], Handle],
        collect: Callable[[Handle], list[SessionRecord]],
        *,
        batch: int,
        in_flight: int,
    ) -> None:
        self.submit, self.collect = submit, collect
        self.batch, self.in_flight = max(1, batch), max(1, in_flight)

    def run(self, plans: Iterable[SessionPlan]) -> Iterator[SessionRecord]:
        pending: deque[Handle] = deque()
        batches = batched(plans, self.batch)
        for chunk in batches:
            pending.append(self.submit(chunk))
            if len(pending) >= self.in_flight:
                yield from self.collect(pending.popleft())
        while pending:
            yield from self.collect(pending.popleft())
