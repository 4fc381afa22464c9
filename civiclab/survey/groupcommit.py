"""Group commit: submissions that arrive together are stored together, in one transaction.

At a consultation's peak hundreds of participants press "send" in the same second. Committing each
answer on its own costs a transaction, a round trip and (on PostgreSQL) a WAL flush per answer; here
a submission joins a queue, and a writer takes everything waiting (up to `max_batch`) and stores it in
one transaction while the next batch gathers. A participant's answer is confirmed only after the
transaction holding it has committed: a 303 is always a stored response.

No task outlives the queue's work: a writer is started when something waits and no writer is free,
and it stops when the queue is empty, so the queue works on whichever event loop calls it (a server's,
or a test client's loop per request).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")

WriteBatch = Callable[[list[Item]], Awaitable[list[Outcome]]]


class GroupCommit(Generic[Item, Outcome]):
    """Queue items and store them in batches through `write` (one outcome per item, in order).

    Args:
        write: stores a batch in one transaction and returns each item's outcome; an exception
            fails every item of that batch (none of it was stored).
        writers: batches in flight at once (transactions open at once, per process).
        max_batch: the most items one transaction stores.
    """

    def __init__(self, write: WriteBatch[Item, Outcome], *, writers: int = 2, max_batch: int = 256) -> None:
        if writers < 1 or max_batch < 1:
            raise ValueError("writers and max_batch must be at least 1")
        self._write = write
        self.writers = writers
        self.max_batch = max_batch
        self._waiting: list[tuple[Item, asyncio.Future[Outcome]]] = []
        self._running: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.batches = 0  # transactions committed or failed, for figures and tests
        self.largest = 0

    async def submit(self, item: Item) -> Outcome:
        """Store `item` with whatever else is waiting; returns its outcome once its batch committed."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (a test client's): nothing of the old one can run again
            self._loop, self._waiting, self._running = loop, [], set()
        future: asyncio.Future[Outcome] = loop.create_future()
        self._waiting.append((item, future))
        if len(self._running) < self.writers:
            task = loop.create_task(self._drain())
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch = self._waiting[: self.max_batch]
            del self._waiting[: self.max_batch]
            self.batches += 1
            self.largest = max(self.largest, len(batch))
            try:
                outcomes = await self._write([item for item, _ in batch])
                if len(outcomes) != len(batch):
                    raise RuntimeError(f"a batch of {len(batch)} got {len(outcomes)} outcomes")
            except asyncio.CancelledError:
                for _, future in batch:
                    future.cancel()
                raise
            except Exception as exc:  # noqa: BLE001 - handed to every submitter of the batch
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if not future.done():
                    future.set_result(outcome)
